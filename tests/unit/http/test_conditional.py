"""Conditional requests on movies (issue 17 item 5), in-process on fakes: ETags on the
list and a movie, 304 for If-None-Match, 412 for an If-Match that is no longer current on
PUT/PATCH/DELETE, and today's behaviour without the headers. (The race of two admins
holding one tag runs on the real databases: tests/integration/test_conditional.py.)"""

from __future__ import annotations

import pytest
from movierater_entrypoints.settings import Settings

from tests.unit.http.inprocess import Client, make_app
from tests.world import World

CHANGED = {"detail": "The movie has changed since you read it: read it again, then make your change."}


def _etag(client: Client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    return str(resp.headers["ETag"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/movies/",
        "/api/movies/{movie}/",
        "/api/movies/?include=my_rating",
        "/api/movies/{movie}/?include=my_rating",
        "/api/movies/?limit=1&offset=0",
        "/api/movies/?search=fix&ordering=-title",
    ],
)
def test_a_read_has_an_etag_and_if_none_match_gives_304(world: World[Client], path: str) -> None:
    path = path.format(movie=world.movie_id)
    first = world.user.get(path)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "Authorization" in first.headers["Vary"] and "Origin" in first.headers["Vary"]
    assert world.user.get(path).headers["ETag"] == etag  # the same representation, the same tag
    for value in (etag, f"W/{etag}", f'"other", {etag}', "*", f' "x" ,, {etag} '):
        again = world.user.get(path, headers={"If-None-Match": value})
        assert again.status_code == 304, value
        assert again.content == b""
        assert again.headers["ETag"] == etag
    for value in ('"other"', 'W/"other"', "not a tag", ""):
        assert world.user.get(path, headers={"If-None-Match": value}).status_code == 200, value


def test_the_tag_changes_with_the_representation(world: World[Client]) -> None:
    movie = world.new_movie(title="Tagged")
    detail = f"/api/movies/{movie['id']}/"
    tags = {
        "detail": _etag(world.user, detail),
        "list": _etag(world.user, "/api/movies/"),
        "mine": _etag(world.user, detail + "?include=my_rating"),
        "others": _etag(world.other_user, detail + "?include=my_rating"),
        "paged": _etag(world.user, "/api/movies/?limit=1"),
    }
    assert tags["mine"] == tags["others"]  # neither has rated it: the same bytes
    assert len({tags[k] for k in ("detail", "list", "mine", "paged")}) == 4
    assert world.user.post(f"/api/movies/{movie['id']}/rate_movie/", json={"stars": 3}).status_code == 200
    assert _etag(world.user, detail) != tags["detail"]  # the count and the average moved
    assert _etag(world.user, "/api/movies/") != tags["list"]
    assert _etag(world.user, detail + "?include=my_rating") != tags["mine"]
    assert world.user.get(detail, headers={"If-None-Match": tags["detail"]}).status_code == 200


def test_the_list_tag_covers_its_total_and_links(world: World[Client]) -> None:
    world.new_movie(title="First")
    page = world.user.get("/api/movies/?limit=1&offset=0")
    world.new_movie(title="Second")  # the first page's rows are the same; its count is not
    again = world.user.get("/api/movies/?limit=1&offset=0", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 200
    assert again.headers["X-Total-Count"] != page.headers["X-Total-Count"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_change_with_the_current_tag_is_made_and_answers_the_new_tag(
    world: World[Client], method: str
) -> None:
    movie = world.new_movie(title="Before")
    path = f"/api/movies/{movie['id']}/"
    etag = _etag(world.admin, path)
    changed = world.admin.request(method, path, json={"title": "After"}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "After"
    assert changed.headers["ETag"] == _etag(world.user, path) != etag


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_change_with_a_stale_tag_is_412_and_changes_nothing(world: World[Client], method: str) -> None:
    movie = world.new_movie(title="Before")
    path = f"/api/movies/{movie['id']}/"
    stale = _etag(world.admin, path)
    assert world.admin.patch(path, json={"description": "edited by the other admin"}).status_code == 200
    now = world.admin.get(path).json()
    for value in (stale, f"W/{_etag(world.admin, path)}", '"nothing"', "not a tag", ""):
        refused = world.admin.request(method, path, json={"title": "Lost"}, headers={"If-Match": value})
        assert refused.status_code == 412, (value, refused.text)
        assert refused.json() == CHANGED
    assert world.admin.get(path).json() == now


@pytest.mark.parametrize("value", ["*", "{etag}", '"other", {etag}'])
def test_delete_with_a_matching_if_match_deletes(world: World[Client], value: str) -> None:
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"
    header = value.format(etag=_etag(world.admin, path))
    assert world.admin.delete(path, headers={"If-Match": header}).status_code == 204
    assert world.admin.get(path).status_code == 404


def test_if_none_match_on_a_change_is_412_when_it_matches(world: World[Client]) -> None:
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"
    for value in ("*", _etag(world.admin, path)):
        refused = world.admin.patch(path, json={"title": "x"}, headers={"If-None-Match": value})
        assert refused.status_code == 412, value
    done = world.admin.patch(path, json={"title": "x"}, headers={"If-None-Match": '"old"'})
    assert done.status_code == 200


def test_without_if_match_changes_are_made_as_before(world: World[Client]) -> None:
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"
    assert world.admin.patch(path, json={"title": "One"}).status_code == 200
    assert world.admin.put(path, json={"title": "Two"}).status_code == 200
    assert world.admin.delete(path).status_code == 204


def test_other_errors_come_before_the_precondition(world: World[Client]) -> None:
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"
    stale = {"If-Match": '"stale"'}
    assert world.user.patch(path, json={"title": "x"}, headers=stale).status_code == 403
    assert world.anon.patch(path, json={"title": "x"}, headers=stale).status_code == 401
    assert world.admin.patch(path, json={"title": ""}, headers=stale).status_code == 400
    assert world.admin.patch("/api/movies/999999/", json={"title": "x"}, headers=stale).status_code == 404
    assert world.admin.delete("/api/movies/999999/", headers={"If-Match": "*"}).status_code == 404


def test_created_movies_carry_their_tag(world: World[Client]) -> None:
    created = world.admin.post("/api/movies/", json={"title": "New"})
    assert created.headers["ETag"] == _etag(world.user, f"/api/movies/{created.json()['id']}/")


def test_a_preflight_allows_the_conditional_headers_and_etag_is_exposed() -> None:
    app = make_app(Settings(cors_origins=("https://client.example",)))
    preflight = app.anon.request(
        "OPTIONS",
        "/api/movies/1/",
        headers={
            "Origin": "https://client.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, if-match, if-none-match",
        },
    )
    assert preflight.status_code == 200
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"if-match", "if-none-match"} <= allowed
    answer = app.anon.get("/api/movies/", headers={"Origin": "https://client.example"})
    assert "etag" in answer.headers["Access-Control-Expose-Headers"].lower()
