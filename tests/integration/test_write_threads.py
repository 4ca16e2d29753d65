"""Writes on threads of their own (MOVIERATER_WRITE_THREADS), through gunicorn, on every
backend: one worker, a rating held up by another transaction's lock on its movie, and a
movie's detail from the same worker meanwhile. With write threads the detail does not wait
for the rating; with none (the default) it waits its turn on the loop's one app thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import movies
from sqlalchemy import update

from tests.integration.conftest import Server, make_admin, sign_up

pytestmark = pytest.mark.exclusive  # it bounds a latency

HOLD_SECONDS = 2.0  # how long the other transaction keeps the movie's row locked


def _detail_while_a_rating_waits_for_a_lock(
    database_url: str, engine: Any, workdir: Path, **env: str
) -> float:
    """Seconds a movie's detail took while a rating of the same worker waited for the lock."""
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


def test_with_write_threads_a_rating_waiting_for_a_lock_holds_up_no_read(
    database_url: str, engine: Any, tmp_path: Path
) -> None:
    env = {"MOVIERATER_WRITE_THREADS": "2"}
    assert _detail_while_a_rating_waits_for_a_lock(database_url, engine, tmp_path, **env) < 0.5


def test_by_default_the_read_waits_for_the_rating(database_url: str, engine: Any, tmp_path: Path) -> None:
    """The control (the first test's bound means something): no write threads by default."""
    assert _detail_while_a_rating_waits_for_a_lock(database_url, engine, tmp_path) > 1.0
