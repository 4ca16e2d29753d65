"""Probes for orchestrators and load balancers: ``/healthz`` (the process answers) and
``/readyz`` (its database and storage answer too). Public, and cheap: no token, no body."""

from __future__ import annotations

import falcon
from movierater_entrypoints.http.io import send
from movierater_entrypoints.http.spec import Documented, ok, operation, ref, schema_ref

from movierater_core.use_cases import Health


class Liveness(Documented):
    """``GET /healthz``: 200 while the process can answer at all; touches nothing else, so a
    database outage never gets healthy instances restarted."""

    public_methods = ("GET",)
    quiet_when_ok = True  # probes come every few seconds: only failures reach the access log

    @operation(
        "liveness",
        "Liveness probe: the process answers (touches no database)",
        {"200": ok(schema_ref("Liveness"), "Alive.")},
        tag="operations",
        uses_database=False,
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.cache_control = ["no-store"]
        send(resp, {"status": "ok"})


class Readiness(Documented):
    """``GET /readyz``: 200 when every dependency answers; 503 with Retry-After naming the
    ones that do not, so that a load balancer sends this instance no traffic meanwhile."""

    public_methods = ("GET",)
    quiet_when_ok = True

    def __init__(self, health: Health) -> None:
        self._health = health

    @operation(
        "readiness",
        "Readiness probe: the database (SELECT 1) and the image storage answer",
        {
            "200": ok(schema_ref("Readiness"), "Ready: every check is ok."),
            "503": ref("responses", "NotReady"),
        },
        tag="operations",
        uses_database=False,
    )
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
