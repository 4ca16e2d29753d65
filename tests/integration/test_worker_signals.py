"""Stopping the server right after it started: a worker still loading the app when
SIGTERM arrives stops with the others, instead of being killed at the end of gunicorn's
graceful timeout (20 s) because uvloop had not installed its handlers yet."""

from __future__ import annotations

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
