"""The caller's address behind trusted proxies, given as addresses or as networks (a
PaaS's front ends: Azure's and Heroku's routers come from ranges, not fixed addresses)."""

from __future__ import annotations

import pytest
from falcon import testing
from movierater_entrypoints.http.middleware import AccessLog, RequestEnvelope


def _client(trusted: tuple[str, ...], remote: str, forwarded: str | None = None) -> str:
    envelope = RequestEnvelope(AccessLog(None), https_only=False, trusted_proxies=trusted)
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    req = testing.create_req(remote_addr=remote, headers=headers)
    envelope.process_request(req, None)  # type: ignore[arg-type]  # the response is not used
    return str(req.context.client)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "client"),
    [
        # an address, as before
        (("10.0.0.1",), "10.0.0.1", "203.0.113.7", "203.0.113.7"),
        (("10.0.0.1",), "10.0.0.2", "203.0.113.7", "10.0.0.2"),
        # a network: any proxy in it
        (("10.0.0.0/8",), "10.20.30.40", "203.0.113.7", "203.0.113.7"),
        (("10.0.0.0/8",), "11.0.0.1", "203.0.113.7", "11.0.0.1"),
        (("2001:db8::/32",), "2001:db8::5", "198.51.100.9", "198.51.100.9"),
        # hops inside the trusted network are skipped; the nearest untrusted one counts
        (("10.0.0.0/8",), "10.0.0.1", "198.51.100.9, 203.0.113.7, 10.3.3.3", "203.0.113.7"),
        # a forged hop that is not an address is untrusted, so it is the client (as before)
        (("10.0.0.0/8",), "10.0.0.1", "10.0.0.0/8", "10.0.0.0/8"),
        # nothing trusted: the peer's address, whatever the header says
        ((), "203.0.113.7", "10.0.0.1", "203.0.113.7"),
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(
    trusted: tuple[str, ...], remote: str, forwarded: str, client: str
) -> None:
    assert _client(trusted, remote, forwarded) == client
