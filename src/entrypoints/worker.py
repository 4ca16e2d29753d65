"""gunicorn's worker for movierater: a slow client costs a connection, not a worker.

``gunicorn --worker-class movierater_entrypoints.worker.Worker movierater_entrypoints.wsgi:app``
(gunicorn.conf.py and ``movierater serve`` name it). It is gunicorn's own asyncio worker
(``gunicorn.workers.gasgi.ASGIWorker``: one event loop reads every connection of the
process) with these additions:

- **A deadline on each request.** Its headers and its whole body must have arrived within
  ``MOVIERATER_REQUEST_TIMEOUT`` seconds of its first byte (of the connection's opening,
  for the first request on a connection): else the client gets ``408`` and the connection
  is closed. gunicorn bounds only the wait for each next piece, so a byte a second would
  keep a request open for hours.
- **The WSGI app behind a buffer** (:class:`BufferedWsgi`): the app is called only with
  a whole request, on one of ``MOVIERATER_THREADS`` app threads, while the event loop
  goes on reading, buffering and timing out other connections (with one, the default,
  the app runs on the loop's own thread, and the loop does that between requests). A
  client trickling its headers or body holds a few kilobytes of buffer, never the app;
  a slow request (a large page) holds one app thread, and the others go on serving. The
  adapters keep per-thread state where they have any (the database's read connection
  and its unit of work).
- **Writes on threads of their own**, when ``MOVIERATER_WRITE_THREADS`` asks for them
  (none by default). A write waits for its commit's flush to disk, a lock or a password
  hash; on their own threads several writes wait at once, and the reads go on.
- **Connections shared out evenly between the workers** (accept.py's listener instead of
  asyncio's server, which accepted every waiting connection at once).
- **Large lists after small requests.** On the loop's own thread (one app thread), a
  request that may be a large list (``pages.is_large_list``) waits for the small requests
  that are ready with it, and large lists take turns, each after the loop read its
  sockets again: a movie's detail waits for at most one large page, not for every page
  queued before it.

The sync worker's other guarantee stays: a request stuck in the app for gunicorn's
``timeout`` stops the heartbeat, and gunicorn kills and replaces the worker.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from urllib.parse import unquote_to_bytes

import orjson
from gunicorn.asgi.protocol import ASGIProtocol  # type: ignore[import-untyped]
from gunicorn.workers import gasgi  # type: ignore[import-untyped]
from movierater_entrypoints.accept import BalancedListener, ConnectionCounts
from movierater_entrypoints.http.io import MAX_BODY_BYTES
from movierater_entrypoints.http.pages import is_large_list
from movierater_entrypoints.settings import Settings

from movierater_core.uploads import MAX_UPLOAD_BYTES

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[bytes, bytes]], list[bytes]]  # status, headers, body chunks

# The largest body any route takes (a local poster upload), plus one byte so that the
# app sees a longer one is too long. A body that declares more is not read at all: the
# app answers 413 from its Content-Length, and the connection is closed.
BUFFERED_BODY_LIMIT = max(MAX_UPLOAD_BYTES, MAX_BODY_BYTES) + 1
# Bodies up to this size stay in memory; larger ones go to a temporary file.
IN_MEMORY_BODY = 64 * 1024
# Methods that change nothing (RFC 9110's safe methods): they stay on the reads' thread(s).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Loop passes a large list lets go by before it runs (BufferedWsgi._run_large): one to
# read the sockets, then enough for a request found there to reach the app.
LARGE_LIST_YIELDS = 3


class BufferedWsgi:
    """An ASGI app that reads each request whole, then runs the WSGI app on it in one
    thread and sends its response. A client that goes away before its request is whole
    never reaches the app."""

    def __init__(
        self, app: WsgiApp, executor: ThreadPoolExecutor | None, writer: ThreadPoolExecutor | None = None
    ) -> None:
        self.app = app
        self.executor = executor  # None: the loop's own thread
        self.writer = writer  # the writes' threads (None: the writes go with the reads)
        # When each app thread started the request it is on.
        self._started: dict[int, float] = {}
        self._started_lock = threading.Lock()
        self._large_turn: asyncio.Lock | None = None  # made on the loop that serves

    @property
    def busy_since(self) -> float | None:
        """When the longest-running request began (None when every app thread is idle)."""
        with self._started_lock:
            return min(self._started.values(), default=None)

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":  # WebSocket: not spoken here
            return
        body: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY_BODY)
        try:
            if _declared_length(scope) <= BUFFERED_BODY_LIMIT:
                received = 0
                while received <= BUFFERED_BODY_LIMIT:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # gone, or its deadline passed (the 408 is sent)
                    chunk = message.get("body", b"")
                    body.write(chunk[: BUFFERED_BODY_LIMIT - received])
                    received += len(chunk)
                    if not message.get("more_body"):
                        break
            body.seek(0)
            if self.writer is not None and scope["method"] not in SAFE_METHODS:
                status, headers, chunks = await self._run_in(self.writer, scope, body)
            elif self.executor is None:  # one app thread: the loop's own (no hop to another)
                if is_large_list(scope["method"], scope["path"], scope.get("query_string", b"")):
                    status, headers, chunks = await self._run_large(scope, body)
                else:
                    status, headers, chunks = self._run(scope, body)
            else:
                status, headers, chunks = await self._run_in(self.executor, scope, body)
        finally:
            body.close()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def _run_in(self, threads: ThreadPoolExecutor, scope: Message, body: IO[bytes]) -> Answer:
        return await asyncio.get_running_loop().run_in_executor(threads, self._run, scope, body)

    async def _run_large(self, scope: Message, body: IO[bytes]) -> Answer:
        """A large list, on the loop's thread: one at a time, each after the small requests
        ready with it. Each pass of the loop reads the sockets once, then runs what is ready,
        in order: the first yield lets the loop read (the requests found wait behind this
        one), the next ones put this one behind them."""
        if self._large_turn is None:
            self._large_turn = asyncio.Lock()
        async with self._large_turn:
            for _ in range(LARGE_LIST_YIELDS):
                await asyncio.sleep(0)
            return self._run(scope, body)

    def _run(self, scope: Message, body: IO[bytes]) -> Answer:
        """In an app thread: the app's status, headers and body for one request."""
        thread = threading.get_ident()
        with self._started_lock:
            self._started[thread] = time.monotonic()
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: chunks.append(data)  # PEP 3333's write()

        chunks: list[bytes] = []
        try:
            result = self.app(_environ(scope, body), start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            with self._started_lock:
                del self._started[thread]
        status, headers = started
        encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return int(status.split(" ", 1)[0]), encoded, chunks


def _declared_length(scope: Message) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)  # gunicorn's parser let only digits through
    return 0


def _environ(scope: Message, body: IO[bytes]) -> dict[str, Any]:
    """PEP 3333's environ for one buffered request, as gunicorn's WSGI workers make it."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": scope["server"][0] if scope.get("server") else "localhost",
        "SERVER_PORT": str(scope["server"][1]) if scope.get("server") else "80",
        "REMOTE_ADDR": scope["client"][0] if scope.get("client") else "",
        "REMOTE_PORT": str(scope["client"][1]) if scope.get("client") else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope["scheme"],
        "wsgi.input": body,
        # The body is whole: it may be read to its end, chunked or not.
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        key = name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        text = value.decode("latin-1")
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ


class _DeadlineProtocol(ASGIProtocol):  # type: ignore[misc]
    """gunicorn's HTTP/1.1 connection, with a deadline from a request's first byte (or the
    connection's opening) to its last."""

    request_timeout: float = 30.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)

    def _on_headers_complete(self) -> Any:
        self._arm()  # a pipelined request, parsed from bytes already received
        return super()._on_headers_complete()

    def _on_message_complete(self) -> None:
        self._disarm()
        super()._on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
        self.worker.counts.closed()

    def _send_error_response(self, status: int, message: str, extra_headers: Any = ()) -> None:
        """gunicorn's own refusals, made before the app sees a request (a malformed request
        line or header value, headers too large, a request that did not arrive in time),
        in DRF's shape like every other answer: ``{"detail": ...}`` as JSON, not text."""
        body = orjson.dumps({"detail": message})
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Error"
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/json\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{extra}"
            "Connection: close\r\n\r\n"
        )
        self._safe_write(head.encode("latin-1") + body)

    def _arm(self) -> None:
        if self._deadline is None and not self._closed:
            self._deadline = self.worker.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self._closed:
            self.log.info(
                "Closing %s: no whole request within %ss",
                self.transport.get_extra_info("peername"),
                self.request_timeout,
            )
            self._send_error_response(408, "The request did not arrive in time.")
            self._close_transport()


class Worker(gasgi.ASGIWorker):  # type: ignore[misc]
    """gunicorn's asyncio worker, serving the WSGI app (``movierater_entrypoints.wsgi:app``)
    through :class:`BufferedWsgi`, with :class:`_DeadlineProtocol` on every connection."""

    asgi: Any  # the app gunicorn loaded (the WSGI one), then what the worker serves
    sockets: list[Any]  # gunicorn's listeners (wrapping the sockets the master opened)
    counts: ConnectionCounts  # this worker's slot in the table of open connections

    def load_wsgi(self) -> None:
        super().load_wsgi()  # imports the app module: this worker's engine and pool
        settings = Settings.from_env(warn_unknown=False)
        # One app thread is the event loop's: handing each request to another thread and
        # back cost a tenth of the rate's throughput. The loop then pauses while the app
        # runs (a bounded request), and reads, buffers and times out connections between.
        self.executor = (
            None
            if settings.threads == 1
            else ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="movierater-app")
        )
        writer = (
            ThreadPoolExecutor(max_workers=settings.write_threads, thread_name_prefix="movierater-write")
            if settings.write_threads
            else None
        )
        self.buffered = BufferedWsgi(self.asgi, self.executor, writer)
        self.asgi = self.buffered
        _DeadlineProtocol.request_timeout = settings.request_timeout
        # gasgi.ASGIWorker makes each connection's protocol by this module-level name.
        gasgi.ASGIProtocol = _DeadlineProtocol

    def init_signals(self) -> None:
        """Until the event loop runs, record SIGTERM, SIGINT and SIGQUIT instead of handing
        them to it: uvloop installs its handlers when it starts running, so a signal that
        arrived while the app was loading (a restart just after a start) was dropped, and
        gunicorn waited its whole graceful timeout before killing the worker."""
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        self._early_signals: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, lambda number, _frame: self._early_signals.append(number))

    async def _serve(self) -> None:
        super().init_signals()  # the loop's own handlers, now that it runs
        for number in self._early_signals:
            if number == signal.SIGTERM:
                self.handle_exit_signal()
            else:
                self.handle_quit_signal()
        # Listeners that share connections out evenly between the workers (accept.py),
        # instead of the asyncio servers gasgi would make for self.sockets.
        self.counts = ConnectionCounts()
        self.counts.claim()
        listening = self.sockets
        ssl = self._get_ssl_context()
        for listener in listening:
            self.servers.append(
                BalancedListener(self.loop, listener.sock, lambda: _DeadlineProtocol(self), self.counts, ssl)
            )
            self.log.info("Accepting connections on %s, shared out with the other workers", listener)
        self.sockets = []
        try:
            await super()._serve()
        finally:
            self.sockets = listening  # closed by gasgi's cleanup
            self.counts.release()

    def notify(self) -> None:
        """The heartbeat, withheld while one request has held an app thread for longer
        than gunicorn's timeout: gunicorn then kills and replaces this worker, as it does
        a sync worker stuck in a request."""
        busy_since = self.buffered.busy_since
        if busy_since is not None and self.cfg.timeout and time.monotonic() - busy_since > self.cfg.timeout:
            return
        super().notify()
