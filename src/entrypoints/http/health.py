"""Probes for orchestrators and load balancers: ``/healthz`` (the process answers) and
``/readyz`` (its database and storage answer too). Public, and cheap: no token, no body."""

from __future__ import annotations

import falcon

from entrypoints.http.io import send
from movierater_core.use_cases import Health


class Liveness:
    """``GET /healthz``: 200 while the process can answer at all; touches nothing else, so a
    database outage never gets healthy instances restarted."""

    public_methods = ("GET",)
    quiet_when_ok = True  # probes come every few seconds: only failures reach the access log

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.cache_control = ["no-store"]
        send(resp, {"status": "ok"})


class Readiness:
    """``GET /readyz``: 200 when every dependency answers; 503 with Retry-After naming the
    ones that do not, so that a load balancer sends this instance no traffic meanwhile."""

    public_methods = ("GET",)
    quiet_when_ok = True

    def __init__(self, health: Health) -> None:
        self._health = health

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        checks = self._health.readiness()
        resp.cache_control = ["no-store"]
        details = {
            c.name: {"status": "ok"} if c.ok else {"status": "unavailable", "detail": c.detail}
            for c in checks
        }
        failing = [c for c in checks if not c.ok]
        if not failing:
            send(resp, {"status": "ok", "checks": details})
            return
        resp.set_header("Retry-After", str(max(c.retry_after for c in failing)))
        names = ", ".join(c.name for c in failing)
        send(resp, {"status": "unavailable", "detail": f"Not ready: {names}.", "checks": details}, 503)
