"""Error shapes (bad bodies, bad auth headers, unknown routes) and CORS: the app's own HTTP
behaviour, which needs no database and no server process, so it runs in-process on fakes
(moved from tests/integration/test_errors_and_cors.py, which keeps what does need them)."""

from __future__ import annotations

import pytest

from tests.unit.http.inprocess import Client, Response, World

ANGULAR = "http://localhost:4200"
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
NOT_FOUND = {"detail": "Not found."}


def json_post(
    client: Client, path: str, raw: bytes | str, content_type: str = "application/json"
) -> Response:
    return client.post(path, data=raw, headers={"Content-Type": content_type})


# ---- request bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ['{"username": "a", "password": ', "{'username': 'a'}", "{,}", '{"a": 1}}', "nul", '{"a": NaN}'],
    ids=["truncated", "single-quotes", "stray-comma", "trailing-brace", "bad-literal", "nan"],
)
def test_malformed_json_is_400_json_parse_error(world: World, raw: str) -> None:
    resp = json_post(world.anon, "/auth/", raw)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert list(body) == ["detail"]
    assert body["detail"].startswith("JSON parse error"), body


def test_malformed_json_from_a_signed_in_user_is_400_too(world: World) -> None:
    movie = world.new_movie()
    resp = json_post(world.user, f"/api/movies/{movie['id']}/rate_movie/", '{"stars": 5')
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"].startswith("JSON parse error")
    assert world.user.get(f"/api/ratings/?movie={movie['id']}").json() == []


def test_a_chunked_body_the_server_cannot_end_is_411_never_an_empty_body(world: World) -> None:
    """Without PEP 3333's ``wsgi.input_terminated`` (falcon.testing's environ has none) the
    end of a chunked body cannot be found safely: 411, not ``{}`` and a 200 that did nothing
    (gunicorn's case, where it is read: tests/integration/test_chunked_bodies.py)."""
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    resp = world.admin.patch(f"/api/movies/{world.movie_id}/", headers=headers)
    assert resp.status_code == 411, resp.text
    assert list(resp.json()) == ["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/html; charset=utf-8"])
def test_a_body_that_is_not_json_is_415(world: World, content_type: str) -> None:
    resp = json_post(world.anon, "/auth/", "username=a&password=b", content_type)
    assert resp.status_code == 415, resp.text
    body = resp.json()
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str) and body["detail"]


def test_json_with_a_charset_parameter_is_accepted(world: World) -> None:
    resp = json_post(world.anon, "/auth/", '{"username": "nobody"}', "application/json; charset=utf-8")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"password": ["This field is required."]}


@pytest.mark.parametrize(
    "who, path",
    [("admin", "/api/movies/"), ("anon", "/api/users/"), ("anon", "/auth/")],
)
def test_a_json_list_body_is_400_expected_a_dictionary(world: World, who: str, path: str) -> None:
    client = getattr(world, who)
    resp = client.post(path, json=[{"title": "t", "username": "u", "password": "p"}])
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


# ---- the Authorization header -----------------------------------------------------------


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Token", "Invalid token header. No credentials provided."),
        ("Token ", "Invalid token header. No credentials provided."),
        ("Token abc def", "Invalid token header. Token string should not contain spaces."),
        ("Token " + "0" * 40, "Invalid token."),
        ("Token not-hex-at-all!", "Invalid token."),
        ("Bearer " + "f" * 40, "Invalid token."),
        ("Basic dXNlcjpwYXNz", "Authentication credentials were not provided."),
        ("", "Authentication credentials were not provided."),
    ],
    ids=[
        "no-key",
        "no-key-trailing-space",
        "spaces",
        "unknown-key",
        "junk-key",
        "unknown-bearer",
        "basic",
        "empty",
    ],
)
def test_bad_authorization_headers_are_401(world: World, header: str, detail: str) -> None:
    resp = world.anon.get("/api/movies/", headers={"Authorization": header})
    assert resp.status_code == 401, resp.text
    assert resp.headers.get("WWW-Authenticate") == "Token"
    assert resp.json() == {"detail": detail}


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_a_valid_key_works_with_token_or_bearer(world: World, scheme: str) -> None:
    resp = world.anon.get(
        f"/api/movies/{world.movie_id}/", headers={"Authorization": f"{scheme} {world.user.token}"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == world.movie_id
    assert resp.json()["title"] == "Fixture"


def test_every_protected_endpoint_needs_credentials(world: World) -> None:
    m, u = world.movie_id, world.user.user_id
    for method, path in (
        ("GET", "/api/movies/"),
        ("GET", f"/api/movies/{m}/"),
        ("GET", "/api/ratings/"),
        ("GET", "/api/ratings/1/"),
        ("DELETE", "/api/ratings/1/"),
        ("GET", "/api/users/"),
        ("GET", f"/api/users/{u}/"),
        ("PUT", f"/api/users/{u}/"),
        ("PATCH", f"/api/users/{u}/"),
        ("DELETE", f"/api/users/{u}/"),
        ("DELETE", "/auth/"),
    ):
        resp = world.anon.request(method, path, json={"username": "x", "password": "y"})
        assert resp.status_code == 401, (method, path, resp.text)
        assert resp.headers.get("WWW-Authenticate") == "Token", (method, path)
        assert resp.json() == NO_CREDENTIALS, (method, path)
    assert world.alive()


# ---- unknown routes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/docs/static/nothing.js"),  # (``/`` redirects to the docs: test_authorization_matrix)
        ("GET", "/api/nothing/"),
        ("GET", "/api/movie/"),
        ("POST", "/api/movies/1/unknown_action/"),
        ("GET", "/api/movies/1/rate_movie/extra/"),
        ("DELETE", "/admin/nothing/"),  # /admin/ is the admin portal's page (issue 16)
        ("GET", "/api/users/myself/"),  # /api/users/me/ is a route (issue 17)
    ],
)
def test_an_unknown_route_is_404_not_found(world: World, method: str, path: str) -> None:
    for client in (world.anon, world.user):
        resp = client.request(method, path)
        assert resp.status_code == 404, (path, resp.text)
        assert resp.json() == NOT_FOUND


# ---- CORS -------------------------------------------------------------------------------


def preflight(world: World, path: str, origin: str, method: str = "POST") -> Response:
    return world.anon.request(
        "OPTIONS",
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )


def _listed(header: str | None) -> set[str]:
    return {part.strip().lower() for part in (header or "").split(",") if part.strip()}


@pytest.mark.parametrize(
    "path, method",
    [
        ("/auth/", "POST"),
        ("/api/users/", "POST"),
        ("/api/movies/", "POST"),
        ("/api/movies/{m}/", "PUT"),
        ("/api/movies/{m}/", "DELETE"),
        ("/api/movies/{m}/rate_movie/", "POST"),
        ("/api/ratings/", "GET"),
    ],
)
def test_a_preflight_from_the_angular_origin_is_allowed_without_auth(
    world: World, path: str, method: str
) -> None:
    resp = preflight(world, path.format(m=world.movie_id), ANGULAR, method)
    assert 200 <= resp.status_code < 300, resp.text
    assert resp.headers.get("Access-Control-Allow-Origin") == ANGULAR
    assert {"authorization", "content-type"} <= _listed(resp.headers.get("Access-Control-Allow-Headers"))
    assert method.lower() in _listed(resp.headers.get("Access-Control-Allow-Methods"))
    assert "WWW-Authenticate" not in resp.headers


def test_a_preflight_from_another_origin_gets_no_allow_origin(world: World) -> None:
    resp = preflight(world, "/api/movies/", "http://evil.example")
    assert resp.status_code < 500, resp.text
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Access-Control-Allow-Credentials" not in resp.headers


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:4201", "https://localhost:4200"])
def test_responses_to_other_origins_carry_no_allow_origin(world: World, origin: str) -> None:
    resp = world.user.get("/api/movies/", headers={"Origin": origin})
    assert resp.status_code == 200, resp.text
    assert any(m["id"] == world.movie_id for m in resp.json())
    assert "Access-Control-Allow-Origin" not in resp.headers


def test_actual_responses_to_the_angular_origin_allow_it_even_on_errors(world: World) -> None:
    """The SPA must be able to read error bodies (DRF messages), not only successes."""
    ok = world.user.get("/api/movies/", headers={"Origin": ANGULAR})
    assert ok.status_code == 200, ok.text
    assert ok.headers.get("Access-Control-Allow-Origin") == ANGULAR

    bad_login = world.anon.post(
        "/auth/", json={"username": "x", "password": "y"}, headers={"Origin": ANGULAR}
    )
    assert bad_login.status_code == 400, bad_login.text
    assert bad_login.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert bad_login.headers.get("Access-Control-Allow-Origin") == ANGULAR

    anon = world.anon.get("/api/movies/", headers={"Origin": ANGULAR})
    assert anon.status_code == 401, anon.text
    assert anon.json() == NO_CREDENTIALS
    assert anon.headers.get("Access-Control-Allow-Origin") == ANGULAR

    missing = world.user.get("/api/movies/424242/", headers={"Origin": ANGULAR})
    assert missing.status_code == 404, missing.text
    assert missing.json() == NOT_FOUND
    assert missing.headers.get("Access-Control-Allow-Origin") == ANGULAR
