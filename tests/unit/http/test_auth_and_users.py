"""/auth/ and /api/users/ answers that need no stored user: missing fields and a missing
token, in-process on fakes (moved from tests/integration/test_auth_and_users.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.http.inprocess import USER_PASSWORD, Client, Response
from tests.world import World

REQUIRED = ["This field is required."]
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}


def assert_no_credentials(resp: Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers.get("WWW-Authenticate") == "Token"
    assert resp.json() == NO_CREDENTIALS


# ---- POST /auth/ ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"password": USER_PASSWORD}, {"username": REQUIRED}),
        ({"username": "carol"}, {"password": REQUIRED}),
        ({}, {"username": REQUIRED, "password": REQUIRED}),
    ],
    ids=["no-username", "no-password", "empty-object"],
)
def test_login_with_a_missing_field_is_400(api: Client, body: dict[str, str], errors: Any) -> None:
    resp = api.post("/auth/", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == errors


def test_logout_without_a_token_is_401(api: Client) -> None:
    assert_no_credentials(api.delete("/auth/"))


# ---- POST /api/users/ (registration) ----------------------------------------------------


def test_register_with_missing_fields_is_400(api: Client) -> None:
    resp = api.post("/api/users/", json={})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"username": REQUIRED, "password": REQUIRED}


# ---- GET /api/users/me/ -----------------------------------------------------------------

DATE_JOINED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


def test_me_is_the_signed_in_user_admin_or_not(world: World[Client]) -> None:
    for client, admin in ((world.user, False), (world.other_user, False), (world.admin, True)):
        for path in ("/api/users/me/", "/api/users/me"):
            resp = client.get(path)
            assert resp.status_code == 200, resp.text
            body = resp.json()
            assert list(body) == ["id", "username", "is_admin", "date_joined"]
            assert body["id"] == client.user_id and body["is_admin"] is admin
            assert DATE_JOINED.fullmatch(body["date_joined"]), body
            # the same id and username as the user's own route gives (a literal "me" route,
            # not {user_id} reading "me")
            same = client.get(f"/api/users/{client.user_id}/").json()
            assert same == {"id": body["id"], "username": body["username"]}


def test_me_without_a_token_is_the_same_401_as_other_user_routes(api: Client, world: World[Client]) -> None:
    assert_no_credentials(api.get("/api/users/me/"))
    assert_no_credentials(api.get(f"/api/users/{world.user.user_id}/"))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_me_is_read_only(world: World[Client], method: str) -> None:
    resp = world.user.request(method, "/api/users/me/", json={"username": "renamed"})
    assert resp.status_code == 405, resp.text
    assert resp.json() == {"detail": f'Method "{method}" not allowed.'}
    assert world.user.get("/api/users/me/").status_code == 200


@pytest.mark.parametrize("path", ["/api/users/Me/", "/api/users/ME/", "/api/users/me2/", "/api/users/+6/"])
def test_other_spellings_of_me_are_not_found(world: World[Client], path: str) -> None:
    resp = world.user.get(path)
    assert resp.status_code == 404, resp.text


# ---- ?user=me on /api/ratings/ ----------------------------------------------------------


def test_ratings_of_user_me_are_the_callers_own_with_paging(world: World[Client]) -> None:
    movies = [world.movie_id]
    for title in ("two", "three"):
        created = world.admin.post("/api/movies/", json={"title": title})
        movies.append(created.json()["id"])
    for movie in movies:
        assert world.user.post(f"/api/movies/{movie}/rate_movie/", json={"stars": 4}).status_code == 200
    assert world.other_user.post(f"/api/movies/{movies[0]}/rate_movie/", json={"stars": 2}).status_code == 200

    mine = world.user.get("/api/ratings/?user=me")
    assert mine.status_code == 200, mine.text
    assert mine.json() == world.user.get(f"/api/ratings/?user={world.user.user_id}").json()
    assert [r["movie"] for r in mine.json()] == movies
    assert {r["user"] for r in mine.json()} == {world.user.user_id}
    theirs = world.other_user.get("/api/ratings/?user=me").json()
    assert [(r["user"], r["movie"]) for r in theirs] == [(world.other_user.user_id, movies[0])]

    paged = world.user.get("/api/ratings/?user=me&limit=1&offset=1")
    assert paged.status_code == 200, paged.text
    body = paged.json()
    assert body["count"] == 3 and [r["movie"] for r in body["results"]] == [movies[1]]
    assert body["next"].endswith("/api/ratings/?limit=1&offset=2&user=me")
    assert body["previous"].endswith("/api/ratings/?limit=1&user=me")
    assert paged.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in paged.headers["Link"] and "user=me" in paged.headers["Link"]


@pytest.mark.parametrize("value", ["Me", "ME", "%20me", "self", ""])
def test_ratings_of_a_user_neither_id_nor_me_is_400(world: World[Client], value: str) -> None:
    resp = world.user.get(f"/api/ratings/?user={value}")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"user": ["A valid integer is required."]}


def test_ratings_of_user_me_without_a_token_is_401(api: Client) -> None:
    assert_no_credentials(api.get("/api/ratings/?user=me"))
