"""A slow request holds one app thread of its worker, not the worker (MOVIERATER_THREADS):
one worker, a rating held up by another writer's lock on the SQLite file, and a movie's
detail from the same worker meanwhile. With one thread the detail waits its turn."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import Server, make_admin, run_cli, sign_up

pytestmark = pytest.mark.exclusive  # it bounds a latency


def _detail_while_a_rating_waits_for_the_write_lock(tmp_path: Path, threads: int) -> float:
    """Seconds the detail took while a rating of the same worker waited for the lock."""
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    server = Server(url, tmp_path, workers=1, MOVIERATER_THREADS=str(threads), MOVIERATER_DB_TIMEOUT="3")
    try:
        movie = make_admin(server).post("/api/movies/", json={"title": "T", "description": "d"}).json()["id"]
        user = sign_up(server.base_url)
        assert user.get(f"/api/movies/{movie}/").status_code == 200
        lock = sqlite3.connect(tmp_path / "threads.db", isolation_level=None, check_same_thread=False)
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the file's write lock, for 2 s
        release = threading.Timer(2.0, lambda: lock.execute("ROLLBACK"))
        rated: list[requests.Response] = []
        rating = threading.Thread(
            target=lambda: rated.append(user.post(f"/api/movies/{movie}/rate_movie/", json={"stars": 4}))
        )
        try:
            release.start()
            rating.start()
            time.sleep(0.5)  # the rating is in the app, waiting for the lock
            started = time.monotonic()
            assert user.get(f"/api/movies/{movie}/").status_code == 200
            took = time.monotonic() - started
        finally:
            rating.join(timeout=30)
            release.join()
            lock.close()
        assert rated and rated[0].status_code == 200, "the rating goes through once the lock is gone"
        return took
    finally:
        server.stop()


def test_a_slow_request_delays_no_other_request_of_its_worker(tmp_path: Path) -> None:
    assert _detail_while_a_rating_waits_for_the_write_lock(tmp_path, threads=4) < 0.5


def test_with_one_thread_the_other_request_waits_its_turn(tmp_path: Path) -> None:
    """The control: the same scene on one app thread (the first test's bound means something)."""
    assert _detail_while_a_rating_waits_for_the_write_lock(tmp_path, threads=1) > 1.0
