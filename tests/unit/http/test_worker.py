"""The worker's buffer in front of the WSGI app (src/entrypoints/worker.py), in-process on
ASGI messages: the app sees only whole requests, with the environ gunicorn's WSGI workers
give it. Its deadline and its connections are tested through gunicorn, in
tests/integration/test_slow_clients.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from movierater_entrypoints.worker import BUFFERED_BODY_LIMIT, BufferedWsgi


class Recorder:
    """A WSGI app that keeps the environ and body it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls.append((environ, environ["wsgi.input"].read()))
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-Two", "2")])
        return [b"made", b" it"]


def scope(headers: list[tuple[bytes, bytes]] | None = None, raw_path: bytes = b"/api/x/") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": raw_path.decode(),
        "raw_path": raw_path,
        "query_string": b"movie=1",
        "root_path": "",
        "http_version": "1.1",
        "scheme": "https",
        "server": ("127.0.0.1", 8000),
        "client": ("10.0.0.9", 50000),
        "headers": headers or [],
    }


def serve(app: Recorder, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if not pending:
            raise AssertionError("the buffer read past the end of the request")
        return pending.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with ThreadPoolExecutor(max_workers=1) as executor:
        asyncio.run(BufferedWsgi(app, executor)(scope, receive, send))
    return sent


def test_the_app_gets_the_whole_body_and_the_environ_gunicorn_gives() -> None:
    app = Recorder()
    headers = [
        (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked"),
        (b"x-forwarded-for", b"1.1.1.1"),
        (b"x-forwarded-for", b"2.2.2.2"),
        (b"authorization", b"Token abc"),
    ]
    sent = serve(
        app,
        scope(headers, raw_path=b"/api/movies/%31/"),
        [
            {"type": "http.request", "body": b'{"st', "more_body": True},
            {"type": "http.request", "body": b'ars": 4}', "more_body": False},
        ],
    )
    [(environ, body)] = app.calls
    assert body == b'{"stars": 4}'
    assert environ["wsgi.input_terminated"] is True  # a chunked body may be read to its end
    assert environ["PATH_INFO"] == "/api/movies/1/"  # percent-decoded, as gunicorn does
    assert environ["QUERY_STRING"] == "movie=1"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["HTTP_X_FORWARDED_FOR"] == "1.1.1.1,2.2.2.2"  # repeated fields joined
    assert environ["HTTP_AUTHORIZATION"] == "Token abc"
    assert environ["REMOTE_ADDR"] == "10.0.0.9" and environ["wsgi.url_scheme"] == "https"
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain"), (b"x-two", b"2")],
        },
        {"type": "http.response.body", "body": b"made it"},
    ]


def test_a_client_gone_before_its_request_is_whole_never_reaches_the_app() -> None:
    app = Recorder()
    sent = serve(
        app,
        scope([(b"content-length", b"100")]),
        [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}],
    )
    assert app.calls == [] and sent == []


@pytest.mark.parametrize("declared", [BUFFERED_BODY_LIMIT + 1, 10**12])
def test_a_body_declared_over_the_limit_is_not_read(declared: int) -> None:
    """The app answers 413 from the Content-Length; nothing is buffered first."""
    app = Recorder()
    serve(app, scope([(b"content-length", str(declared).encode())]), [])
    [(environ, body)] = app.calls
    assert environ["CONTENT_LENGTH"] == str(declared) and body == b""


def test_a_chunked_body_is_buffered_only_to_the_limit() -> None:
    """The limit is one byte past the largest body a route takes: the app sees it is too long."""
    app = Recorder()
    piece = {"type": "http.request", "body": b"x" * (1024 * 1024), "more_body": True}
    serve(app, scope([(b"transfer-encoding", b"chunked")]), [piece] * 7)  # 7 MiB offered
    [(_, body)] = app.calls
    assert len(body) == BUFFERED_BODY_LIMIT


class Order:
    """A WSGI app that records the path and query of each request in the order it runs them."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.ran.append(
            environ["PATH_INFO"] + ("?" + environ["QUERY_STRING"] if environ["QUERY_STRING"] else "")
        )
        start_response("200 OK", [])
        return [b""]


def _get(path: str, query: bytes = b"") -> dict[str, Any]:
    return {**scope(raw_path=path.encode()), "method": "GET", "query_string": query}


async def _request(buffered: BufferedWsgi, scope_: dict[str, Any]) -> None:
    """One bodiless request through the buffer, its answer dropped."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    await buffered(scope_, receive, send)


def test_large_lists_wait_for_the_small_requests_ready_with_them() -> None:
    """Four requests ready at once, two large lists first: on the loop's own thread (one app
    thread, the default) the small ones run first, then the large ones in their order."""
    app = Order()
    buffered = BufferedWsgi(app, None)

    async def main() -> None:
        await asyncio.gather(
            _request(buffered, _get("/api/ratings/", b"cursor=&limit=1000")),
            _request(buffered, _get("/api/movies/")),
            _request(buffered, _get("/api/movies/7/")),
            _request(buffered, _get("/api/ratings/", b"limit=20")),
        )

    asyncio.run(main())
    assert app.ran == [
        "/api/movies/7/",
        "/api/ratings/?limit=20",
        "/api/ratings/?cursor=&limit=1000",
        "/api/movies/",
    ]


@pytest.mark.parametrize(
    ("method", "path", "query", "large"),
    [
        ("GET", "/api/movies/", b"", True),  # the Angular client's whole list
        ("GET", "/api/movies", b"limit=1000", True),
        ("GET", "/api/ratings/", b"cursor=abc", True),
        ("GET", "/api/users/me/export/", b"format=csv", True),
        ("GET", "/api/ratings/", b"limit=100", False),
        ("GET", "/api/ratings/", b"limit=20&limit=5000", True),  # two limits: not surely small
        ("GET", "/api/ratings/", b"limit=0", True),  # refused by the app; no cheaper for it
        ("GET", "/api/movies/7/", b"", False),
        ("POST", "/api/movies/", b"", False),
        ("GET", "/healthz", b"", False),
    ],
)
def test_which_requests_may_be_large_lists(method: str, path: str, query: bytes, large: bool) -> None:
    from movierater_entrypoints.http.pages import is_large_list

    assert is_large_list(method, path, query) is large


class WriteWaitingForARead:
    """A WSGI app whose writes wait (up to ``patience`` seconds) for a read to run: a write
    that sees one ran while it waited did not hold up the reads. Records each method's thread."""

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self.read_ran = threading.Event()
        self.saw_a_read: bool | None = None
        self.threads: dict[str, str] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        self.threads[method] = threading.current_thread().name
        if method == "GET":
            self.read_ran.set()
        else:
            self.saw_a_read = self.read_ran.wait(timeout=self.patience)
        start_response("200 OK", [])
        return [b""]


def _a_write_then_a_read(buffered: BufferedWsgi) -> None:
    async def main() -> None:
        write = asyncio.ensure_future(_request(buffered, scope()))  # a POST
        await asyncio.sleep(0.05)  # it reached the app and waits there
        await _request(buffered, _get("/api/movies/7/"))
        await write

    asyncio.run(main())


def test_writes_run_on_threads_of_their_own_while_the_reads_go_on() -> None:
    """MOVIERATER_WRITE_THREADS: a write waiting (for its commit, a lock) holds one write
    thread; the read runs meanwhile on the loop's own thread, as reads do with one app thread."""
    app = WriteWaitingForARead(patience=10)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="movierater-write") as writer:
        _a_write_then_a_read(BufferedWsgi(app, None, writer))
    assert app.saw_a_read is True
    assert app.threads["POST"].startswith("movierater-write")
    assert app.threads["GET"] == threading.current_thread().name  # the loop's


def test_without_write_threads_a_write_holds_up_the_reads() -> None:
    """The control: the same scene with the writes on the loop's thread (SQLite's default)."""
    app = WriteWaitingForARead(patience=0.2)
    _a_write_then_a_read(BufferedWsgi(app, None))
    assert app.saw_a_read is False
    assert app.threads["POST"] == app.threads["GET"] == threading.current_thread().name
