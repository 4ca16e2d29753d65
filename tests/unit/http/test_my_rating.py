"""``?include=my_rating`` on the movie list and detail (issue 17 item 2), in-process on fakes:
the answers gain ``my_rating`` (the caller's stars or null) only when asked, with paging."""

from __future__ import annotations

import pytest

from tests.unit.http.inprocess import Client
from tests.world import World

FIELDS = ["id", "title", "description", "imagePath", "no_of_ratings", "ave_ratings", "score", "histogram"]


def _rated(world: World[Client]) -> list[int]:
    movies = [world.movie_id]
    for title in ("two", "three"):
        movies.append(world.admin.post("/api/movies/", json={"title": title}).json()["id"])
    assert world.user.post(f"/api/movies/{movies[0]}/rate_movie/", json={"stars": 4}).status_code == 200
    assert world.user.post(f"/api/movies/{movies[2]}/rate_movie/", json={"stars": 1}).status_code == 200
    assert world.other_user.post(f"/api/movies/{movies[1]}/rate_movie/", json={"stars": 5}).status_code == 200
    return movies


def test_the_list_carries_each_callers_own_stars_or_null(world: World[Client]) -> None:
    movies = _rated(world)
    for client, expected in (
        (world.user, [4, None, 1]),
        (world.other_user, [None, 5, None]),
        (world.admin, [None, None, None]),
    ):
        resp = client.get("/api/movies/?include=my_rating")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert [m["id"] for m in body] == movies
        assert [m["my_rating"] for m in body] == expected
        assert all(list(m) == [*FIELDS, "my_rating"] for m in body)
        plain = client.get("/api/movies/").json()
        assert [{k: m[k] for k in FIELDS} for m in body] == plain


def test_without_include_the_answers_keep_their_shape(world: World[Client]) -> None:
    movies = _rated(world)
    assert all(list(m) == FIELDS for m in world.user.get("/api/movies/").json())
    assert list(world.user.get(f"/api/movies/{movies[0]}/").json()) == FIELDS


def test_the_detail_carries_the_callers_stars_or_null(world: World[Client]) -> None:
    movies = _rated(world)
    mine = world.user.get(f"/api/movies/{movies[0]}/?include=my_rating")
    assert mine.status_code == 200, mine.text
    assert mine.json() == {**world.user.get(f"/api/movies/{movies[0]}/").json(), "my_rating": 4}
    assert world.admin.get(f"/api/movies/{movies[0]}/?include=my_rating").json()["my_rating"] is None
    missing = world.user.get("/api/movies/999999/?include=my_rating")
    assert missing.status_code == 404, missing.text


def test_my_rating_pages_searches_and_orders(world: World[Client]) -> None:
    movies = _rated(world)
    resp = world.user.get("/api/movies/?include=my_rating&ordering=-id&limit=2&offset=0")
    body = resp.json()
    assert [(m["id"], m["my_rating"]) for m in body["results"]] == [(movies[2], 1), (movies[1], None)]
    assert body["count"] == 3 and "include=my_rating" in body["next"]
    assert resp.headers["X-Total-Count"] == "3"
    found = world.user.get("/api/movies/?include=my_rating&search=THR").json()
    assert [(m["id"], m["my_rating"]) for m in found] == [(movies[2], 1)]


@pytest.mark.parametrize("path", ["/api/movies/", "/api/movies/{movie}/"])
@pytest.mark.parametrize("value", ["", "stars", "MY_RATING", "my_rating,x"])
def test_another_include_is_400_in_drf_shape(world: World[Client], path: str, value: str) -> None:
    resp = world.user.get(path.format(movie=world.movie_id) + f"?include={value}")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"include": [f'"{value}" is not a valid choice.']}


@pytest.mark.parametrize("path", ["/api/movies/?include=my_rating", "/api/movies/{movie}/?include=my_rating"])
def test_my_rating_without_a_token_is_401(world: World[Client], path: str) -> None:
    resp = world.anon.get(path.format(movie=world.movie_id))
    assert resp.status_code == 401, resp.text
    assert resp.json() == {"detail": "Authentication credentials were not provided."}
