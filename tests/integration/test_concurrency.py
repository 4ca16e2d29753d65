"""Concurrent raters through the real HTTP app (gunicorn, 2 workers) lose nothing."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from adapters.sql.tables import movies, ratings
from tests.integration.conftest import Client, Server, run_cli, wipe

SEED_PASSWORD = "bench-password-1"


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
    with engine.connect() as conn:
        recount = {
            movie_id: (count, total)
            for movie_id, count, total in conn.execute(
                select(ratings.c.movie_id, func.count(), func.sum(ratings.c.stars)).group_by(
                    ratings.c.movie_id
                )
            )
        }
        stored = {
            row.id: (row.rating_count, row.rating_sum)
            for row in conn.execute(select(movies.c.id, movies.c.rating_count, movies.c.rating_sum))
        }
        duplicates = conn.execute(
            select(ratings.c.user_id, ratings.c.movie_id)
            .group_by(ratings.c.user_id, ratings.c.movie_id)
            .having(func.count() > 1)
        ).all()
    assert duplicates == []
    assert stored == {movie_id: recount.get(movie_id, (0, 0)) for movie_id in stored}


def test_32_concurrent_raters_lose_no_update(server, engine) -> None:
    clients, movie_ids = _seeded_clients(server, engine, users=32, movie_count=3)
    failures: list[str] = []
    lock = threading.Lock()

    def rater(index: int) -> None:
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


def test_first_rating_race_ends_with_one_rating_and_no_error(server, engine) -> None:
    clients, movie_ids = _seeded_clients(server, engine, users=1, movie_count=1)
    client, movie_id = clients[0], movie_ids[0]
    barrier = threading.Barrier(8)

    def rate(stars: int) -> tuple[int, dict]:
        barrier.wait()
        response = client.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": stars})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(rate, [1, 2, 3, 4, 5, 1, 2, 3]))
    assert [status for status, _ in results] == [200] * 8
    messages = sorted(body["message"] for _, body in results)
    assert messages == ["Rating created!"] + ["Rating updated!"] * 7
    assert len({body["result"]["id"] for _, body in results}) == 1
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ratings)) == 1
    assert_summaries_match_recount(engine)


def test_two_app_instances_sharing_one_database_lose_nothing(server, engine, database_url, tmp_path) -> None:
    clients, movie_ids = _seeded_clients(server, engine, users=16, movie_count=3)
    second = Server(database_url, tmp_path)  # another gunicorn, its own 2 workers and pools
    try:
        # half the users talk to the first instance, half to the second
        for client in clients[::2]:
            client.base_url = second.base_url
        failures: list[str] = []

        def rater(index: int) -> None:
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
    finally:
        second.stop()


def test_upload_rate_limit_holds_exactly_across_two_app_instances(
    server, engine, database_url, tmp_path
) -> None:
    clients, _ = _seeded_clients(server, engine, users=1, movie_count=0)
    second = Server(database_url, tmp_path, MOVIERATER_MEDIA_DIR=str(tmp_path / "media"))
    try:
        first_client = clients[0]
        second_client = Client(second.base_url, first_client.token)
        barrier = threading.Barrier(12)

        def ask(i: int) -> int:
            client = first_client if i % 2 else second_client
            barrier.wait()
            return client.post(
                "/api/movies/get_upload_url/",
                json={"filename": f"p{i}.png", "contentType": "image/png", "fileSize": 1000},
            ).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = sorted(pool.map(ask, range(12)))
        assert statuses == [200] * 10 + [429] * 2
    finally:
        second.stop()
