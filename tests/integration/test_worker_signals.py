"""What the worker itself does, before or around the app: stopping right after a start
(a worker still loading the app when SIGTERM arrives stops with the others, instead of
being killed at the end of gunicorn's graceful timeout, 20 s, because uvloop had not
installed its handlers yet), and the refusals gunicorn's parser makes in DRF's shape."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from tests.integration.conftest import Server, run_cli


def test_a_sigterm_while_a_worker_boots_stops_the_server_at_once(tmp_path: Path) -> None:
    # 4 workers: when the first answers, the last ones are still loading the app.
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    server = Server(url, tmp_path, workers=4)
    started = time.monotonic()
    server.process.terminate()
    server.process.wait(timeout=30)
    took = time.monotonic() - started
    log = server.log.read_text()
    assert took < 10, f"stopping took {took:.1f} s (gunicorn's graceful timeout is 20 s)\n{log}"
    assert "Forcing close" not in log and "SIGKILL" not in log, log


def test_a_request_the_parser_refuses_gets_a_drf_shaped_400(tmp_path: Path) -> None:
    """A control character in a header value never reaches the app: gunicorn answers
    400 itself, as JSON with ``detail`` like the app's own 400s (it wrote plain text)."""
    url = f"sqlite:///{tmp_path}/db.sqlite3"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    server = Server(url, tmp_path, workers=1)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /api/movies/1/ HTTP/1.1\r\nHost: x\r\nIf-None-Match: \x10oops\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), received
        assert b"\r\nContent-Type: application/json\r\n" in head, received
        assert json.loads(body) == {"detail": "Invalid characters in header value"}
    finally:
        server.stop()
