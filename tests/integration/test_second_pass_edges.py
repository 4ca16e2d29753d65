"""The smaller findings of #13 item 7, attacked through gunicorn on every backend:
``Vary: Origin``, the last admin deleting themself, a password of spaces, ids in paths and
queries, who is listed by ``GET /api/users/``, a short TTL that slides, and ids that are
never reused."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.conftest import USER_PASSWORD, Client, Server, World, make_admin, sign_up

ANGULAR = "http://localhost:4200"
LAST_ADMIN = "This is the last admin: promote another user before deleting this one."


def _varies_on_origin(headers: Any) -> bool:
    return "origin" in {part.strip().lower() for part in headers.get("Vary", "").split(",")}


def test_every_answer_varies_on_origin(world: World) -> None:
    """A shared cache must not give one origin's answer (with or without its
    Access-Control-Allow-Origin) to another."""
    answers = [
        world.user.get("/api/movies/", headers={"Origin": ANGULAR}),
        world.user.get("/api/movies/", headers={"Origin": "http://evil.example"}),
        world.user.get("/api/movies/"),
        world.anon.get("/api/movies/", headers={"Origin": ANGULAR}),  # 401
        world.user.get("/api/movies/424242/", headers={"Origin": ANGULAR}),  # 404
        world.anon.request(
            "OPTIONS",
            "/api/movies/",
            headers={"Origin": ANGULAR, "Access-Control-Request-Method": "POST"},
        ),
    ]
    for resp in answers:
        assert resp.status_code < 500, resp.text
        assert _varies_on_origin(resp.headers), (resp.request.method, resp.status_code, resp.headers)


def test_the_last_admin_cannot_delete_themself(api: Client, server: Server) -> None:
    admin = make_admin(server)
    resp = admin.delete(f"/api/users/{admin.user_id}/")
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"non_field_errors": [LAST_ADMIN]}
    assert admin.get(f"/api/users/{admin.user_id}/").status_code == 200  # still there, still signed in
    second = make_admin(server)
    assert admin.delete(f"/api/users/{admin.user_id}/").status_code == 204  # not the last any more
    resp = second.delete(f"/api/users/{second.user_id}/")
    assert resp.status_code == 400, resp.text
    user = sign_up(api.base_url)
    assert user.delete(f"/api/users/{user.user_id}/").status_code == 204


@pytest.mark.parametrize("blank", [" " * 12, "\t" * 10, "\u3000" * 9])
def test_a_password_of_spaces_is_blank(world: World, blank: str) -> None:
    resp = world.anon.post("/api/users/", json={"username": "spacey", "password": blank})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"password": ["This field may not be blank."]}
    me = world.user
    resp = me.patch(f"/api/users/{me.user_id}/", json={"password": blank})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"password": ["This field may not be blank."]}


def test_a_password_with_spaces_around_it_is_never_stripped(api: Client) -> None:
    padded = "  padded passphrase  "
    sign_up(api.base_url, "padded", padded)
    stripped = api.post("/auth/", json={"username": "padded", "password": padded.strip()})
    assert stripped.status_code == 400, stripped.text


def test_ids_in_paths_and_queries_follow_one_rule(world: World) -> None:
    movie = world.new_movie()
    mid = movie["id"]
    rated = world.user.post(f"/api/movies/{mid}/rate_movie/", json={"stars": 4})
    assert rated.status_code == 200, rated.text
    padded = f"000{mid}"  # leading zeros: the same id in both places
    assert world.user.get(f"/api/movies/{padded}/").json() == world.user.get(f"/api/movies/{mid}/").json()
    assert (
        world.user.get(f"/api/ratings/?movie={padded}").json()
        == world.user.get(f"/api/ratings/?movie={mid}").json()
    )
    arabic = str(mid).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    fullwidth = str(mid).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for spelling in (f"+{mid}", f"-{mid}", arabic, fullwidth, f" {mid}", f"{mid} ", f"{mid}.0"):
        path = world.user.get(f"/api/movies/{quote(spelling)}/")
        assert path.status_code == 404, (spelling, path.text)
        rate = world.user.post(f"/api/movies/{quote(spelling)}/rate_movie/", json={"stars": 1})
        assert rate.status_code == 404, (spelling, rate.text)
        query = world.user.get(f"/api/ratings/?movie={quote(spelling)}")
        assert query.status_code == 400, (spelling, query.text)
        assert query.json() == {"movie": ["A valid integer is required."]}
    assert world.user.get(f"/api/movies/{mid}/").json()["no_of_ratings"] == 1  # no 1-star landed


def test_users_see_themselves_and_admins_see_everyone(world: World) -> None:
    listed = world.user.get("/api/users/")
    assert listed.status_code == 200, listed.text
    me = world.user.get(f"/api/users/{world.user.user_id}/").json()
    assert listed.json() == [me]  # the Angular client's diagnostic page still gets a list
    everyone = {u["id"] for u in world.admin.get("/api/users/").json()}
    assert {world.user.user_id, world.other_user.user_id, world.admin.user_id} <= everyone


def test_a_deleted_users_id_is_never_given_again(api: Client) -> None:
    sign_up(api.base_url)
    last = sign_up(api.base_url)
    assert last.delete(f"/api/users/{last.user_id}/").status_code == 204
    after = sign_up(api.base_url)
    assert after.user_id is not None and last.user_id is not None
    assert after.user_id > last.user_id


def test_a_short_ttl_slides_with_use(tmp_path: Any) -> None:
    """The last use was recorded every 10 minutes whatever the TTL: a 3-second token in
    steady use expired 3 seconds after its login."""
    server = Server(f"sqlite:///{tmp_path / 'ttl.db'}", tmp_path, MOVIERATER_TOKEN_TTL="3")
    try:
        client = sign_up(server.base_url, "brief", USER_PASSWORD)
        for _ in range(6):  # 6 x 1.2 s: past two TTLs, never 3 s idle
            time.sleep(1.2)
            resp = client.get("/api/movies/")
            assert resp.status_code == 200, resp.text
        time.sleep(4.2)
        assert client.get("/api/movies/").status_code == 401  # idle longer than the TTL
    finally:
        server.stop()
