"""Request bodies at the size limit through the real server, and no 5xx on odd input that
reaches the database (ids, stored text) on every backend. The error shapes and CORS that
need neither run in-process: tests/unit/http/test_errors_and_cors.py.

Also home of ``world``: one admin (made by the CLI), two users and a movie per backend,
shared by the tests here and in test_movies.py and test_ratings.py, which need no empty
database. Every user costs an argon2 hash or two, so they are made once and made again
only when a test that empties the database (the ``api`` fixture) has run in between.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import requests

from tests.integration.conftest import USER_PASSWORD, Client, World

MIB = 1024 * 1024
_serial = itertools.count()


def json_post(
    client: Client, path: str, raw: bytes | str, content_type: str = "application/json"
) -> requests.Response:
    return client.post(path, data=raw, headers={"Content-Type": content_type})


# ---- request bodies (the server reads them) ---------------------------------------------


@pytest.mark.parametrize("path", ["/auth/", "/api/users/", "/api/movies/"])
def test_a_body_over_one_mib_is_413(world: World, path: str) -> None:
    raw = json.dumps({"username": "u" * MIB, "password": "p", "title": "t"})
    assert len(raw) > MIB
    resp = json_post(world.admin, path, raw)
    assert resp.status_code == 413, resp.text
    body = resp.json()
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str) and body["detail"]


def test_a_body_of_just_under_one_mib_is_read(world: World) -> None:
    raw = json.dumps({"title": "t" * (MIB - 100)})
    assert len(raw) <= MIB
    resp = json_post(world.admin, "/api/movies/", raw)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"title": ["Ensure this field has no more than 150 characters."]}


# ---- never a 5xx ------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


ODD_INPUTS: list[tuple[str, str, str, dict[str, Any], set[int]]] = [
    # (case id, who sends it, "METHOD path", requests kwargs, the statuses a correct server may give)
    ("stars 10**30", "user", "POST {rate}", {"json": {"stars": 10**30}}, {400}),
    ("stars -10**30", "user", "POST {rate}", {"json": {"stars": -(10**30)}}, {400}),
    ("stars 2**63", "user", "POST {rate}", {"json": {"stars": 2**63}}, {400}),
    ("stars 2**64", "user", "POST {rate}", {"json": {"stars": 2**64}}, {400}),
    ("stars 1e308", "user", "POST {rate}", {"json": {"stars": 1e308}}, {400}),
    ("stars 1e400 literal", "user", "POST {rate}", {"data": b'{"stars": 1e400}'}, {400}),
    ("stars Infinity literal", "user", "POST {rate}", {"data": b'{"stars": Infinity}'}, {400}),
    ("stars 5.0", "user", "POST {rate}", {"json": {"stars": 5.0}}, {200, 400}),
    ("stars object", "user", "POST {rate}", {"json": {"stars": {"$gt": 0}}}, {400}),
    ("rate huge movie id", "user", "POST /api/movies/99999999999/rate_movie/", {"json": {"stars": 5}}, {404}),
    ("nested 5000 object", "admin", "POST /api/movies/", {"data": _nested(5000).encode()}, {400}),
    ("nested 5000 list", "anon", "POST /auth/", {"data": ("[" * 5000 + "]" * 5000).encode()}, {400}),
    (
        "nested 5000 stars",
        "user",
        "POST {rate}",
        {"data": ('{"stars": ' + "[" * 5000 + "]" * 5000 + "}").encode()},
        {400},
    ),
    ("title NUL", "admin", "POST /api/movies/", {"json": {"title": "\u0000"}}, {400}),
    (
        "title inner NUL",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "a\u0000b", "description": "x"}},
        {400},
    ),
    (
        "description NUL",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "a", "description": "\u0000"}},
        {400},
    ),
    ("title lone surrogate", "admin", "POST /api/movies/", {"data": b'{"title": "\\ud800"}'}, {400}),
    ("title invalid utf-8", "admin", "POST /api/movies/", {"data": b'{"title": "\xff\xfe"}'}, {400}),
    ("body latin-1", "admin", "POST /api/movies/", {"data": '{"title": "Amélie"}'.encode("latin-1")}, {400}),
    ("title 150 emoji", "admin", "POST /api/movies/", {"json": {"title": "🎬" * 150}}, {201}),
    ("title 150 é", "admin", "POST /api/movies/", {"json": {"title": "é" * 150}}, {201}),
    ("title 151 emoji", "admin", "POST /api/movies/", {"json": {"title": "😀" * 151}}, {400}),
    (
        "title control chars",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "\x01\x02\x1b[31m\x7f"}},
        {201, 400},
    ),
    ("title rtl override", "admin", "POST /api/movies/", {"json": {"title": "\u202eevil"}}, {201, 400}),
    (
        "imagePath bad ipv6",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "t", "imagePath": "http://[::1"}},
        {400},
    ),
    (
        "imagePath bad port",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "t", "imagePath": "http://a.com:99999/x"}},
        {400},
    ),
    (
        "imagePath 300 chars",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "t", "imagePath": "https://" + "a" * 300 + ".com"}},
        {400},
    ),
    ("imagePath number", "admin", "POST /api/movies/", {"json": {"title": "t", "imagePath": 12}}, {400}),
    (
        "imagePath unicode host",
        "admin",
        "POST /api/movies/",
        {"json": {"title": "t", "imagePath": "https://bücher.example/a.png"}},
        {201, 400},
    ),
    ("patch huge movie id", "admin", "PATCH /api/movies/99999999999/", {"json": {"title": "t"}}, {404}),
    ("get huge movie id", "user", "GET /api/movies/99999999999/", {}, {404}),
    ("get 2**31 movie id", "user", "GET /api/movies/2147483648/", {}, {404}),
    ("get max int movie id", "user", "GET /api/movies/2147483647/", {}, {404}),
    ("get negative movie id", "user", "GET /api/movies/-5/", {}, {404}),
    ("delete negative movie id", "admin", "DELETE /api/movies/-5/", {}, {404}),
    ("get 40-digit movie id", "user", "GET /api/movies/" + "9" * 40 + "/", {}, {404}),
    ("get unicode digit id", "user", "GET /api/movies/\u0661\u0662/", {}, {200, 404}),
    ("get huge rating id", "user", "GET /api/ratings/99999999999/", {}, {404}),
    ("delete negative rating id", "user", "DELETE /api/ratings/-1/", {}, {404}),
    ("get huge user id", "admin", "GET /api/users/99999999999/", {}, {404}),
    ("filter huge movie", "user", "GET /api/ratings/?movie=99999999999999999999", {}, {400}),
    ("filter 2**31 movie", "user", "GET /api/ratings/?movie=2147483648", {}, {400}),
    ("filter negative user", "user", "GET /api/ratings/?user=-1", {}, {400}),
    ("filter unicode digits", "user", "GET /api/ratings/?movie=%D9%A1", {}, {400}),
    ("filter NUL", "user", "GET /api/ratings/?movie=%00", {}, {400}),
    ("filter repeated", "user", "GET /api/ratings/?movie=1&movie=2", {}, {200, 400}),
    (
        "register José",
        "anon",
        "POST /api/users/",
        {"json": {"username": "José{n}", "password": USER_PASSWORD}},
        {201},
    ),
    (
        "register 150 é",
        "anon",
        "POST /api/users/",
        {"json": {"username": "é" * 147 + "{n}", "password": USER_PASSWORD}},
        {201},
    ),
    (
        "register 151 chars",
        "anon",
        "POST /api/users/",
        {"json": {"username": "a" * 151, "password": USER_PASSWORD}},
        {400},
    ),
    (
        "register emoji name",
        "anon",
        "POST /api/users/",
        {"json": {"username": "💥", "password": USER_PASSWORD}},
        {400},
    ),
    (
        "register NUL name",
        "anon",
        "POST /api/users/",
        {"json": {"username": "a\u0000", "password": USER_PASSWORD}},
        {400},
    ),
    (
        "register number name",
        "anon",
        "POST /api/users/",
        {"json": {"username": 12345, "password": USER_PASSWORD}},
        {400},
    ),
    (
        "register huge password",
        "anon",
        "POST /api/users/",
        {"json": {"username": "big", "password": "p" * 100_000}},
        {400},
    ),
    ("login NUL", "anon", "POST /auth/", {"json": {"username": "José\u0000", "password": "x"}}, {400}),
    (
        "login huge password",
        "anon",
        "POST /auth/",
        {"json": {"username": "a", "password": "p" * 100_000}},
        {400},
    ),
    ("login numbers", "anon", "POST /auth/", {"json": {"username": 1, "password": 2}}, {400}),
    ("login nulls", "anon", "POST /auth/", {"json": {"username": None, "password": None}}, {400}),
    ("login body null", "anon", "POST /auth/", {"json": None, "data": b"null"}, {400}),
    ("login body string", "anon", "POST /auth/", {"data": b'"just a string"'}, {400}),
    ("login body number", "anon", "POST /auth/", {"data": b"12"}, {400}),
    ("patch self long name", "user", "PATCH /api/users/{me}/", {"json": {"username": "é" * 151}}, {400}),
    ("patch self null password", "user", "PATCH /api/users/{me}/", {"json": {"password": None}}, {400}),
    ("token non-ascii", "anon", "GET /api/movies/", {"headers": {"Authorization": "Token ключ"}}, {401}),
    (
        "token 4k chars",
        "anon",
        "GET /api/movies/",
        {"headers": {"Authorization": "Token " + "a" * 4000}},
        {401},
    ),
    ("token with tab", "anon", "GET /api/movies/", {"headers": {"Authorization": "Token abc\tdef"}}, {401}),
    ("token latin-1", "anon", "GET /api/movies/", {"headers": {"Authorization": "Token caf\xe9"}}, {401}),
    (
        "content-type garbage",
        "admin",
        "POST /api/movies/",
        {"data": b'{"title": "t"}', "headers": {"Content-Type": ";;;/"}},
        {415},
    ),
    ("unknown method", "user", "PROPFIND /api/movies/", {}, {405}),
]


@pytest.mark.parametrize(
    "who, target, kwargs, expected", [case[1:] for case in ODD_INPUTS], ids=[case[0] for case in ODD_INPUTS]
)
def test_odd_input_never_causes_a_server_error(
    world: World, who: str, target: str, kwargs: dict[str, Any], expected: set[int]
) -> None:
    client: Client = getattr(world, who)
    method, path = target.split(" ", 1)
    path = path.format(rate=f"/api/movies/{world.movie_id}/rate_movie/", me=world.user.user_id)
    kwargs = dict(kwargs)
    n = next(_serial)
    if "json" in kwargs and kwargs["json"] is not None:
        kwargs["json"] = json.loads(json.dumps(kwargs["json"]).replace("{n}", f"{n:03d}"))
    if "data" in kwargs:
        kwargs.pop("json", None)
        kwargs["headers"] = {"Content-Type": "application/json", **kwargs.get("headers", {})}
    if "headers" in kwargs and "Authorization" in kwargs["headers"]:
        kwargs["headers"] = {
            k: v.encode("utf-8") if isinstance(v, str) else v for k, v in kwargs["headers"].items()
        }

    resp = client.request(method, path, **kwargs)

    assert resp.status_code < 500, resp.text
    assert resp.status_code in expected, resp.text
    body = resp.json()
    assert isinstance(body, (dict, list))
    if resp.status_code >= 400:
        assert isinstance(body, dict) and body and all(isinstance(k, str) for k in body)
        assert all(isinstance(v, (str, list)) for v in body.values()), body
    if "title" in (kwargs.get("json") or {}) and resp.status_code == 201:  # accepted: stored exactly
        title = kwargs["json"]["title"]
        assert body["title"] == title.strip()
        assert world.user.get(f"/api/movies/{body['id']}/").json()["title"] == title.strip()
    assert world.alive(), "the shared fixtures must survive odd input"
