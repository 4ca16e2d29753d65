"""Token authentication, as DRF's TokenAuthentication reads the Authorization header."""

from __future__ import annotations

import falcon

from movierater_core.errors import NotAuthenticated
from movierater_core.use_cases import Accounts

KEYWORDS = ("token", "bearer")  # ``Token <key>`` as the original; ``Bearer <key>`` too


def presented_key(req: falcon.Request) -> str | None:
    """The key in ``Authorization: Token <key>``; None when no token was presented."""
    header = req.get_header("Authorization")
    if not header:
        return None
    parts = header.split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None  # another scheme: not ours, so no credentials (as DRF)
    if len(parts) == 1:
        raise NotAuthenticated("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise NotAuthenticated("Invalid token header. Token string should not contain spaces.")
    return parts[1]


class Authentication:
    """Falcon middleware: puts the signed-in user on ``req.context.user``.

    Resources list the methods anyone may call in ``public_methods``; every other
    method needs a valid token. CORS preflights (OPTIONS) never need one. A method in a
    resource's ``token_checked_by_use_case`` gets only ``req.context.token_key`` (a key
    was presented): its use case checks the token, in one read with its data.
    """

    def __init__(self, accounts: Accounts) -> None:
        self._accounts = accounts

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, object]
    ) -> None:
        req.context.user = None
        req.context.token_key = None
        if resource is None or req.method == "OPTIONS":
            return
        if not hasattr(resource, f"on_{req.method.lower()}"):
            return  # Falcon answers 405 for a method the route lacks, as DRF does
        if req.method in getattr(resource, "public_methods", ()):
            return
        key = presented_key(req)
        if key is None:
            raise NotAuthenticated()
        req.context.token_key = key
        if req.method in getattr(resource, "token_checked_by_use_case", ()):
            return
        req.context.user = self._accounts.authenticate(key)
