"""``GET /api/users/me/export/`` (issue 17 item 6), in-process on fakes: the caller's own
ratings as a JSON or CSV attachment, bounded per request and continued by ?after=."""

from __future__ import annotations

import csv
import io
import json

import pytest

from movierater_core.use_cases import exports
from tests.unit.http.inprocess import Client
from tests.world import World


def _rate(world: World[Client], client: Client, title: str, stars: int) -> int:
    movie_id = int(world.new_movie(title=title)["id"])
    assert client.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": stars}).status_code == 200
    return movie_id


def test_the_export_holds_the_callers_ratings_only(world: World[Client]) -> None:
    heat = _rate(world, world.user, "Heat", 4)
    alien = _rate(world, world.user, 'Alien, "the" first', 2)
    _rate(world, world.other_user, "Not mine", 5)
    resp = world.user.get("/api/users/me/export/")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="ratings.json"'
    assert json.loads(resp.text) == [
        {"movie": heat, "title": "Heat", "stars": 4},
        {"movie": alien, "title": 'Alien, "the" first', "stars": 2},
    ]
    as_csv = world.user.get("/api/users/me/export/?format=csv")
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["Content-Disposition"] == 'attachment; filename="ratings.csv"'
    assert list(csv.DictReader(io.StringIO(as_csv.text))) == [
        {"movie": str(heat), "title": "Heat", "stars": "4"},
        {"movie": str(alien), "title": 'Alien, "the" first', "stars": "2"},
    ]
    assert json.loads(world.admin.get("/api/users/me/export/").text) == []
    assert world.admin.get("/api/users/me/export/?format=csv").text == "movie,title,stars\r\n"


def test_a_long_export_comes_in_parts(world: World[Client], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "EXPORT_PAGE", 2)
    movies = [_rate(world, world.user, f"Movie {n}", 1 + n % 5) for n in range(5)]
    seen: list[int] = []
    path = "/api/users/me/export/?format=json"
    while True:
        resp = world.user.get(path)
        assert resp.status_code == 200, resp.text
        part = [row["movie"] for row in json.loads(resp.text)]
        assert len(part) <= 2
        seen += part
        link = resp.headers.get("Link")
        if link is None:
            break
        path = link[link.index("/api/") : link.index(">")]
    assert seen == movies


@pytest.mark.parametrize("query", ["format=xml", "format=", "after=0", "after=x"])
def test_a_bad_query_is_400_in_drf_shape(world: World[Client], query: str) -> None:
    resp = world.user.get(f"/api/users/me/export/?{query}")
    assert resp.status_code == 400, resp.text
    assert set(resp.json()) == {query.split("=")[0]}


def test_the_export_needs_a_token(world: World[Client]) -> None:
    assert world.anon.get("/api/users/me/export/").status_code == 401
