"""The real WSGI app (``create_wsgi_app``: Falcon behind WhiteNoise) built by the real
composition root with in-memory fakes for every port, driven in-process through
``falcon.testing``: HTTP behaviour that needs no database and no server process, once,
in milliseconds.

``Client`` and ``World`` speak as tests/integration/conftest.py's do (``requests``-style
keyword arguments, ``resp.json()``), so a test moves here from there unchanged.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import punq
from falcon import testing
from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.http import create_wsgi_app
from movierater_entrypoints.settings import Settings

from movierater_core.ports import Clock, Database, ImageInspector, ImageStorage, PasswordHasher, TokenIssuer
from movierater_core.use_cases import Accounts
from tests.unit.fakes import (
    CountingTokenIssuer,
    FakeHasher,
    FakeInspector,
    FakeStorage,
    FixedClock,
    InMemoryDatabase,
)
from tests.world import World

USER_PASSWORD = "user-passphrase-1"
ADMIN_PASSWORD = "admin-passphrase-1"
_names = itertools.count()


class Response:
    """A ``falcon.testing.Result`` that reads like a ``requests.Response``."""

    def __init__(self, result: testing.Result) -> None:
        self.status_code = result.status_code
        self.headers = result.headers  # case-insensitive, as requests' are
        self.text = result.text
        self.content = result.content

    def json(self) -> Any:
        return json.loads(self.text)


class Client:
    """Requests to the in-process app, optionally with ``Authorization: Token <key>``."""

    def __init__(self, app: testing.TestClient, token: str | None = None, user_id: int | None = None) -> None:
        self.app = app
        self.token = token
        self.user_id = user_id

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Token {self.token}"
        body: bytes | None = None
        if data is not None:
            body = data.encode() if isinstance(data, str) else data
        elif json is not None:  # as requests sends json=
            body = _dumps(json)
            headers.setdefault("Content-Type", "application/json")
        return Response(self.app.simulate_request(method, path, headers=headers, body=body))

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


@dataclass
class App:
    """The app over fresh fakes: ``anon`` is a client without a token."""

    anon: Client
    accounts: Accounts
    db: InMemoryDatabase


def fake_container(settings: Settings | None = None) -> tuple[punq.Container, InMemoryDatabase]:
    """The production composition root with every port given a fake, and its database."""
    db, clock = InMemoryDatabase(), FixedClock()
    container = build_container(
        settings or Settings(),
        overrides={
            Database: db,
            PasswordHasher: FakeHasher(),
            TokenIssuer: CountingTokenIssuer(),
            Clock: clock,
            ImageStorage: FakeStorage(clock),
            ImageInspector: FakeInspector(),
        },
    )
    return container, db


def make_app(settings: Settings | None = None) -> App:
    container, db = fake_container(settings)
    client = testing.TestClient(create_wsgi_app(container))
    return App(Client(client), container.resolve(Accounts), db)


def sign_up(app: App, username: str | None = None, password: str = USER_PASSWORD) -> Client:
    """Register through the API, log in, and return a client carrying the token."""
    username = username or f"user{next(_names)}"
    created = app.anon.post("/api/users/", json={"username": username, "password": password})
    assert created.status_code == 201, created.text
    return _logged_in(app, username, password, created.json()["id"])


def make_admin(app: App) -> Client:
    """An admin made as the CLI's createsuperuser makes one, logged in through the API."""
    name = f"admin{next(_names)}"
    admin = app.accounts.register({"username": name, "password": ADMIN_PASSWORD}, is_admin=True)
    return _logged_in(app, name, ADMIN_PASSWORD, admin.id)


def _logged_in(app: App, username: str, password: str, user_id: int) -> Client:
    login = app.anon.post("/auth/", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    return Client(app.anon.app, login.json()["token"], user_id)


def make_world() -> World:
    app = make_app()
    admin = make_admin(app)
    user, other_user = sign_up(app), sign_up(app)
    created = admin.post("/api/movies/", json={"title": "Fixture", "description": "shared"})
    assert created.status_code == 201, created.text
    return World(app.anon, user, other_user, admin, created.json()["id"])
