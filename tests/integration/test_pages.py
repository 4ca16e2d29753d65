"""Bounded lists with paging, search and ordering (issue 12), through gunicorn on each
backend: the Angular client's plain list of a 1,000-movie catalogue comes whole with the
default settings, one movie more and it is the first page with ``Link`` and
``X-Total-Count``; DRF's envelope with limit/offset; 400s in DRF's shape; the ratings'
``?movie=``/``?user=`` with paging; the ratings by cursor in each of their orders."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from movierater_adapters.sql.tables import movies, ratings
from sqlalchemy import insert, select

from tests.integration.conftest import Client, Server, make_admin, sign_up, wipe

SMALL = 4


def add_movies(engine: Any, titles: list[str]) -> None:
    rows = [
        {"title": title, "description": "", "image_path": None, "rating_count": 0, "rating_sum": 0}
        for title in titles
    ]
    with engine.begin() as conn:
        conn.execute(insert(movies), rows)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture(scope="module")
def small_server(
    database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second server on the same database, with MOVIERATER_MAX_PAGE_SIZE=4."""
    srv = Server(
        database_url, tmp_path_factory.mktemp(f"{backend}-small"), MOVIERATER_MAX_PAGE_SIZE=str(SMALL)
    )
    yield srv
    srv.stop()


@pytest.fixture
def small(small_server: Server, engine: Any) -> Iterator[Client]:
    wipe(engine)
    yield make_admin(small_server)
    # Ratings inserted here directly leave summaries that are no recount of them: gone
    # before a later test of this session's database checks every movie's summary.
    wipe(engine)


_readers: dict[str, Client] = {}


@pytest.fixture
def small_reader(small_server: Server) -> Client:
    """A signed-in user of the small server, for what needs no data (the 400s): made once,
    and again only when another test's wipe took it."""
    reader = _readers.get(small_server.base_url)
    if reader is None or reader.get("/api/users/me/").status_code != 200:
        reader = _readers[small_server.base_url] = sign_up(small_server.base_url)
    return reader


def test_the_angular_clients_plain_list_of_1000_movies_comes_whole_then_says_when_cut(
    server: Server, engine: Any
) -> None:
    wipe(engine)
    add_movies(engine, [f"Movie {n:04}" for n in range(1000)])
    user = sign_up(server.base_url)
    resp = user.get("/api/movies/")  # as the Angular client asks: no parameters
    assert resp.status_code == 200
    listed = resp.json()
    assert isinstance(listed, list) and len(listed) == 1000
    assert [m["title"] for m in listed] == [f"Movie {n:04}" for n in range(1000)]  # by id, as before
    assert resp.headers["X-Total-Count"] == "1000" and "Link" not in resp.headers

    add_movies(engine, ["Movie 1000"])
    resp = user.get("/api/movies/")
    assert len(resp.json()) == 1000 and resp.headers["X-Total-Count"] == "1001"
    assert resp.headers["Link"] == f'<{server.base_url}/api/movies/?limit=1000&offset=1000>; rel="next"'
    rest = user.get("/api/movies/?limit=1000&offset=1000").json()
    assert [m["title"] for m in rest["results"]] == ["Movie 1000"] and rest["next"] is None
    assert rest["previous"] == f"{server.base_url}/api/movies/?limit=1000"
    wipe(engine)


def test_pages_follow_drfs_envelope_to_the_end(small: Client, engine: Any, small_server: Server) -> None:
    add_movies(engine, [f"m{n}" for n in range(10)])
    url: str | None = "/api/movies/?limit=3"
    seen: list[str] = []
    while url:
        resp = small.get(url)
        body = resp.json()
        assert list(body) == ["count", "next", "previous", "results"] and body["count"] == 10
        assert resp.headers["X-Total-Count"] == "10"
        seen += [m["title"] for m in body["results"]]
        url = path_of(body["next"]) if body["next"] else None
        if url:
            assert f'<{body["next"]}>; rel="next"' in resp.headers["Link"]
    assert seen == [f"m{n}" for n in range(10)]
    capped = small.get("/api/movies/?limit=500").json()  # above the maximum: the maximum
    assert len(capped["results"]) == SMALL and capped["next"].endswith(f"?limit={SMALL}&offset={SMALL}")
    plain = small.get("/api/movies/")
    assert len(plain.json()) == SMALL and plain.headers["X-Total-Count"] == "10"
    assert (
        plain.headers["Link"]
        == f'<{small_server.base_url}/api/movies/?limit={SMALL}&offset={SMALL}>; rel="next"'
    )


def test_search_and_ordering_on_every_backend(small: Client, engine: Any) -> None:
    add_movies(engine, ["the 100% film", "the 100 film", "a_b", "axb", "ALIEN", "aliens"])

    def titles(query: str) -> list[str]:
        resp = small.get(f"/api/movies/?limit=10&{query}")
        assert resp.status_code == 200, resp.text
        return [m["title"] for m in resp.json()["results"]]

    assert titles("search=100%25") == ["the 100% film"]
    assert titles("search=a_b") == ["a_b"]
    assert titles("search=alien") == ["ALIEN", "aliens"]
    assert titles("search=%20alien%20") == ["ALIEN", "aliens"]  # trimmed
    assert titles("search=alien&ordering=-id") == ["aliens", "ALIEN"]
    assert titles("ordering=-title&search=film") == ["the 100% film", "the 100 film"]
    assert small.get("/api/movies/?search=film").json()[0]["title"] == "the 100% film"  # bare, by id


def test_ordering_by_ratings_with_ties_by_id(small: Client, engine: Any, small_server: Server) -> None:
    add_movies(engine, ["a", "b", "c", "d"])
    listed = small.get("/api/movies/").json()
    ids = [m["id"] for m in listed]
    raters = [sign_up(small_server.base_url) for _ in range(2)]
    for rater, stars in zip(raters, (5, 3), strict=True):  # a: 4.0 of 2; c: 4 of 1; d: 3 of 1
        assert rater.post(f"/api/movies/{ids[0]}/rate_movie/", json={"stars": stars}).status_code == 200
    assert raters[0].post(f"/api/movies/{ids[2]}/rate_movie/", json={"stars": 4}).status_code == 200
    assert raters[0].post(f"/api/movies/{ids[3]}/rate_movie/", json={"stars": 3}).status_code == 200

    def order(ordering: str) -> list[int]:
        return [m["id"] for m in small.get(f"/api/movies/?ordering={ordering}").json()]

    a, b, c, d = ids
    assert order("-ave_ratings") == [c, a, d, b]  # a and c tie at 4: by id, descending too
    assert order("ave_ratings") == [b, d, a, c]
    assert order("-no_of_ratings") == [a, d, c, b]  # c and d tie at 1
    assert order("no_of_ratings") == [b, c, d, a]
    assert order("-id") == [d, c, b, a]
    ratings = small.get(f"/api/ratings/?movie={a}&limit=1&offset=1").json()
    assert ratings["count"] == 2 and [r["stars"] for r in ratings["results"]] == [3]
    assert ratings["previous"].endswith(f"/api/ratings/?limit=1&movie={a}")
    theirs = small.get(f"/api/ratings/?user={raters[0].user_id}&offset=0").json()
    assert [r["movie"] for r in theirs["results"]] == [a, c, d] and theirs["next"] is None


@pytest.mark.parametrize(
    ("path", "errors"),
    [
        ("/api/movies/?limit=0", {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ("/api/movies/?offset=-5", {"offset": ["Ensure this value is greater than or equal to 0."]}),
        ("/api/movies/?limit=1e3", {"limit": ["A valid integer is required."]}),
        (
            "/api/movies/?offset=99999999999999999999",
            {"offset": ["Ensure this value is less than or equal to 2147483647."]},
        ),
        ("/api/movies/?ordering=rating", {"ordering": ['"rating" is not a valid choice.']}),
        ("/api/movies/?search=%00", {"search": ["Null characters are not allowed."]}),
        ("/api/ratings/?movie=1&limit=x", {"limit": ["A valid integer is required."]}),
        ("/api/users/?offset=-1", {"offset": ["Ensure this value is greater than or equal to 0."]}),
        ("/api/ratings/?cursor=bm9wZQ", {"cursor": ["Invalid cursor."]}),
        (
            "/api/ratings/?cursor=aWQ6MjE0NzQ4MzY0OA",
            {"cursor": ["Invalid cursor."]},
        ),  # id:2147483648, beyond INTEGER
        (
            "/api/ratings/?cursor=&offset=0&user=me",
            {"offset": ["Not allowed with cursor: a cursor says where the page starts."]},
        ),
    ],
)
def test_bad_values_are_400_in_drfs_shape(
    small_reader: Client, path: str, errors: dict[str, list[str]]
) -> None:
    resp = small_reader.get(path)
    assert resp.status_code == 400, resp.text
    assert resp.json() == errors


def test_a_huge_offset_is_an_empty_page_not_an_error(small: Client, engine: Any) -> None:
    add_movies(engine, ["only"])
    body = small.get("/api/movies/?offset=2147483647&ordering=-ave_ratings&search=o").json()
    assert body["count"] == 1 and body["results"] == [] and body["next"] is None
    users = small.get("/api/users/?limit=1&offset=2147483647").json()
    assert users["results"] == [] and users["count"] == 1


T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds, as ratings.changed holds it
SECOND = 1_000_000


def test_ratings_by_cursor_follow_each_order_to_the_end_on_every_backend(
    small: Client, engine: Any, small_server: Server
) -> None:
    """Following ``next`` from ``?cursor=`` reads each order of the ratings whole, by index
    seeks past (changed, id) ties and around ratings without times, with a rating added at
    the end while paging; no count on any page."""
    add_movies(engine, [f"c{n}" for n in range(7)])
    with engine.connect() as conn:
        movie_ids = list(conn.execute(select(movies.c.id).order_by(movies.c.id)).scalars())
    raters = [sign_up(small_server.base_url) for _ in range(3)]
    users = [small.user_id, *(r.user_id for r in raters)]
    rows = [
        {
            "user_id": user,
            "movie_id": movie,
            "stars": 1 + (i + j) % 5,
            "created": None if (i + j) % 5 == 0 else T0,
            "changed": None if (i + j) % 5 == 0 else T0 + ((3 * i + j) % 4) * SECOND,  # ties, NULLs
        }
        for i, movie in enumerate(movie_ids[:6])
        for j, user in enumerate(users[:3])
    ]
    random.Random(12).shuffle(rows)  # ids in another order than (user, movie)
    with engine.begin() as conn:
        conn.execute(insert(ratings), rows)

    def stored() -> list[tuple[int, int, int, int | None]]:
        with engine.connect() as conn:
            query = select(ratings.c.id, ratings.c.user_id, ratings.c.movie_id, ratings.c.changed)
            return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]

    def expected(query: dict[str, int]) -> list[int]:
        found = [
            r
            for r in stored()
            if r[1] == query.get("user", r[1])
            and r[2] == query.get("movie", r[2])
            and ("since" not in query or (r[3] is not None and r[3] >= query["since"]))
        ]
        key = (lambda r: (r[3], r[0])) if "since" in query else (lambda r: r[2]) if "user" in query else None
        return [r[0] for r in sorted(found, key=key or (lambda r: r[0]))]

    def follow(params: str, limit: int, *, add_after_first: tuple[int, int] | None = None) -> list[int]:
        url: str | None = f"/api/ratings/?{params}&cursor=&limit={limit}"
        seen: list[int] = []
        while url:
            resp = small.get(url)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert list(body) == ["next", "previous", "results"] and body["previous"] is None
            assert "X-Total-Count" not in resp.headers
            assert len(body["results"]) <= min(limit, SMALL)
            seen += [r["id"] for r in body["results"]]
            url = path_of(body["next"]) if body["next"] else None
            if url:
                assert resp.headers["Link"] == f'<{body["next"]}>; rel="next"'
            if add_after_first and url:  # while paging: (user, movie), the latest time, the highest id
                user, movie = add_after_first
                add_after_first = None
                with engine.begin() as conn:
                    row = {"user_id": user, "movie_id": movie, "stars": 5}
                    conn.execute(insert(ratings), [{**row, "created": T0, "changed": T0 + 9 * SECOND}])
        return seen

    since = "since=2026-01-01T00:00:01Z"
    for limit in (1, 3, 4, 50):
        assert follow("", limit) == expected({})
        assert follow(f"movie={movie_ids[2]}", limit) == expected({"movie": movie_ids[2]})
        assert follow(f"user={users[1]}", limit) == expected({"user": users[1]})
        assert follow(since, limit) == expected({"since": T0 + SECOND})
        assert follow(f"{since}&user={users[2]}", limit) == expected({"since": T0 + SECOND, "user": users[2]})
    for params, query, added in (
        ("", {}, (users[1], movie_ids[6])),
        (f"user={users[1]}", {"user": users[1]}, (users[1], movie_ids[6])),  # the last movie
        (since, {"since": T0 + SECOND}, (users[1], movie_ids[6])),  # the latest time
        (f"movie={movie_ids[2]}", {"movie": movie_ids[2]}, (users[3], movie_ids[2])),  # the last id
    ):
        seen = follow(params, 2, add_after_first=added)
        assert seen == expected(query) and seen[-1] == max(r[0] for r in stored())
        with engine.begin() as conn:
            conn.execute(ratings.delete().where(ratings.c.id == seen[-1]))
