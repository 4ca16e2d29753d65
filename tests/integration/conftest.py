"""Integration fixtures: a real database per backend, migrated by the real CLI, and the
real app served by gunicorn (2 workers) on a free local port."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import (
    attempt_locks,
    attempts,
    images,
    legacy_imports,
    movies,
    ratings,
    tokens,
    upload_grants,
    users,
)
from movierater_entrypoints.bootstrap import services
from movierater_entrypoints.settings import Settings
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, delete
from urllib3.util.retry import Retry

from movierater_core.use_cases import SYSTEM
from tests.integration.backends import fresh_database, selected_backends
from tests.integration.django_reference import DjangoDatabase, make_django_database
from tests.world import CHEAP_PASSWORD_HASHING, World

MOVIERATER = [sys.executable, "-m", "movierater_entrypoints.cli"]
ADMIN_PASSWORD = "admin-passphrase-1"
USER_PASSWORD = "user-passphrase-1"


def run_cli(
    *args: str, env: dict[str, str], check: bool = True, **kw: Any
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*MOVIERATER, *args],
        env={**os.environ, **CHEAP_PASSWORD_HASHING, **env},
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"movierater {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment_without_settings(*drop: str) -> dict[str, str]:
    """This process's environment without any MOVIERATER_ setting (nor the variables in
    ``drop``): a process started with it sees only the settings a test gives it."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MOVIERATER_") and k not in drop}


def wait_for_http(url: str, process: subprocess.Popen[Any], log: Path, timeout: float = 30) -> None:
    """Until ``url`` answers at all; fails with the process's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{log.read_text()}")
        try:
            requests.get(url, timeout=5, allow_redirects=False)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


class Server:
    """One ``movierater serve`` process (gunicorn) and the database it uses."""

    def __init__(
        self, database_url: str | None, workdir: Path, workers: int = 2, start_timeout: float = 30, **env: str
    ) -> None:
        """``database_url=None`` leaves MOVIERATER_DATABASE_URL unset: the embedded default.
        ``start_timeout``: more for many workers (each imports the app) on a busy machine."""
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {"MOVIERATER_DATABASE_URL": database_url} if database_url else {}
        # Every test signs up and logs in from 127.0.0.1: the per-address limits would
        # throttle the suite itself. test_abuse_limits.py runs servers with the defaults.
        self.env.update(
            {
                "MOVIERATER_REGISTRATIONS_PER_ADDRESS": "1000000",
                "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS": "1000000",
                # Scores with the catalogue's mean as it is now, so that a test can check
                # them right after its own ratings (the default keeps it 60 s per process).
                "MOVIERATER_SCORE_MEAN_MAX_AGE": "0",
                **CHEAP_PASSWORD_HASHING,
            }
        )
        self.env.update(env)
        inherited = environment_without_settings()
        self.log = workdir / f"server-{self.port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*MOVIERATER, "serve", "--port", str(self.port), "--workers", str(workers)],
                env={**inherited, **self.env},
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_until_up(start_timeout)

    def wait_until_up(self, timeout: float = 30) -> None:
        wait_for_http(self.base_url + "/api/movies/", self.process, self.log, timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# A kept-alive connection that the server closes (its keep-alive timeout ran out) just as
# a request goes out on it ends in "Remote end closed connection without response" (seen
# once in CI). Browsers send an idempotent request again then; so does the client, once,
# and only a read: a write sent again could hide what the first one did.
RESEND_A_READ_ONCE = Retry(
    total=1,
    connect=0,
    read=1,
    status=0,
    other=0,
    allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
    # A 503 with Retry-After is an answer the tests check, not a reason to send again.
    respect_retry_after_header=False,
    raise_on_status=False,
)


class Client:
    """requests against the server, optionally with ``Authorization: Token <key>``."""

    def __init__(self, base_url: str, token: str | None = None, user_id: int | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.user_id = user_id
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=RESEND_A_READ_ONCE))

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Token {self.token}"
        return self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture(scope="session", params=selected_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(backend, tmp_path_factory.mktemp(backend)) as url:
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        yield url


@pytest.fixture(scope="session")
def server(database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(database_url, tmp_path_factory.mktemp(f"{backend}-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Any]:
    eng = create_engine(database_url, pool_pre_ping=True)  # survives the outage test
    yield eng
    eng.dispose()


def wipe(engine: Any) -> None:
    with engine.begin() as conn:
        for table in (
            legacy_imports,
            tokens,
            ratings,
            upload_grants,
            images,
            attempts,
            attempt_locks,
            movies,
            users,
        ):
            conn.execute(delete(table))


_names = itertools.count()


@pytest.fixture
def api(server: Server, engine: Any) -> Client:
    """An anonymous client against an emptied database."""
    wipe(engine)
    return Client(server.base_url)


def sign_up(base_url: str, username: str | None = None, password: str = USER_PASSWORD) -> Client:
    """Register through the API, log in, and return a client carrying the token."""
    username = username or f"user{next(_names)}"
    created = requests.post(
        base_url + "/api/users/", json={"username": username, "password": password}, timeout=30
    )
    assert created.status_code == 201, created.text
    login = requests.post(base_url + "/auth/", json={"username": username, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    return Client(base_url, login.json()["token"], created.json()["id"])


@pytest.fixture
def user(api: Client) -> Client:
    return sign_up(api.base_url)


@pytest.fixture
def other_user(api: Client) -> Client:
    return sign_up(api.base_url)


def make_admin(server: Server, name: str | None = None) -> Client:
    """An admin made as ``movierater createsuperuser`` makes one (``UserAdmin.create_user``
    on the server's settings), in this process: a CLI run per admin cost the suite about a
    second of CPU each (test_admin_cli.py runs the command itself). Logged in through the API."""
    name = name or f"admin{next(_names)}"
    made = services(Settings.from_env(server.env, warn_unknown=False))
    try:
        made.user_admin.create_user(SYSTEM, name, ADMIN_PASSWORD, is_admin=True)
    finally:
        made.close()
    login = requests.post(
        server.base_url + "/auth/", json={"username": name, "password": ADMIN_PASSWORD}, timeout=30
    )
    assert login.status_code == 200, login.text
    admin = Client(server.base_url, login.json()["token"])
    admin.user_id = next(u["id"] for u in admin.get("/api/users/").json() if u["username"] == name)
    return admin


@pytest.fixture
def admin(api: Client, server: Server) -> Client:
    return make_admin(server)


@pytest.fixture
def movie(admin: Client) -> dict[str, Any]:
    created = admin.post("/api/movies/", json={"title": "Alien", "description": "In space."})
    assert created.status_code == 201, created.text
    return dict(created.json())


# ---- a shared world: one admin, two users and a movie per server, reused across tests
# (each test makes its own movies) to keep argon2 hashing off the suite's critical path.


_worlds: dict[str, World] = {}


@pytest.fixture
def world(server: Server) -> World:
    cached = _worlds.get(server.base_url)
    if cached is not None and cached.alive():
        return cached
    admin = make_admin(server, f"world-admin{next(_names)}")
    user = sign_up(server.base_url, f"world-user{next(_names)}")
    other_user = sign_up(server.base_url, f"world-user{next(_names)}")
    created = admin.post("/api/movies/", json={"title": "Fixture", "description": "shared"})
    assert created.status_code == 201, created.text
    _worlds[server.base_url] = World(Client(server.base_url), user, other_user, admin, created.json()["id"])
    return _worlds[server.base_url]


@pytest.fixture(scope="session")
def django_db(tmp_path_factory: pytest.TempPathFactory) -> DjangoDatabase:
    """A database of the Django original, made by Django itself (see django_reference.py)."""
    return make_django_database(tmp_path_factory.mktemp("django"))
