"""Cross-cutting HTTP concerns: request ids and the access log, security headers, HTTPS."""

from __future__ import annotations

import ipaddress
import os
import re
import time
from urllib.parse import quote

import falcon
import orjson

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000; includeSubDomains"


class AccessLog:
    """Writes one JSON line per request to a file descriptor (stderr by default).

    Written straight to the descriptor, not through :mod:`logging`: on the hot path the
    logging machinery cost as much as serving a movie.
    """

    def __init__(self, fd: int | None = 2) -> None:
        self._fd = fd

    def write(self, entry: dict[str, object]) -> None:
        if self._fd is not None:
            os.write(self._fd, orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))


class RequestEnvelope:
    """Every request gets an id (a client's own ``X-Request-ID`` when well-formed), every
    response the security headers and that id, and the access log one line: method,
    route template (not the path: ids and signed query strings stay out), status and
    duration, never a header, body, token or password (resources marked ``quiet_when_ok``,
    the health probes, are logged only when they fail). ``req.context.client`` is the
    caller's address, for the abuse limits. With ``https_only`` (behind a
    TLS-terminating proxy that sets X-Forwarded-Proto) plain HTTP is redirected and HSTS
    is sent."""

    def __init__(self, log: AccessLog, *, https_only: bool, trusted_proxies: tuple[str, ...] = ()) -> None:
        self._log = log
        self._https_only = https_only
        # Addresses or networks (settings.py checked them); an address is a network of one.
        self._trusted = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in trusted_proxies)
        self._headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if https_only else {})}

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        req.context.client = self._client_address(req)
        incoming = req.get_header("X-Request-ID")
        req.context.request_id = (
            incoming if incoming and _REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        )
        if self._https_only and req.forwarded_scheme == "http":
            # From the raw path: Falcon's req.path has lost the trailing slash by now.
            path = quote(req.env.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
            query = f"?{req.query_string}" if req.query_string else ""
            raise falcon.HTTPPermanentRedirect(f"https://{req.forwarded_host}{path}{query}")

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_headers(self._headers)
        resp.set_header("X-Request-ID", req.context.request_id)
        if resp.status_code < 400 and getattr(resource, "quiet_when_ok", False):
            return  # a probe that succeeded: not worth a line every few seconds
        self._log.write(
            {
                "request_id": req.context.request_id,
                "method": req.method,
                "route": req.uri_template or "(no route)",
                "status": resp.status_code,
                "duration_ms": round((time.perf_counter() - req.context.started) * 1000, 2),
                "remote_addr": req.context.client,
            }
        )

    def _client_address(self, req: falcon.Request) -> str:
        """The caller's address: behind trusted proxies, the nearest untrusted hop of
        X-Forwarded-For (an untrusted caller cannot choose its address this way)."""
        address = req.remote_addr or ""
        if self._is_trusted(address):
            hops = [hop.strip() for hop in (req.get_header("X-Forwarded-For") or "").split(",")]
            for hop in reversed(hops):
                if hop and not self._is_trusted(hop):
                    return hop
        return address

    def _is_trusted(self, address: str) -> bool:
        """Whether ``address`` is in a trusted proxy's network; anything that is not an IP
        address (a forged hop, say) is not."""
        if not self._trusted:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)
