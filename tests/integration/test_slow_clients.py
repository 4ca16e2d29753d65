"""Slow clients cost a connection, not a worker (issue 12, item 4): clients that send
their headers or a declared body at one byte a second delay nobody else, and a request
that has not arrived whole within MOVIERATER_REQUEST_TIMEOUT gets 408 and is closed.
Real sockets against gunicorn, as `movierater serve` and the Procfile start it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import (
    MOVIERATER,
    Client,
    Server,
    free_port,
    make_admin,
    sign_up,
    wait_for_http,
)
from tests.integration.test_deployment import ROOT, _gunicorn, _platform_env, _procfile

# Their bounds (an answer within 1 s, a 408 at the deadline) are latencies: run alone.
pytestmark = pytest.mark.exclusive

REQUEST_TIMEOUT = 8  # seconds: long enough to measure others while the slow ones trickle
SLACK = 2.5  # seconds past the bound a loaded machine may take to close a connection
ANSWER_WITHIN = 1.0  # what a slow client may cost anyone else, at most


class Trickler(threading.Thread):
    """A client that sends ``at_once``, then ``slowly`` one byte a second, reading all the
    while: what the server answered, and how long after connecting it closed."""

    def __init__(self, port: int, at_once: bytes = b"", slowly: bytes = b"") -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.connected = time.monotonic()
        self.at_once, self.slowly = at_once, slowly
        self.received = b""
        self.closed_after: float | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.sock.sendall(self.at_once)
            left = self.slowly
            while self.closed_after is None and not self.done.is_set():
                if left:
                    self.sock.sendall(left[:1])
                    left = left[1:]
                self._read_for(1.0)
        except OSError:
            self._closed()
        finally:
            self.sock.close()

    def _read_for(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while time.monotonic() < until and self.closed_after is None:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            if not data:
                self._closed()
            self.received += data

    def _closed(self) -> None:
        if self.closed_after is None:
            self.closed_after = time.monotonic() - self.connected


def header_tricklers(port: int, count: int) -> list[Trickler]:
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 100 + b"\r\n\r\n"
    return [Trickler(port, slowly=request) for _ in range(count)]


def body_tricklers(port: int, count: int, token: str, movie_id: int) -> list[Trickler]:
    body = b'{"stars": 4}'.ljust(100)
    headers = (
        f"POST /api/movies/{movie_id}/rate_movie/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return [Trickler(port, at_once=headers, slowly=body) for _ in range(count)]


def timed(method: str, url: str, **kw: Any) -> tuple[float, requests.Response]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=5, **kw)
    return time.monotonic() - started, response


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """On the embedded SQLite database, alone: what is measured here is gunicorn's worker
    (worker.py), which holds a slow request before any database sees it, so the tests run
    once rather than once per backend (they wait out the bound: about 20 s each time)."""
    workdir = tmp_path_factory.mktemp("slow")
    srv = Server(
        f"sqlite:///{workdir / 'slow.db'}",
        workdir,
        MOVIERATER_REQUEST_TIMEOUT=str(REQUEST_TIMEOUT),
        MOVIERATER_ACCESS_LOG="0",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def reader_and_movie(slow_server: Server) -> tuple[Client, int]:
    admin = make_admin(slow_server)
    created = admin.post("/api/movies/", json={"title": "Slow", "description": "Clients."})
    assert created.status_code == 201, created.text
    return sign_up(slow_server.base_url), int(created.json()["id"])


def test_trickling_clients_delay_no_one_and_are_closed_with_408_at_the_bound(
    slow_server: Server, reader_and_movie: tuple[Client, int]
) -> None:
    """Four clients trickle headers and four a declared body, at a byte a second, and one
    sends nothing, against the default two workers: /healthz and a movie detail still
    answer within a second each, and each slow client gets 408 and is closed once its
    request has not arrived whole within MOVIERATER_REQUEST_TIMEOUT."""
    reader, movie_id = reader_and_movie
    assert reader.token is not None
    auth = {"Authorization": f"Token {reader.token}"}
    slow = [
        *header_tricklers(slow_server.port, 4),
        *body_tricklers(slow_server.port, 4, reader.token, movie_id),
        Trickler(slow_server.port),  # opens a connection and sends nothing
    ]
    for client in slow:
        client.start()
    try:
        time.sleep(1.5)  # every slow client is connected and part-way through its request
        slowest = {"/healthz": 0.0, f"/api/movies/{movie_id}/": 0.0}
        while time.monotonic() - slow[0].connected < REQUEST_TIMEOUT - 1.5:
            for path in slowest:
                took, answer = timed("GET", slow_server.base_url + path, headers=auth)
                assert answer.status_code == 200, answer.text
                slowest[path] = max(slowest[path], took)
        assert all(took < ANSWER_WITHIN for took in slowest.values()), slowest
        assert all(client.closed_after is None for client in slow), "still trickling while measured"

        for client in slow:
            client.join(REQUEST_TIMEOUT + SLACK + 1)
            assert client.closed_after is not None, "a slow client is closed at the bound"
            closed = client.closed_after
            assert REQUEST_TIMEOUT - 0.5 <= closed <= REQUEST_TIMEOUT + SLACK, closed
            assert client.received.startswith(b"HTTP/1.1 408 "), client.received
    finally:
        for client in slow:
            client.done.set()
    # the trickled ratings never reached the app
    assert reader.get(f"/api/movies/{movie_id}/").json()["no_of_ratings"] == 0


def test_kept_alive_connection_serves_request_after_request_past_the_bound(
    slow_server: Server, reader_and_movie: tuple[Client, int]
) -> None:
    """The bound is on each request, from its first byte: one connection, used for longer
    than MOVIERATER_REQUEST_TIMEOUT by requests that each arrive whole, stays served."""
    reader, movie_id = reader_and_movie
    body = b'{"stars": 5}'
    request = (
        f"POST /api/movies/{movie_id}/rate_movie/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {reader.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        stream = sock.makefile("rb")
        started = time.monotonic()
        answered = 0
        while time.monotonic() - started < REQUEST_TIMEOUT + 2:
            sock.sendall(request)
            time.sleep(0.5)  # the body comes later, well within the bound
            sock.sendall(body)
            status = stream.readline()
            assert status.startswith(b"HTTP/1.1 200 "), status
            length = 0
            while (line := stream.readline()) != b"\r\n":
                name, _, value = line.decode().partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert b"Rating" in stream.read(length)
            answered += 1
            time.sleep(1.0)  # idle, under gunicorn's keep-alive
    assert answered >= 6

    # and ordinary keep-alive clients (a requests.Session reuses its connection)
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token {reader.token}"
        for _ in range(5):
            assert session.get(f"{slow_server.base_url}/api/movies/{movie_id}/", timeout=5).status_code == 200


def test_procfile_web_is_not_delayed_by_trickling_clients(tmp_path: Path) -> None:
    """The Procfile's web process (gunicorn.conf.py) runs the same worker."""
    port = free_port()
    env = _platform_env(tmp_path, PORT=str(port), WEB_CONCURRENCY="2", MOVIERATER_REQUEST_TIMEOUT="4")
    release = subprocess.run(
        _procfile()["release"], shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert release.returncode == 0, release.stderr
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            _procfile()["web"], shell=True, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/healthz", web, log_path)
        slow = [*header_tricklers(port, 4), Trickler(port)]
        for client in slow:
            client.start()
        time.sleep(1.5)
        for _ in range(5):
            took, answer = timed("GET", base + "/healthz")
            assert answer.status_code == 200 and took < ANSWER_WITHIN, took
        for client in slow:
            client.join(4 + SLACK + 1)
            assert client.closed_after is not None and client.closed_after <= 4 + SLACK
            assert client.received.startswith(b"HTTP/1.1 408 "), client.received
    finally:
        os.kill(_gunicorn(web.pid), signal.SIGTERM)
        web.wait(timeout=25)
    assert web.returncode == 0, log_path.read_text()


def test_a_body_declared_over_every_limit_is_refused_at_once_without_being_read(
    slow_server: Server, reader_and_movie: tuple[Client, int]
) -> None:
    """Nothing is buffered for a body no route takes: 413 from its Content-Length, then the
    connection is closed (its body would be read as the next request)."""
    reader, movie_id = reader_and_movie
    headers = (
        f"POST /api/movies/{movie_id}/rate_movie/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {reader.token}\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000000\r\n\r\n{"
    ).encode()
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(headers)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        assert time.monotonic() - started < ANSWER_WITHIN
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"larger than 1 MiB" in answer


def test_a_request_stuck_in_the_app_past_gunicorns_timeout_still_gets_the_worker_replaced(
    tmp_path: Path,
) -> None:
    """As with sync workers: the worker's event loop would go on beating while its app
    thread is stuck, so it withholds the heartbeat, and gunicorn kills and replaces it.
    Stuck here: a rating waits for SQLite's write lock (up to MOVIERATER_DB_TIMEOUT, 10 s),
    held by this test, past a gunicorn timeout of 2 s."""
    port = free_port()
    env = _platform_env(
        tmp_path, PORT=str(port), WEB_CONCURRENCY="1", GUNICORN_TIMEOUT="2", MOVIERATER_DB_TIMEOUT="10"
    )
    assert subprocess.run(_procfile()["release"], shell=True, cwd=ROOT, env=env, timeout=120).returncode == 0
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "web.log"
    with log_path.open("w") as log:
        web = subprocess.Popen(
            _procfile()["web"], shell=True, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_http(base + "/healthz", web, log_path)
        user = sign_up(base)
        created = subprocess.run(
            [*MOVIERATER, "createsuperuser", "--username", "boss", "--noinput"],
            env={**env, "MOVIERATER_SUPERUSER_PASSWORD": "admin-passphrase-1"},
            capture_output=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        token = requests.post(
            base + "/auth/", json={"username": "boss", "password": "admin-passphrase-1"}, timeout=10
        ).json()["token"]
        movie = requests.post(
            base + "/api/movies/",
            json={"title": "Stuck", "description": "."},
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        ).json()
        lock = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            started = time.monotonic()
            with pytest.raises(requests.ConnectionError):  # the worker is killed mid-request
                requests.post(
                    f"{base}/api/movies/{movie['id']}/rate_movie/",
                    json={"stars": 3},
                    headers={"Authorization": f"Token {user.token}"},
                    timeout=9,
                )
            assert time.monotonic() - started < 8
        finally:
            lock.rollback()
            lock.close()
        assert "WORKER TIMEOUT" in log_path.read_text()
        wait_for_http(base + "/healthz", web, log_path)  # a new worker serves
        assert requests.get(base + "/healthz", timeout=5).status_code == 200
    finally:
        os.kill(_gunicorn(web.pid), signal.SIGTERM)
        web.wait(timeout=25)
