"""Rating movies (/api/movies/{id}/rate_movie/) and /api/ratings/, with the movie aggregates.

Every test rates movies of its own, so the admin and two users of the shared ``world``
fixture (see test_errors_and_cors.py) serve them all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from movierater_adapters.sql.tables import movies, ratings
from sqlalchemy import select

from movierater_core.rules import BAD_DATETIME
from tests.integration.conftest import Client, World

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
NOT_INTEGER = ["A valid integer is required."]


def rate_path(movie: dict[str, Any]) -> str:
    return f"/api/movies/{movie['id']}/rate_movie/"


def summary(client: Client, movie_id: int) -> tuple[int, float]:
    resp = client.get(f"/api/movies/{movie_id}/")
    assert resp.status_code == 200, resp.text
    return resp.json()["no_of_ratings"], resp.json()["ave_ratings"]


def db_state(engine: Any) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
    """Every rating row and every movie's stored counters, to prove nothing changed."""
    with engine.connect() as conn:
        rating_rows = conn.execute(
            select(ratings.c.id, ratings.c.user_id, ratings.c.movie_id, ratings.c.stars).order_by(
                ratings.c.id
            )
        ).all()
        movie_rows = conn.execute(
            select(movies.c.id, movies.c.rating_count, movies.c.rating_sum).order_by(movies.c.id)
        ).all()
    return [tuple(r) for r in rating_rows], [tuple(m) for m in movie_rows]


def rate(client: Client, movie: dict[str, Any], stars: int) -> dict[str, Any]:
    resp = client.post(rate_path(movie), json={"stars": stars})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


# ---- POST /api/movies/{id}/rate_movie/ --------------------------------------------------


def test_rating_a_movie_creates_then_updates_one_rating(world: World) -> None:
    user, movie = world.user, world.new_movie()
    before = datetime.now(UTC)
    created = user.post(rate_path(movie), json={"stars": 4})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["message"] == "Rating created!"
    assert set(body) == {"message", "result"}
    result = body["result"]
    assert set(result) == {"id", "stars", "user", "movie", "created", "changed"}
    assert isinstance(result["id"], int)
    made = result["created"]
    assert made.endswith("Z") and before <= datetime.fromisoformat(made) <= datetime.now(UTC)
    assert result == {
        "id": result["id"],
        "stars": 4,
        "user": user.user_id,
        "movie": movie["id"],
        "created": made,
        "changed": made,
    }
    assert summary(user, movie["id"]) == (1, 4.0)

    updated = user.post(rate_path(movie), json={"stars": 2})
    assert updated.status_code == 200, updated.text
    changed = updated.json()["result"]["changed"]
    assert datetime.fromisoformat(changed) > datetime.fromisoformat(made)
    result = {**result, "stars": 2, "changed": changed}
    assert updated.json() == {"message": "Rating updated!", "result": result}
    assert summary(user, movie["id"]) == (1, 2.0)

    same = user.post(rate_path(movie), json={"stars": 2})  # nothing changes, not even the time
    assert same.status_code == 200, same.text
    assert same.json() == {"message": "Rating updated!", "result": result}
    assert summary(user, movie["id"]) == (1, 2.0)

    listed = user.get(f"/api/ratings/?movie={movie['id']}")
    assert listed.status_code == 200, listed.text
    assert listed.json() == [result]
    assert user.get(f"/api/ratings/{result['id']}/").json() == result

    # ?since=: what changed at or after a time, by (changed, id); the answer's own time finds it
    since = user.get("/api/ratings/", params={"since": changed, "movie": movie["id"]})
    assert since.status_code == 200, since.text
    assert since.json() == [result]
    later = (datetime.fromisoformat(changed) + timedelta(microseconds=1)).isoformat()
    assert user.get("/api/ratings/", params={"since": later, "movie": movie["id"]}).json() == []


def test_since_pages_in_order_of_change_and_leaves_out_ratings_without_times(
    world: World, engine: Any
) -> None:
    user, admin = world.user, world.admin
    first, second = world.new_movie(), world.new_movie()
    start = datetime.now(UTC).isoformat()
    one = rate(user, first, 1)["result"]
    two = rate(admin, first, 2)["result"]
    three = rate(user, second, 3)["result"]
    one = rate(user, first, 5)["result"]  # changed last: it comes last
    with engine.begin() as conn:  # as imported from Django: no times
        conn.execute(ratings.insert().values(user_id=admin.user_id, movie_id=second["id"], stars=4))
        conn.execute(
            movies.update()
            .where(movies.c.id == second["id"])
            .values(
                rating_count=movies.c.rating_count + 1,
                rating_sum=movies.c.rating_sum + 4,
                star_4=movies.c.star_4 + 1,
            )
        )
    ours = {first["id"], second["id"]}
    synced = [r for r in user.get("/api/ratings/", params={"since": start}).json() if r["movie"] in ours]
    assert [r["id"] for r in synced] == [two["id"], three["id"], one["id"]]
    assert synced == [two, three, one]
    paged = user.get("/api/ratings/", params={"since": start, "limit": 1, "offset": 1})
    assert paged.status_code == 200, paged.text
    assert paged.json()["count"] >= 3
    everything = user.get("/api/ratings/", params={"movie": second["id"]}).json()
    assert [(r["stars"], r["created"], r["changed"]) for r in everything][-1] == (4, None, None)


@pytest.mark.parametrize("since", ["yesterday", "2026-02-30T00:00:00Z", "", "2026-01-01T00:00:00+25:00"])
def test_a_bad_since_is_400_in_drf_shape(world: World, since: str) -> None:
    resp = world.user.get("/api/ratings/", params={"since": since})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"since": [BAD_DATETIME]}


def test_the_aggregates_follow_every_change(world: World) -> None:
    user, other_user, movie = world.user, world.other_user, world.new_movie()
    assert summary(user, movie["id"]) == (0, 0)
    rate(user, movie, 5)
    rate(other_user, movie, 2)
    assert summary(user, movie["id"]) == (2, 3.5)
    in_list = [m for m in user.get("/api/movies/").json() if m["id"] == movie["id"]]
    assert [(m["no_of_ratings"], m["ave_ratings"]) for m in in_list] == [(2, 3.5)]

    rate(user, movie, 1)
    assert summary(other_user, movie["id"]) == (2, 1.5)

    rate(other_user, movie, 3)
    assert summary(user, movie["id"]) == (2, 2.0)

    removed = user.delete(rate_path(movie))
    assert removed.status_code == 204, removed.text
    assert summary(user, movie["id"]) == (1, 3.0)

    removed = other_user.delete(rate_path(movie))
    assert removed.status_code == 204, removed.text
    assert summary(user, movie["id"]) == (0, 0)


def test_an_average_that_is_not_a_round_number(world: World) -> None:
    movie = world.new_movie()
    rate(world.user, movie, 5)
    rate(world.other_user, movie, 4)
    rate(world.admin, movie, 4)
    no_of, ave = summary(world.user, movie["id"])
    assert no_of == 3
    assert ave == pytest.approx(13 / 3)


@pytest.mark.parametrize(
    "kwargs",
    [{"json": {}}, {"data": b""}, {"json": {"star": 5}}, {"json": {"rating": 5, "movie": 1}}],
    ids=["empty-object", "empty-body", "misspelt", "other-fields"],
)
def test_rating_without_stars_is_400_with_the_original_message(
    world: World, engine: Any, kwargs: dict[str, Any]
) -> None:
    movie = world.new_movie()
    before = db_state(engine)
    resp = world.user.post(rate_path(movie), **kwargs)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"message": "You need to provide stars"}
    assert db_state(engine) == before


def test_invalid_stars_are_400_and_change_nothing(world: World, engine: Any, subtests: Any) -> None:
    movie = world.new_movie()
    existing = rate(world.user, movie, 3)["result"]
    before = db_state(engine)
    cases: list[tuple[str, Any, list[str]]] = [
        ("word", "five", NOT_INTEGER),
        ("zero", 0, ["Ensure this value is greater than or equal to 1."]),
        ("negative", -1, ["Ensure this value is greater than or equal to 1."]),
        ("six", 6, ["Ensure this value is less than or equal to 5."]),
        ("fraction", 2.5, NOT_INTEGER),
        ("numeric string", "5", NOT_INTEGER),
        ("boolean", True, NOT_INTEGER),
        ("null", None, ["This field may not be null."]),
        ("list", [5], NOT_INTEGER),
        ("object", {"value": 5}, NOT_INTEGER),
    ]
    for name, stars, messages in cases:
        for who, client in (("rated", world.user), ("unrated", world.other_user)):
            with subtests.test(msg=f"{name} by {who}"):
                resp = client.post(rate_path(movie), json={"stars": stars})
                assert resp.status_code == 400, resp.text
                assert resp.json() == {"stars": messages}
                assert db_state(engine) == before
    assert world.user.get(f"/api/ratings/{existing['id']}/").json() == existing
    assert summary(world.user, movie["id"]) == (1, 3.0)


def test_rating_a_missing_movie_is_404(world: World, engine: Any) -> None:
    before = db_state(engine)
    for method, body in (("POST", {"stars": 5}), ("DELETE", None)):
        resp = world.user.request(method, "/api/movies/424242/rate_movie/", json=body)
        assert resp.status_code == 404, (method, resp.text)
        assert resp.json() == NOT_FOUND
    assert db_state(engine) == before


# ---- DELETE /api/movies/{id}/rate_movie/ ------------------------------------------------


def test_unrating_removes_only_the_callers_rating(world: World, engine: Any) -> None:
    user, other_user, movie = world.user, world.other_user, world.new_movie()
    none_yet = user.delete(rate_path(movie))
    assert none_yet.status_code == 404, none_yet.text
    assert none_yet.json() == NOT_FOUND

    rate(user, movie, 5)
    theirs = rate(other_user, movie, 1)["result"]

    removed = user.delete(rate_path(movie))
    assert removed.status_code == 204, removed.text
    assert removed.content == b""
    assert user.get(f"/api/ratings/?movie={movie['id']}").json() == [theirs]
    assert summary(user, movie["id"]) == (1, 1.0)

    again = user.delete(rate_path(movie))
    assert again.status_code == 404, again.text
    assert again.json() == NOT_FOUND
    rows = [r for r in db_state(engine)[0] if r[2] == movie["id"]]
    assert rows == [(theirs["id"], other_user.user_id, movie["id"], 1)]


# ---- /api/ratings/ ----------------------------------------------------------------------


def test_listing_and_filtering_ratings(world: World, engine: Any) -> None:
    user, other_user = world.user, world.other_user
    movie, other_movie = world.new_movie(), world.new_movie(title="Brazil")
    a = rate(user, movie, 5)["result"]
    b = rate(user, other_movie, 3)["result"]
    c = rate(other_user, movie, 2)["result"]

    def listing(query: str) -> list[dict[str, Any]]:
        resp = other_user.get("/api/ratings/" + query)
        assert resp.status_code == 200, (query, resp.text)
        assert all(set(r) == {"id", "stars", "user", "movie", "created", "changed"} for r in resp.json())
        return list(resp.json())

    everything = listing("")
    assert [(r["id"], r["user"], r["movie"], r["stars"]) for r in everything] == db_state(engine)[0]
    assert [r for r in everything if r["movie"] in (movie["id"], other_movie["id"])] == [a, b, c]

    assert listing(f"?movie={movie['id']}") == [a, c]
    assert listing(f"?movie={other_movie['id']}") == [b]
    assert listing(f"?user={user.user_id}") == [r for r in everything if r["user"] == user.user_id]
    assert listing(f"?user={other_user.user_id}") == [
        r for r in everything if r["user"] == other_user.user_id
    ]
    assert a in listing(f"?user={user.user_id}") and c not in listing(f"?user={user.user_id}")
    assert listing(f"?movie={movie['id']}&user={other_user.user_id}") == [c]
    assert listing("?movie=424242") == []
    assert listing("?unrelated=1") == everything
    assert other_user.get("/api/ratings").json() == everything


@pytest.mark.parametrize(
    "query, errors",
    [
        ("?movie=abc", {"movie": NOT_INTEGER}),
        ("?user=abc", {"user": NOT_INTEGER}),
        ("?movie=abc&user=xyz", {"movie": NOT_INTEGER, "user": NOT_INTEGER}),
        ("?movie=", {"movie": NOT_INTEGER}),
        ("?movie=2.5", {"movie": NOT_INTEGER}),
    ],
)
def test_a_bad_ratings_filter_is_400(world: World, query: str, errors: dict[str, list[str]]) -> None:
    resp = world.user.get("/api/ratings/" + query)
    assert resp.status_code == 400, resp.text
    assert resp.json() == errors


def test_reading_one_rating(world: World) -> None:
    result = rate(world.user, world.new_movie(), 4)["result"]
    for client in (world.user, world.other_user):
        for path in (f"/api/ratings/{result['id']}/", f"/api/ratings/{result['id']}"):
            resp = client.get(path)
            assert resp.status_code == 200, resp.text
            assert resp.json() == result
    missing = world.user.get("/api/ratings/424242/")
    assert missing.status_code == 404, missing.text
    assert missing.json() == NOT_FOUND


def test_deleting_ratings_owner_or_admin_only(world: World, engine: Any) -> None:
    user, other_user, admin, movie = world.user, world.other_user, world.admin, world.new_movie()
    mine = rate(user, movie, 5)["result"]
    theirs = rate(other_user, movie, 2)["result"]
    path = f"/api/ratings/{mine['id']}/"

    denied = other_user.delete(path)
    assert denied.status_code == 403, denied.text
    assert denied.json() == FORBIDDEN
    assert user.get(path).json() == mine
    assert user.get(f"/api/ratings/?movie={movie['id']}").json() == [mine, theirs]
    assert summary(user, movie["id"]) == (2, 3.5)

    own = user.delete(path)
    assert own.status_code == 204, own.text
    assert own.content == b""
    gone = user.get(path)
    assert gone.status_code == 404, gone.text
    assert gone.json() == NOT_FOUND
    assert summary(user, movie["id"]) == (1, 2.0)
    again = user.delete(path)
    assert again.status_code == 404, again.text
    assert again.json() == NOT_FOUND

    by_admin = admin.delete(f"/api/ratings/{theirs['id']}/")
    assert by_admin.status_code == 204, by_admin.text
    assert by_admin.content == b""
    assert user.get(f"/api/ratings/?movie={movie['id']}").json() == []
    assert summary(user, movie["id"]) == (0, 0)
    ratings_rows, movie_rows = db_state(engine)
    assert [r for r in ratings_rows if r[2] == movie["id"]] == []
    assert [m for m in movie_rows if m[0] == movie["id"]] == [(movie["id"], 0, 0)]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_ratings_cannot_be_written_directly(world: World, engine: Any, method: str) -> None:
    movie = world.new_movie()
    result = rate(world.user, movie, 3)["result"]
    before = db_state(engine)
    body = {"stars": 1, "movie": movie["id"], "user": world.user.user_id}
    for path in ("/api/ratings/", f"/api/ratings/{result['id']}/"):
        resp = world.user.request(method, path, json=body)
        assert resp.status_code == 405, (path, resp.text)
        assert resp.json() == {"detail": f'Method "{method}" not allowed.'}, path
    assert db_state(engine) == before
