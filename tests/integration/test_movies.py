"""/api/movies/: anyone signed in reads, only admins write; DRF's shapes and messages.

Every test makes its own movies and looks only at them, so the admin and users of the
shared ``world`` fixture (see test_errors_and_cors.py) serve them all.
"""

from __future__ import annotations

from typing import Any

import pytest
from movierater_adapters.sql.tables import movies
from sqlalchemy import func, select

from tests.integration.conftest import Client, World

# DRF's fields, then what the original had not: score and histogram (issue 17 item 4)
MOVIE_KEYS = {"id", "title", "description", "imagePath", "no_of_ratings", "ave_ratings", "score", "histogram"}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
NOT_FOUND = {"detail": "Not found."}
IMAGE = "https://image.tmdb.org/t/p/w500/vfrQk5IPloGg1v9Rzbh2Eg3VGyM.jpg"


def movie_count(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(movies)).scalar_one())


def assert_movie(body: Any, **expected: Any) -> None:
    assert isinstance(body, dict)
    assert set(body) == MOVIE_KEYS
    assert isinstance(body["id"], int) and body["id"] >= 1
    for key, value in expected.items():
        assert body[key] == value, (key, body)


def listed(client: Client, *ids: int) -> list[dict[str, Any]]:
    """GET /api/movies/ (checking every entry's shape), keeping only the movies ``ids``."""
    resp = client.get("/api/movies/")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert isinstance(body, list)
    assert all(set(m) == MOVIE_KEYS for m in body)
    return [m for m in body if m["id"] in ids]


# ---- reading ----------------------------------------------------------------------------


def test_a_new_movie_has_exactly_the_drf_fields_and_no_ratings(world: World) -> None:
    movie = world.new_movie()
    assert_movie(
        movie,
        title="Alien",
        description="In space.",
        imagePath=None,
        no_of_ratings=0,
        ave_ratings=0,
        histogram=[0, 0, 0, 0, 0],
    )
    assert listed(world.user, movie["id"]) == [movie]

    got = world.user.get(f"/api/movies/{movie['id']}/")
    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"].startswith("application/json")
    assert got.json() == movie


def test_paths_work_with_and_without_the_trailing_slash(world: World) -> None:
    movie = world.new_movie()
    for path in ("/api/movies/", "/api/movies"):
        resp = world.user.get(path)
        assert resp.status_code == 200, (path, resp.text)
        assert [m for m in resp.json() if m["id"] == movie["id"]] == [movie], path
    for path in (f"/api/movies/{movie['id']}/", f"/api/movies/{movie['id']}"):
        resp = world.user.get(path)
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json() == movie, path
    for path, stars in (
        (f"/api/movies/{movie['id']}/rate_movie/", 3),
        (f"/api/movies/{movie['id']}/rate_movie", 4),
    ):
        resp = world.user.post(path, json={"stars": stars})
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json()["result"]["stars"] == stars
    patched = world.admin.patch(f"/api/movies/{movie['id']}", json={"title": "Slashless"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Slashless"
    created = world.admin.post("/api/movies", json={"title": "Slashless too"})
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Slashless too"


def test_movies_are_listed_in_creation_order(world: World) -> None:
    first, second, third = world.new_movie(title="A"), world.new_movie(title="B"), world.new_movie(title="C")
    assert listed(world.user, first["id"], second["id"], third["id"]) == [first, second, third]


def test_a_missing_movie_is_404(world: World) -> None:
    for client, method, body in (
        (world.user, "GET", None),
        (world.admin, "GET", None),
        (world.admin, "PUT", {"title": "X", "description": "Y"}),
        (world.admin, "PATCH", {"title": "X"}),
        (world.admin, "DELETE", None),
    ):
        resp = client.request(method, "/api/movies/424242/", json=body)
        assert resp.status_code == 404, (method, resp.text)
        assert resp.json() == NOT_FOUND, method


@pytest.mark.parametrize(
    "path", ["/api/movies/abc/", "/api/movies/abc", "/api/movies/0/", "/api/movies/-1/", "/api/movies/1.5/"]
)
def test_a_movie_id_that_is_not_a_positive_integer_is_404(world: World, path: str) -> None:
    resp = world.user.get(path)
    assert resp.status_code == 404, resp.text
    assert resp.json() == NOT_FOUND


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/movies/{m}/"),
        ("PUT", "/api/movies/"),
        ("PATCH", "/api/movies/"),
        ("DELETE", "/api/movies/"),
        ("GET", "/api/movies/{m}/rate_movie/"),
        ("PUT", "/api/movies/{m}/rate_movie/"),
        ("PUT", "/api/users/"),
        ("DELETE", "/api/users/"),
        ("POST", "/api/users/{u}/"),
    ],
)
def test_a_method_a_route_does_not_have_is_405(world: World, engine: Any, method: str, path: str) -> None:
    movie = world.new_movie()
    count = movie_count(engine)
    resp = world.admin.request(
        method, path.format(m=movie["id"], u=world.user.user_id), json={"title": "X", "stars": 1}
    )
    assert resp.status_code == 405, resp.text
    assert resp.json() == {"detail": f'Method "{method}" not allowed.'}
    assert world.user.get(f"/api/movies/{movie['id']}/").json() == movie
    assert movie_count(engine) == count


# ---- who may do what --------------------------------------------------------------------


def test_anonymous_requests_are_401_with_a_token_challenge(world: World, engine: Any) -> None:
    movie = world.new_movie()
    count = movie_count(engine)
    detail = f"/api/movies/{movie['id']}/"
    for method, path, body in (
        ("GET", "/api/movies/", None),
        ("POST", "/api/movies/", {"title": "Anon", "description": "no"}),
        ("GET", detail, None),
        ("PUT", detail, {"title": "Anon", "description": "no"}),
        ("PATCH", detail, {"title": "Anon"}),
        ("DELETE", detail, None),
        ("POST", detail + "rate_movie/", {"stars": 5}),
        ("DELETE", detail + "rate_movie/", None),
    ):
        resp = world.anon.request(method, path, json=body)
        assert resp.status_code == 401, (method, path, resp.text)
        assert resp.headers.get("WWW-Authenticate") == "Token", (method, path)
        assert resp.json() == NO_CREDENTIALS, (method, path)

    assert world.admin.get(detail).json() == movie
    assert movie_count(engine) == count


def test_a_regular_user_cannot_create_change_or_delete_movies(world: World, engine: Any) -> None:
    movie = world.new_movie()
    count = movie_count(engine)
    detail = f"/api/movies/{movie['id']}/"
    for method, path, body in (
        ("POST", "/api/movies/", {"title": "Mine", "description": "no"}),
        ("PUT", detail, {"title": "Mine", "description": "no"}),
        ("PATCH", detail, {"title": "Mine"}),
        ("DELETE", detail, None),
    ):
        resp = world.user.request(method, path, json=body)
        assert resp.status_code == 403, (method, resp.text)
        assert resp.json() == FORBIDDEN, method

    assert world.user.get(detail).json() == movie
    assert movie_count(engine) == count


# ---- admin writes -----------------------------------------------------------------------


def test_admin_creates_reads_updates_and_deletes_a_movie(world: World, engine: Any) -> None:
    admin, user = world.admin, world.user
    count = movie_count(engine)
    created = admin.post(
        "/api/movies/", json={"title": "Alien", "description": "In space.", "imagePath": IMAGE}
    )
    assert created.status_code == 201, created.text
    movie = created.json()
    assert_movie(
        movie, title="Alien", description="In space.", imagePath=IMAGE, no_of_ratings=0, ave_ratings=0
    )
    assert movie_count(engine) == count + 1
    path = f"/api/movies/{movie['id']}/"
    assert user.get(path).json() == movie

    put = admin.put(path, json={"title": "Aliens", "description": "More of them.", "imagePath": None})
    assert put.status_code == 200, put.text
    assert put.json() == {**movie, "title": "Aliens", "description": "More of them.", "imagePath": None}

    patched = admin.patch(path, json={"description": "Game over, man."})
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**put.json(), "description": "Game over, man."}

    with_image = admin.patch(path, json={"imagePath": IMAGE})
    assert with_image.status_code == 200, with_image.text
    assert with_image.json() == {**patched.json(), "imagePath": IMAGE}
    assert user.get(path).json() == with_image.json()
    assert listed(user, movie["id"]) == [with_image.json()]

    gone = admin.delete(path)
    assert gone.status_code == 204, gone.text
    assert gone.content == b""
    assert user.get(path).json() == NOT_FOUND
    assert listed(user, movie["id"]) == []
    again = admin.delete(path)
    assert again.status_code == 404, again.text
    assert again.json() == NOT_FOUND
    assert movie_count(engine) == count


def test_deleting_a_movie_deletes_its_ratings(world: World) -> None:
    movie = world.new_movie()
    for client, stars in ((world.user, 5), (world.other_user, 1)):
        assert client.post(f"/api/movies/{movie['id']}/rate_movie/", json={"stars": stars}).status_code == 200
    assert len(world.user.get(f"/api/ratings/?movie={movie['id']}").json()) == 2

    gone = world.admin.delete(f"/api/movies/{movie['id']}/")
    assert gone.status_code == 204, gone.text
    left = world.user.get(f"/api/ratings/?movie={movie['id']}")
    assert left.status_code == 200, left.text
    assert left.json() == []


def test_description_and_image_path_are_optional_on_create(world: World) -> None:
    resp = world.admin.post("/api/movies/", json={"title": "Solaris"})
    assert resp.status_code == 201, resp.text
    assert_movie(resp.json(), title="Solaris", description="", imagePath=None, no_of_ratings=0)

    blank_image = world.admin.post("/api/movies/", json={"title": "Stalker", "imagePath": ""})
    assert blank_image.status_code == 201, blank_image.text
    assert blank_image.json()["imagePath"] == ""


def test_a_valid_https_image_path_is_kept_exactly(world: World) -> None:
    for url in (IMAGE, "http://127.0.0.1:8000/media/a%20b.png?size=large#top", "https://[::1]/x.jpg"):
        movie = world.new_movie(imagePath=url)
        assert movie["imagePath"] == url
        assert world.user.get(f"/api/movies/{movie['id']}/").json()["imagePath"] == url


def test_put_keeps_an_image_path_it_does_not_mention(world: World) -> None:
    """DRF's PUT leaves optional fields that are not sent unchanged; Angular's update
    sends only title and description, so an edit must not drop the poster."""
    created = world.new_movie(imagePath=IMAGE)
    path = f"/api/movies/{created['id']}/"

    put = world.admin.put(path, json={"title": "Alien (1979)", "description": "Director's cut."})
    assert put.status_code == 200, put.text
    assert put.json() == {
        **created,
        "title": "Alien (1979)",
        "description": "Director's cut.",
        "imagePath": IMAGE,
    }
    assert world.user.get(path).json()["imagePath"] == IMAGE


def test_titles_are_trimmed_and_150_characters_is_the_limit(world: World) -> None:
    trimmed = world.admin.post("/api/movies/", json={"title": "  Heat  ", "description": ""})
    assert trimmed.status_code == 201, trimmed.text
    assert trimmed.json()["title"] == "Heat"

    longest = "x" * 150
    resp = world.admin.post("/api/movies/", json={"title": longest})
    assert resp.status_code == 201, resp.text
    assert resp.json()["title"] == longest


@pytest.mark.parametrize(
    "title",
    [
        "🎬" * 150,
        "Amélie",
        "東京物語",
        "Ünïcödé — “quotes” & <tags> 'single' \\ / \t tab",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🍿🎞️👩‍👩‍👧",
    ],
    ids=["150-emoji", "latin1", "cjk", "punctuation", "astral-and-zwj"],
)
def test_unicode_titles_round_trip_exactly(world: World, title: str) -> None:
    movie = world.new_movie(title=title, description=title[:100])
    assert movie["title"] == title
    got = world.user.get(f"/api/movies/{movie['id']}/")
    assert got.status_code == 200, got.text
    assert got.json()["title"] == title
    assert got.json()["description"] == title[:100]
    assert [m["title"] for m in listed(world.user, movie["id"])] == [title]


def test_invalid_movie_bodies_are_400_with_drf_messages(world: World, engine: Any, subtests: Any) -> None:
    count = movie_count(engine)
    cases: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = [
        ("title missing", {"description": "d"}, {"title": ["This field is required."]}),
        ("title blank", {"title": "  ", "description": "d"}, {"title": ["This field may not be blank."]}),
        ("title empty", {"title": ""}, {"title": ["This field may not be blank."]}),
        (
            "title 151 chars",
            {"title": "x" * 151},
            {"title": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            "title 151 emoji",
            {"title": "🎬" * 151},
            {"title": ["Ensure this field has no more than 150 characters."]},
        ),
        ("title null", {"title": None}, {"title": ["This field may not be null."]}),
        ("title number", {"title": 42}, {"title": ["Not a valid string."]}),
        ("title NUL", {"title": "\u0000"}, {"title": ["Null characters are not allowed."]}),
        (
            "description too long",
            {"title": "t", "description": "d" * 361},
            {"description": ["Ensure this field has no more than 360 characters."]},
        ),
        (
            "javascript url",
            {"title": "t", "imagePath": "javascript:alert(1)"},
            {"imagePath": ["Enter a valid URL."]},
        ),
        ("relative url", {"title": "t", "imagePath": "/img/a.png"}, {"imagePath": ["Enter a valid URL."]}),
        ("not a url", {"title": "t", "imagePath": "not a url"}, {"imagePath": ["Enter a valid URL."]}),
        (
            "data url",
            {"title": "t", "imagePath": "data:image/png;base64,AAAA"},
            {"imagePath": ["Enter a valid URL."]},
        ),
        (
            "two fields at once",
            {"description": "d" * 361, "imagePath": "javascript:alert(1)"},
            {
                "title": ["This field is required."],
                "description": ["Ensure this field has no more than 360 characters."],
                "imagePath": ["Enter a valid URL."],
            },
        ),
    ]
    for name, body, errors in cases:
        with subtests.test(msg=name):
            resp = world.admin.post("/api/movies/", json=body)
            assert resp.status_code == 400, resp.text
            assert resp.json() == errors
    assert movie_count(engine) == count


def test_invalid_updates_are_400_and_change_nothing(world: World) -> None:
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"
    for method, body, errors in (
        ("PUT", {"description": "no title"}, {"title": ["This field is required."]}),
        ("PUT", {}, {"title": ["This field is required."]}),
        ("PATCH", {"title": " "}, {"title": ["This field may not be blank."]}),
        ("PATCH", {"title": "y" * 151}, {"title": ["Ensure this field has no more than 150 characters."]}),
        ("PATCH", {"imagePath": "javascript:alert(1)"}, {"imagePath": ["Enter a valid URL."]}),
    ):
        resp = world.admin.request(method, path, json=body)
        assert resp.status_code == 400, (method, body, resp.text)
        assert resp.json() == errors, (method, body)
    assert world.admin.get(path).json() == movie
