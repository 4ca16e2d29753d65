"""Conditional requests through gunicorn on every database (issue 17 item 5): ETags and
304 on the movie reads, and two admins holding one ETag: exactly one change is made (the
same admin's token on two connections: who they are does not matter to the race).

The race is run both ways: released together (a barrier), and queued behind a lock the
test holds on the movie's row, so that both requests are inside their transactions,
waiting for the row, with the same tag, when it is released: the one that gets the row
second finds the movie changed (the tag is compared on the locked row, in the change's
own transaction) and answers 412.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import movies
from sqlalchemy import select
from sqlalchemy.engine import make_url

from tests.integration.conftest import Client
from tests.world import World

CHANGED = {"detail": "The movie has changed since you read it: read it again, then make your change."}


def test_reads_carry_etags_and_a_matching_if_none_match_is_304(world: World[Client]) -> None:
    movie = world.new_movie(title="Conditional")
    for path in (f"/api/movies/{movie['id']}/", "/api/movies/?include=my_rating", "/api/movies/?limit=2"):
        first = world.user.get(path)
        assert first.status_code == 200, first.text
        etag = first.headers["ETag"]
        assert "Authorization" in first.headers["Vary"]
        cached = world.user.get(path, headers={"If-None-Match": f'W/"nope", {etag}'})
        assert cached.status_code == 304, path
        assert cached.content == b"" and cached.headers["ETag"] == etag
        assert "Content-Type" not in cached.headers
    detail = f"/api/movies/{movie['id']}/"
    etag = world.user.get(detail).headers["ETag"]
    assert world.user.post(f"/api/movies/{movie['id']}/rate_movie/", json={"stars": 2}).status_code == 200
    fresh = world.user.get(detail, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag


@contextmanager
def row_locked(engine: Any, backend: str, movie_id: int) -> Iterator[None]:
    """Hold the movie's row (SQLite: the database's write lock) until the block ends."""
    if backend == "sqlite":
        connection = sqlite3.connect(make_url(engine.url).database, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("COMMIT")
        finally:
            connection.close()
        return
    with engine.begin() as conn:
        conn.execute(select(movies.c.id).where(movies.c.id == movie_id).with_for_update()).all()
        yield


def at_once(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


CHANGES = {
    "PUT": lambda title: {"title": title, "description": f"by {title}"},
    "PATCH": lambda title: {"title": title},
    "DELETE": lambda _title: None,
}


@pytest.mark.parametrize(("first", "second"), [("PUT", "PUT"), ("PATCH", "PATCH"), ("PATCH", "DELETE")])
@pytest.mark.parametrize("queued", [False, True], ids=["released together", "queued on the row"])
def test_two_admins_holding_one_etag_cannot_both_change_the_movie(
    world: World[Client], engine: Any, backend: str, first: str, second: str, queued: bool
) -> None:
    movie = world.new_movie(title="Contested")
    path = f"/api/movies/{movie['id']}/"
    etag = world.admin.get(path).headers["ETag"]
    editors = [Client(world.admin.base_url, world.admin.token) for _ in range(2)]  # two connections
    calls = [
        lambda editor=editor, method=method, title=title: editor.request(
            method, path, json=CHANGES[method](title), headers={"If-Match": etag}
        )
        for editor, method, title in zip(editors, (first, second), ("Mine", "Theirs"), strict=True)
    ]
    if queued:
        with ThreadPoolExecutor(max_workers=2) as pool:
            with row_locked(engine, backend, movie["id"]):
                futures = [pool.submit(call) for call in calls]
                # Both reach the row's lock, inside their transactions; under the database's
                # lock wait bound (MOVIERATER_DB_TIMEOUT: 1 s on MariaDB), or they get 503.
                time.sleep(0.4)
                assert not any(f.done() for f in futures), [f.result().text for f in futures if f.done()]
            responses = [f.result(timeout=60) for f in futures]
    else:
        responses = at_once(*calls)
    won = [r for r in responses if r.status_code in (200, 204)]
    lost = [r for r in responses if r.status_code in (404, 412)]
    assert len(won) == 1 and len(lost) == 1, [(r.status_code, r.text) for r in responses]
    now = world.admin.get(path)
    if won[0].status_code == 204:
        # RFC 9110 13.2.1: preconditions are ignored where the answer without them is not
        # a 2xx: a change of a movie deleted meanwhile is 404, as it would be without.
        assert lost[0].status_code == 404
        assert now.status_code == 404
    else:
        assert lost[0].status_code == 412 and lost[0].json() == CHANGED
        assert now.json() == won[0].json() and now.headers["ETag"] == won[0].headers["ETag"]
