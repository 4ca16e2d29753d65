"""The lists' answers over HTTP (issue 12), in-process on the fakes: the bare array a client
without parameters gets, cut to the maximum page size with Link and X-Total-Count; DRF's
envelope with limit/offset, its next/previous URLs as DRF builds them; 400s in DRF's shape;
the headers exposed to a browser client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from movierater_entrypoints.settings import Settings

from tests.unit.http.inprocess import App, Client, make_admin, make_app

PAGE = 3


@pytest.fixture
def small() -> App:
    return make_app(Settings(max_page_size=PAGE))


def seeded(app: App, titles: list[str]) -> tuple[Client, list[int]]:
    admin = make_admin(app)
    ids = []
    for title in titles:
        created = admin.post("/api/movies/", json={"title": title})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return admin, ids


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_a_list_within_the_bound_is_the_bare_array_with_its_count(small: App) -> None:
    admin, ids = seeded(small, ["a", "b"])
    resp = admin.get("/api/movies/")
    assert resp.status_code == 200
    assert [m["id"] for m in resp.json()] == ids
    assert resp.headers["X-Total-Count"] == "2"
    assert "Link" not in resp.headers


def test_a_list_beyond_the_bound_is_its_first_page_and_says_so(small: App) -> None:
    admin, ids = seeded(small, ["a", "b", "c", "d", "e"])
    resp = admin.get("/api/movies/")
    assert [m["id"] for m in resp.json()] == ids[:PAGE]  # a bare array: the Angular shape
    assert resp.headers["X-Total-Count"] == "5"
    assert (
        resp.headers["Link"]
        == f'<http://falconframework.org/api/movies/?limit={PAGE}&offset={PAGE}>; rel="next"'
    )
    following = admin.get(f"/api/movies/?limit={PAGE}&offset={PAGE}")
    assert [m["id"] for m in following.json()["results"]] == ids[PAGE:]


def test_limit_and_offset_answer_drfs_envelope(small: App) -> None:
    admin, ids = seeded(small, ["a", "b", "c", "d", "e"])
    resp = admin.get("/api/movies?limit=2&offset=2")  # no trailing slash: the links have it
    body = resp.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 5 and [m["id"] for m in body["results"]] == ids[2:4]
    assert body["next"] == "http://falconframework.org/api/movies/?limit=2&offset=4"
    assert body["previous"] == "http://falconframework.org/api/movies/?limit=2"  # DRF drops offset=0
    assert resp.headers["Link"] == f'<{body["next"]}>; rel="next", <{body["previous"]}>; rel="prev"'
    assert resp.headers["X-Total-Count"] == "5"
    last = admin.get(body["next"].removeprefix("http://falconframework.org")).json()
    assert last["next"] is None and [m["id"] for m in last["results"]] == ids[4:]
    assert last["previous"] == "http://falconframework.org/api/movies/?limit=2&offset=2"
    assert admin.get("/api/movies/?offset=0").json()["count"] == 5  # offset alone: the envelope
    beyond = admin.get("/api/movies/?offset=50").json()
    assert beyond == {
        "count": 5,
        "next": None,
        "previous": f"http://falconframework.org/api/movies/?limit={PAGE}&offset=47",
        "results": [],
    }


def test_a_limit_above_the_maximum_is_the_maximum_and_the_next_link_shows_it(small: App) -> None:
    admin, ids = seeded(small, ["a", "b", "c", "d"])
    body = admin.get("/api/movies/?limit=1000").json()
    assert len(body["results"]) == PAGE
    assert query(body["next"]) == {"limit": [str(PAGE)], "offset": [str(PAGE)]}


def test_search_and_ordering_are_kept_in_the_links(small: App) -> None:
    admin, _ids = seeded(small, ["x1", "x2", "y", "x3", "x4"])
    resp = admin.get("/api/movies/?search=X&ordering=-title")
    assert [m["title"] for m in resp.json()] == ["x4", "x3", "x2"]
    assert resp.headers["X-Total-Count"] == "4"
    url = resp.headers["Link"].split(">")[0].lstrip("<")
    assert query(url) == {"limit": ["3"], "offset": ["3"], "ordering": ["-title"], "search": ["X"]}
    assert [
        m["title"] for m in admin.get(url.removeprefix("http://falconframework.org")).json()["results"]
    ] == ["x1"]
    literal = admin.get("/api/movies/?search=%25").json()  # "%": no title holds it
    assert literal == []


@pytest.mark.parametrize(
    ("path", "errors"),
    [
        ("/api/movies/?limit=0", {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ("/api/movies/?offset=-1", {"offset": ["Ensure this value is greater than or equal to 0."]}),
        ("/api/movies/?limit=ten", {"limit": ["A valid integer is required."]}),
        ("/api/movies/?ordering=stars", {"ordering": ['"stars" is not a valid choice.']}),
        ("/api/movies/?search=%00", {"search": ["Null characters are not allowed."]}),
        ("/api/ratings/?limit=-2", {"limit": ["Ensure this value is greater than or equal to 1."]}),
        (
            "/api/ratings/?movie=x&offset=y",
            {"movie": ["A valid integer is required."], "offset": ["A valid integer is required."]},
        ),
        ("/api/users/?limit=", {"limit": ["A valid integer is required."]}),
    ],
)
def test_bad_values_are_400_in_drfs_shape(small: App, path: str, errors: dict[str, list[str]]) -> None:
    admin, _ids = seeded(small, ["a"])
    resp = admin.get(path)
    assert resp.status_code == 400 and resp.json() == errors


def test_ratings_and_users_are_bounded_and_paged_too(small: App) -> None:
    admin, ids = seeded(small, ["a", "b", "c", "d"])
    for movie_id in ids:
        assert admin.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": 4}).status_code == 200
    ratings = admin.get("/api/ratings/")
    assert len(ratings.json()) == PAGE and ratings.headers["X-Total-Count"] == "4"
    assert 'rel="next"' in ratings.headers["Link"]
    mine = admin.get(f"/api/ratings/?user={admin.user_id}&limit=2&offset=2").json()
    assert [r["movie"] for r in mine["results"]] == ids[2:] and mine["count"] == 4
    assert query(mine["previous"]) == {"limit": ["2"], "user": [str(admin.user_id)]}
    users = admin.get("/api/users/?limit=1").json()
    assert users["count"] == 1 and users["results"][0]["id"] == admin.user_id


def test_a_browser_client_may_read_the_paging_headers(small: App) -> None:
    admin, _ids = seeded(small, ["a"])
    resp = admin.get("/api/movies/", headers={"Origin": "http://localhost:4200"})
    exposed = {h.strip().lower() for h in resp.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"link", "x-total-count", "retry-after"} <= exposed


def test_ratings_by_cursor_answer_drfs_cursor_envelope_without_a_count(small: App) -> None:
    admin, ids = seeded(small, ["a", "b", "c", "d", "e"])
    for movie_id in ids:
        assert admin.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": 4}).status_code == 200
    first = admin.get("/api/ratings/?movie_ignored=1&cursor=&limit=2")
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"next", "previous", "results"} and body["previous"] is None
    assert [r["movie"] for r in body["results"]] == ids[:2]
    assert "X-Total-Count" not in first.headers
    assert first.headers["Link"] == f'<{body["next"]}>; rel="next"'
    assert body["next"].startswith("http://falconframework.org/api/ratings/?")
    assert query(body["next"]) == {
        "cursor": [query(body["next"])["cursor"][0]],
        "limit": ["2"],
        "movie_ignored": ["1"],
    }
    seen = body["results"]
    url = body["next"]
    while url:
        page = admin.get(urlsplit(url).path + "?" + urlsplit(url).query).json()
        seen += page["results"]
        url = page["next"]
    assert [r["movie"] for r in seen] == ids
    cut = admin.get("/api/ratings/?cursor=&limit=9").json()  # the limit cut to the page size
    assert len(cut["results"]) == PAGE and query(cut["next"])["limit"] == [str(PAGE)]
    rest = admin.get(f"/api/ratings/?cursor={query(cut['next'])['cursor'][0]}").json()  # no limit: the most
    assert [r["movie"] for r in rest["results"]] == ids[PAGE:] and rest["next"] is None
    # a user's by movie, the filter kept in the next link
    mine = admin.get("/api/ratings/?user=me&cursor=&limit=2").json()
    assert [r["movie"] for r in mine["results"]] == ids[:2] and query(mine["next"])["user"] == ["me"]
    # the plain list and limit/offset are as they were
    assert isinstance(admin.get("/api/ratings/").json(), list)
    assert admin.get("/api/ratings/?limit=2").json()["count"] == 5


@pytest.mark.parametrize(
    ("path", "errors"),
    [
        ("/api/ratings/?cursor=nonsense", {"cursor": ["Invalid cursor."]}),
        ("/api/ratings/?cursor=%00", {"cursor": ["Invalid cursor."]}),
        (
            "/api/ratings/?cursor=&offset=3",
            {"offset": ["Not allowed with cursor: a cursor says where the page starts."]},
        ),
        # a cursor of the list by id (rating 1) on the list by time changed
        ("/api/ratings/?cursor=aWQ6MQ&since=2026-01-01T00:00:00Z", {"cursor": ["Invalid cursor."]}),
        (
            "/api/ratings/?cursor=aWQ6MQ&limit=0",
            {"limit": ["Ensure this value is greater than or equal to 1."]},
        ),
    ],
)
def test_a_bad_cursor_is_400_in_drfs_shape(small: App, path: str, errors: dict[str, list[str]]) -> None:
    admin, _ids = seeded(small, ["a"])
    resp = admin.get(path)
    assert resp.status_code == 400 and resp.json() == errors


def test_other_lists_ignore_a_cursor_as_any_unknown_parameter(small: App) -> None:
    admin, ids = seeded(small, ["a", "b"])
    assert [m["id"] for m in admin.get("/api/movies/?cursor=aWQ6MQ").json()] == ids
