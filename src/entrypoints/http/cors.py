"""CORS beyond Falcon's middleware (which app.py configures): ``Vary: Origin``."""

from __future__ import annotations

import falcon


class VaryOrigin:
    """Whether an answer carries ``Access-Control-Allow-Origin`` depends on the request's
    ``Origin``: without ``Vary: Origin`` a shared cache could give one origin's answer to
    another (with the allowed origin's header, or without it). Every answer says so, as an
    answer to a request without ``Origin`` can be cached too."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        vary = resp.get_header("Vary") or ""
        if "origin" not in {part.strip().lower() for part in vary.split(",")}:
            resp.append_header("Vary", "Origin")
