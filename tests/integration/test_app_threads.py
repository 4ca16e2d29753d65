"""A slow request holds one app thread of its worker, not the worker (MOVIERATER_THREADS):
one worker, a rating held up by another writer's lock, and a movie's detail from the same
worker meanwhile. With one thread the detail waits its turn. The scene
(:func:`detail_while_a_rating_waits_for_a_lock`) serves test_write_threads.py too."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import movies
from sqlalchemy import create_engine, update

from tests.integration.conftest import Server, make_admin, run_cli, sign_up

pytestmark = pytest.mark.exclusive  # it bounds a latency

HOLD_SECONDS = 2.0  # how long the other transaction keeps the movie's row locked


def detail_while_a_rating_waits_for_a_lock(
    database_url: str, engine: Any, workdir: Path, **env: str
) -> float:
    """Seconds a movie's detail took while a rating of the same worker waited for a lock on
    the movie that another transaction of ``engine`` held (SQLite: the file's write lock).
    One worker, served with ``env``; the rating must go through once the lock is gone."""
    server = Server(database_url, workdir, workers=1, MOVIERATER_DB_TIMEOUT="5", **env)
    try:
        movie = make_admin(server).post("/api/movies/", json={"title": "T", "description": "d"}).json()["id"]
        user = sign_up(server.base_url)
        assert user.get(f"/api/movies/{movie}/").status_code == 200
        locked = threading.Event()

        def hold_the_movie() -> None:  # a write to its row (SQLite: to the file), kept open
            with engine.begin() as conn:
                conn.execute(update(movies).where(movies.c.id == movie).values(title=movies.c.title))
                locked.set()
                time.sleep(HOLD_SECONDS)

        holder = threading.Thread(target=hold_the_movie)
        rated: list[requests.Response] = []
        rating = threading.Thread(
            target=lambda: rated.append(user.post(f"/api/movies/{movie}/rate_movie/", json={"stars": 4}))
        )
        holder.start()
        try:
            assert locked.wait(timeout=10)
            rating.start()
            time.sleep(0.5)  # the rating is in the app, waiting for the lock
            started = time.monotonic()
            assert user.get(f"/api/movies/{movie}/").status_code == 200
            took = time.monotonic() - started
        finally:
            holder.join()
            if rating.ident is not None:
                rating.join(timeout=30)
        assert rated and rated[0].status_code == 200, "the rating goes through once the lock is gone"
        assert user.get(f"/api/movies/{movie}/").json()["no_of_ratings"] == 1
        return took
    finally:
        server.stop()


def _on_sqlite(tmp_path: Path, threads: int) -> float:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    engine = create_engine(url)
    try:
        return detail_while_a_rating_waits_for_a_lock(url, engine, tmp_path, MOVIERATER_THREADS=str(threads))
    finally:
        engine.dispose()


def test_a_slow_request_delays_no_other_request_of_its_worker(tmp_path: Path) -> None:
    assert _on_sqlite(tmp_path, threads=4) < 0.5


def test_with_one_thread_the_other_request_waits_its_turn(tmp_path: Path) -> None:
    """The control: the same scene on one app thread (the first test's bound means something)."""
    assert _on_sqlite(tmp_path, threads=1) > 1.0
