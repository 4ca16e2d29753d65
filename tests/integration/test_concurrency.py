"""Concurrent raters and uploaders through the real HTTP app lose nothing and overshoot nothing.

Two app instances (gunicorn, WORKERS sync workers each) share the database, and threads
released together by a barrier send their requests to both: about a dozen really run at
once (with 2 workers and no barrier, about four did, and a missing lock went unnoticed).
Each test here fails, in at least 9 runs of 10, when the lock it is about is removed:
SECURITY.md, "Locks and the tests that show they matter", has the table.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from movierater_adapters.sql.tables import movies, ratings
from sqlalchemy import func, select

from tests.integration.conftest import Client, Server, run_cli, wipe

SEED_PASSWORD = "bench-password-1"
WORKERS = 6


@pytest.fixture(scope="module")
def instances(
    database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """Two app instances on the one database, sharing their media directory too."""
    media = str(tmp_path_factory.mktemp(f"{backend}-concurrency-media"))
    started: list[Server] = []
    try:
        for n in range(2):
            workdir = tmp_path_factory.mktemp(f"{backend}-instance{n}")
            started.append(
                Server(database_url, workdir, workers=WORKERS, start_timeout=120, MOVIERATER_MEDIA_DIR=media)
            )
        yield started
    finally:
        for srv in started:
            srv.stop()


def at_once(calls: list, workers: int | None = None) -> list:
    """Run the calls in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=workers or len(calls)) as pool:
        return list(pool.map(run, calls))


def spread(clients: list[Client], instances: list[Server]) -> None:
    """Half the clients talk to each instance."""
    for n, client in enumerate(clients):
        client.base_url = instances[n % len(instances)].base_url


def _seeded_clients(server, engine, users: int, movie_count: int) -> tuple[list[Client], list[int]]:
    wipe(engine)
    run_cli(
        "seed",
        "--movies",
        str(movie_count),
        "--users",
        str(users),
        "--ratings-per-movie",
        "0",
        "--password",
        SEED_PASSWORD,
        env=server.env,
    )
    clients = []
    for i in range(users):
        login = requests.post(
            server.base_url + "/auth/", json={"username": f"user{i}", "password": SEED_PASSWORD}, timeout=30
        )
        assert login.status_code == 200, login.text
        clients.append(Client(server.base_url, login.json()["token"]))
    with engine.connect() as conn:
        movie_ids = list(conn.scalars(select(movies.c.id).order_by(movies.c.id)))
    return clients, movie_ids


def assert_summaries_match_recount(engine) -> None:
    """Every movie's stored count, sum and histogram (star_1..star_5) are a recount of its
    ratings, and the histogram agrees with the count and the sum; no duplicate ratings."""
    stars = [movies.c[f"star_{n}"] for n in range(1, 6)]
    with engine.connect() as conn:
        recount: dict[int, tuple[int, int, tuple[int, ...]]] = {}
        for movie_id, value, n in conn.execute(
            select(ratings.c.movie_id, ratings.c.stars, func.count()).group_by(
                ratings.c.movie_id, ratings.c.stars
            )
        ):
            count, total, histogram = recount.get(movie_id, (0, 0, (0, 0, 0, 0, 0)))
            bumped = tuple(h + n if star == value else h for star, h in enumerate(histogram, start=1))
            recount[movie_id] = (count + n, total + n * value, bumped)
        stored = {
            row[0]: (row[1], row[2], tuple(row[3:]))
            for row in conn.execute(select(movies.c.id, movies.c.rating_count, movies.c.rating_sum, *stars))
        }
        duplicates = conn.execute(
            select(ratings.c.user_id, ratings.c.movie_id)
            .group_by(ratings.c.user_id, ratings.c.movie_id)
            .having(func.count() > 1)
        ).all()
    assert duplicates == []
    assert stored == {movie_id: recount.get(movie_id, (0, 0, (0, 0, 0, 0, 0))) for movie_id in stored}
    for count, total, histogram in stored.values():
        assert sum(histogram) == count
        assert sum(star * h for star, h in enumerate(histogram, start=1)) == total


def test_32_concurrent_raters_lose_no_update(instances, engine) -> None:
    clients, movie_ids = _seeded_clients(instances[0], engine, users=32, movie_count=3)
    spread(clients, instances)
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(32)

    def rater(index: int) -> None:
        start.wait(timeout=30)
        rng = random.Random(index)
        client = clients[index]
        rated: set[int] = set()
        for _ in range(12):
            movie_id = rng.choice(movie_ids)
            if movie_id in rated and rng.random() < 0.25:
                response = client.delete(f"/api/movies/{movie_id}/rate_movie/")
                expected = 204
                rated.discard(movie_id)
            else:
                response = client.post(
                    f"/api/movies/{movie_id}/rate_movie/", json={"stars": rng.randint(1, 5)}
                )
                expected = 200
                rated.add(movie_id)
            if response.status_code != expected:
                with lock:
                    failures.append(f"{response.status_code} {response.text}")

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(rater, range(32)))
    assert failures == []
    assert_summaries_match_recount(engine)
    # and what the API reports is that same recount
    listed = {m["id"]: m for m in clients[0].get("/api/movies/").json()}
    with engine.connect() as conn:
        for movie_id in movie_ids:
            count, total = conn.execute(
                select(func.count(), func.coalesce(func.sum(ratings.c.stars), 0)).where(
                    ratings.c.movie_id == movie_id
                )
            ).one()
            assert listed[movie_id]["no_of_ratings"] == count
            assert listed[movie_id]["ave_ratings"] == (int(total) / count if count else 0)


def test_first_rating_race_ends_with_one_rating_and_no_error(instances, engine) -> None:
    """One user's 16 ratings of a movie at once, on both instances, for each of 3 movies."""
    clients, movie_ids = _seeded_clients(instances[0], engine, users=1, movie_count=3)
    token = clients[0].token
    for movie_id in movie_ids:
        racers = [Client(instances[n % 2].base_url, token) for n in range(16)]

        def rate(client: Client, stars: int, movie_id: int = movie_id):
            return lambda: client.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": stars})

        results = [
            (r.status_code, r.json()) for r in at_once([rate(c, 1 + n % 5) for n, c in enumerate(racers)])
        ]
        assert [status for status, _ in results] == [200] * 16, results
        messages = sorted(body["message"] for _, body in results)
        assert messages == ["Rating created!"] + ["Rating updated!"] * 15
        assert len({body["result"]["id"] for _, body in results}) == 1
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).where(ratings.c.movie_id == movie_id)) == 1
        assert_summaries_match_recount(engine)


def test_two_app_instances_sharing_one_database_lose_nothing(instances, engine) -> None:
    clients, movie_ids = _seeded_clients(instances[0], engine, users=16, movie_count=3)
    spread(clients, instances)  # half the users talk to the first instance, half to the second
    failures: list[str] = []
    start = threading.Barrier(16)

    def rater(index: int) -> None:
        start.wait(timeout=30)
        rng = random.Random(1000 + index)
        for _ in range(15):
            movie_id = rng.choice(movie_ids)
            response = clients[index].post(
                f"/api/movies/{movie_id}/rate_movie/", json={"stars": rng.randint(1, 5)}
            )
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(rater, range(16)))
    assert failures == []
    assert_summaries_match_recount(engine)
    # both instances report the same, correct numbers
    first_view = clients[1].get("/api/movies/").json()
    second_view = clients[0].get("/api/movies/").json()
    assert first_view == second_view
    assert sum(m["no_of_ratings"] for m in first_view) > 0


def test_upload_rate_limit_holds_exactly_across_two_app_instances(instances, engine) -> None:
    """Each of 3 users asks for 20 upload URLs at once, half on each instance: exactly 10
    granted each (the user's row lock makes the grant decisions take turns)."""
    clients, _ = _seeded_clients(instances[0], engine, users=3, movie_count=0)
    for user in clients:
        askers = [Client(instances[n % 2].base_url, user.token) for n in range(20)]

        def ask(client: Client, i: int):
            body = {"filename": f"p{i}.png", "contentType": "image/png", "fileSize": 1000}
            return lambda: client.post("/api/movies/get_upload_url/", json=body).status_code

        statuses = sorted(at_once([ask(c, i) for i, c in enumerate(askers)]))
        assert statuses == [200] * 10 + [429] * 10
