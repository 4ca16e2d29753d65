"""/auth/ (login, logout) and /api/users/: the HTTP contract of the original DRF service."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import ratings, tokens, users
from sqlalchemy import func, select

from tests.integration.conftest import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    Client,
    Server,
    run_cli,
    sign_up,
)
from tests.world import CHEAP_PASSWORD_HASHING

NEW_PASSWORD = "brand-new-secret-42"
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}
REQUIRED = ["This field is required."]
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
INVALID_TOKEN = {"detail": "Invalid token."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
INVALID_USERNAME = [
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
]


def login(base_url: str, username: str, password: str = USER_PASSWORD) -> requests.Response:
    return requests.post(base_url + "/auth/", json={"username": username, "password": password}, timeout=30)


def username_of(client: Client) -> str:
    me = client.get(f"/api/users/{client.user_id}/")
    assert me.status_code == 200, me.text
    return str(me.json()["username"])


def assert_invalid_token(resp: requests.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers.get("WWW-Authenticate") == "Token"
    assert resp.json() == INVALID_TOKEN


def assert_no_credentials(resp: requests.Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers.get("WWW-Authenticate") == "Token"
    assert resp.json() == NO_CREDENTIALS


def count(engine: Any, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


# ---- POST /auth/ ------------------------------------------------------------------------


def test_login_issues_a_new_40_hex_token_each_time(api: Client) -> None:
    alice = sign_up(api.base_url, "alice")
    first = login(api.base_url, "alice")
    second = api.post("/auth", json={"username": "alice", "password": USER_PASSWORD})  # no slash

    for resp in (first, second):
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith("application/json")
        assert list(resp.json()) == ["token"]
        assert re.fullmatch(r"[0-9a-f]{40}", resp.json()["token"])
    keys = {alice.token, first.json()["token"], second.json()["token"]}
    assert len(keys) == 3, "every login must issue a new token"
    for key in keys:
        listed = Client(api.base_url, key).get("/api/users/")
        assert listed.status_code == 200, listed.text
        assert listed.json() == [{"id": alice.user_id, "username": "alice"}]


def test_login_with_bad_credentials_is_400(api: Client, subtests: Any) -> None:
    sign_up(api.base_url, "bob")
    for name, username, password in (
        ("wrong password", "bob", "wrong-passphrase-9"),
        ("unknown user", "nobody-here", USER_PASSWORD),
        ("username case differs", "BOB", USER_PASSWORD),
        ("password case differs", "bob", USER_PASSWORD.upper()),
    ):
        with subtests.test(msg=name):
            resp = login(api.base_url, username, password)
            assert resp.status_code == 400, resp.text
            assert resp.json() == BAD_CREDENTIALS


def test_logout_revokes_only_the_token_used(api: Client) -> None:
    dave = sign_up(api.base_url, "dave")
    second = Client(api.base_url, login(api.base_url, "dave").json()["token"], dave.user_id)

    out = dave.delete("/auth/")
    assert out.status_code == 204, out.text
    assert out.content == b""

    assert_invalid_token(dave.get("/api/movies/"))
    assert_invalid_token(dave.delete("/auth/"))  # a revoked token cannot log out again
    still = second.get("/api/movies/")
    assert still.status_code == 200, still.text
    assert still.json() == []


# ---- POST /api/users/ (registration) ----------------------------------------------------


def test_register_returns_id_and_username_and_never_the_password(api: Client, engine: Any) -> None:
    resp = api.post("/api/users/", json={"username": "erin", "password": USER_PASSWORD})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == {"id", "username"}
    assert isinstance(body["id"], int) and body["id"] >= 1
    assert body["username"] == "erin"
    assert USER_PASSWORD not in resp.text

    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == "erin")).one()
    assert row.id == body["id"]
    assert not row.is_admin
    assert row.password_hash != USER_PASSWORD and row.password_hash.startswith("$argon2")

    token = login(api.base_url, "erin")
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("frank", "password", "This password is too common."),
        ("frank", "x7#q", "This password is too short. It must contain at least 8 characters."),
        ("frank", "80345129761", "This password is entirely numeric."),
        ("margaretsmith", "margaretsmith1", "The password is too similar to the username."),
    ],
    ids=["common", "short", "numeric", "similar"],
)
def test_register_rejects_a_weak_password(
    api: Client, engine: Any, username: str, password: str, message: str
) -> None:
    resp = api.post("/api/users/", json={"username": username, "password": password})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert list(body) == ["password"]
    assert message in body["password"]
    assert all(isinstance(m, str) for m in body["password"])
    assert count(engine, users) == 0


def test_register_rejects_a_bad_username(api: Client, engine: Any) -> None:
    resp = api.post("/api/users/", json={"username": "bad name!", "password": USER_PASSWORD})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"username": INVALID_USERNAME}
    assert count(engine, users) == 0


def test_register_rejects_a_duplicate_username(api: Client, engine: Any) -> None:
    sign_up(api.base_url, "grace")
    resp = api.post("/api/users/", json={"username": "grace", "password": "another-passphrase-7"})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"username": ["A user with that username already exists."]}
    assert count(engine, users) == 1
    assert login(api.base_url, "grace").status_code == 200  # the original keeps its password


def test_usernames_may_be_unicode_and_are_case_sensitive(api: Client) -> None:
    jose = sign_up(api.base_url, "José")
    ids = {jose.user_id}
    for name in ("JOSÉ", "Jose"):
        resp = api.post("/api/users/", json={"username": name, "password": USER_PASSWORD})
        assert resp.status_code == 201, resp.text
        assert resp.json()["username"] == name
        ids.add(resp.json()["id"])
    assert len(ids) == 3
    listed = jose.get("/api/users/")  # a non-admin is listed alone (#13 item 7)
    assert listed.status_code == 200, listed.text
    assert listed.json() == [{"id": jose.user_id, "username": "José"}]
    assert username_of(jose) == "José"


# ---- GET /api/users/ and /api/users/{id}/ -----------------------------------------------


def test_listing_users_needs_auth(api: Client, user: Client, other_user: Client, admin: Client) -> None:
    assert_no_credentials(api.get("/api/users/"))

    resp = user.get("/api/users/")  # a user is theirs or an admin's to read (#13 item 7)
    assert resp.status_code == 200, resp.text
    assert [u["id"] for u in resp.json()] == [user.user_id]
    resp = admin.get("/api/users/")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [u["id"] for u in body] == [user.user_id, other_user.user_id, admin.user_id]
    assert all(set(u) == {"id", "username"} for u in body)


def test_a_user_reads_themself_but_cannot_read_change_or_delete_others(
    api: Client, user: Client, other_user: Client, engine: Any
) -> None:
    own = user.get(f"/api/users/{user.user_id}/")
    assert own.status_code == 200, own.text
    assert set(own.json()) == {"id", "username"}
    assert own.json()["id"] == user.user_id

    theirs = user.get(f"/api/users/{other_user.user_id}/")
    assert theirs.status_code == 403, theirs.text
    assert theirs.json() == FORBIDDEN

    target = f"/api/users/{other_user.user_id}/"
    name = username_of(other_user)
    attempts = {
        "PUT": {"username": "hijacked", "password": NEW_PASSWORD},
        "PATCH": {"password": NEW_PASSWORD},
        "DELETE": None,
    }
    for method, body in attempts.items():
        resp = user.request(method, target, json=body)
        assert resp.status_code == 403, (method, resp.text)
        assert resp.json() == FORBIDDEN, method

    assert username_of(other_user) == name
    assert login(api.base_url, name).status_code == 200
    assert count(engine, users, users.c.id == other_user.user_id) == 1


def test_an_admin_reads_changes_and_deletes_any_user(
    api: Client, admin: Client, user: Client, engine: Any
) -> None:
    path = f"/api/users/{user.user_id}/"
    got = admin.get(path)
    assert got.status_code == 200, got.text
    assert got.json() == {"id": user.user_id, "username": username_of(user)}

    renamed = admin.patch(path, json={"username": "renamed-by-admin"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"id": user.user_id, "username": "renamed-by-admin"}

    # An admin setting a user's password revokes every token of that user.
    reset = admin.patch(path, json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.text
    assert_invalid_token(user.get("/api/movies/"))
    assert login(api.base_url, "renamed-by-admin", NEW_PASSWORD).status_code == 200
    assert admin.get("/api/movies/").status_code == 200

    gone = admin.delete(path)
    assert gone.status_code == 204, gone.text
    assert gone.content == b""
    assert count(engine, users, users.c.id == user.user_id) == 0
    missing = admin.get(path)
    assert missing.status_code == 404, missing.text
    assert missing.json() == {"detail": "Not found."}
    again = admin.delete(path)
    assert again.status_code == 404, again.text
    assert again.json() == {"detail": "Not found."}


# ---- PUT/PATCH /api/users/{id}/ ---------------------------------------------------------


def test_put_needs_username_and_password(api: Client, user: Client) -> None:
    path = f"/api/users/{user.user_id}/"
    partial = user.put(path, json={"username": "only-name"})
    assert partial.status_code == 400, partial.text
    assert partial.json() == {"password": REQUIRED}

    full = user.put(path, json={"username": "henry-renamed", "password": NEW_PASSWORD})
    assert full.status_code == 200, full.text
    assert full.json() == {"id": user.user_id, "username": "henry-renamed"}
    assert login(api.base_url, "henry-renamed", NEW_PASSWORD).status_code == 200


def test_patch_username(api: Client, user: Client, other_user: Client) -> None:
    old_name = username_of(user)
    path = f"/api/users/{user.user_id}/"

    taken = user.patch(path, json={"username": username_of(other_user)})
    assert taken.status_code == 400, taken.text
    assert taken.json() == {"username": ["A user with that username already exists."]}

    bad = user.patch(path, json={"username": "bad name!"})
    assert bad.status_code == 400, bad.text
    assert bad.json() == {"username": INVALID_USERNAME}

    resp = user.patch(path, json={"username": "ivy-renamed"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": user.user_id, "username": "ivy-renamed"}
    assert login(api.base_url, "ivy-renamed").status_code == 200
    assert login(api.base_url, old_name).json() == BAD_CREDENTIALS
    assert user.get("/api/movies/").status_code == 200  # a rename keeps the tokens


def test_patch_password_revokes_other_tokens_but_not_the_one_used(api: Client, user: Client) -> None:
    name = username_of(user)
    second = Client(api.base_url, login(api.base_url, name).json()["token"], user.user_id)
    assert second.get("/api/movies/").status_code == 200

    resp = user.patch(f"/api/users/{user.user_id}/", json={"password": NEW_PASSWORD})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": user.user_id, "username": name}
    assert "password" not in resp.json()

    kept = user.get(f"/api/users/{user.user_id}/")
    assert kept.status_code == 200, kept.text
    assert_invalid_token(second.get("/api/movies/"))

    new_login = login(api.base_url, name, NEW_PASSWORD)
    assert new_login.status_code == 200, new_login.text
    old_login = login(api.base_url, name, USER_PASSWORD)
    assert old_login.status_code == 400, old_login.text
    assert old_login.json() == BAD_CREDENTIALS


def test_patch_with_a_weak_password_changes_nothing(api: Client, user: Client) -> None:
    name = username_of(user)
    resp = user.patch(f"/api/users/{user.user_id}/", json={"password": "password"})
    assert resp.status_code == 400, resp.text
    assert list(resp.json()) == ["password"]
    assert "This password is too common." in resp.json()["password"]
    assert login(api.base_url, name, USER_PASSWORD).status_code == 200
    assert user.get("/api/movies/").status_code == 200


def test_patch_is_admin_does_not_make_a_user_admin(api: Client, user: Client, engine: Any) -> None:
    name = username_of(user)
    resp = user.patch(
        f"/api/users/{user.user_id}/",
        json={"is_admin": True, "is_staff": True, "is_superuser": True},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": user.user_id, "username": name}

    create = user.post("/api/movies/", json={"title": "Sneaky", "description": "no"})
    assert create.status_code == 403, create.text
    assert create.json() == FORBIDDEN
    with engine.connect() as conn:
        assert conn.execute(select(users.c.is_admin).where(users.c.id == user.user_id)).scalar_one() in (
            False,
            0,
        )


# ---- DELETE /api/users/{id}/ ------------------------------------------------------------


def test_deleting_a_user_removes_their_ratings_and_fixes_the_aggregates(
    api: Client, user: Client, other_user: Client, admin: Client, movie: dict[str, Any], engine: Any
) -> None:
    rate = f"/api/movies/{movie['id']}/rate_movie/"
    assert user.post(rate, json={"stars": 5}).status_code == 200
    kept = other_user.post(rate, json={"stars": 2})
    assert kept.status_code == 200, kept.text
    second = admin.post("/api/movies/", json={"title": "Brazil", "description": "Paperwork."}).json()
    assert user.post(f"/api/movies/{second['id']}/rate_movie/", json={"stars": 1}).status_code == 200
    before = other_user.get(f"/api/movies/{movie['id']}/").json()
    assert (before["no_of_ratings"], before["ave_ratings"]) == (2, 3.5)
    name = username_of(user)

    resp = user.delete(f"/api/users/{user.user_id}/")
    assert resp.status_code == 204, resp.text
    assert resp.content == b""

    after = other_user.get(f"/api/movies/{movie['id']}/")
    assert after.status_code == 200, after.text
    assert after.json()["no_of_ratings"] == 1
    assert after.json()["ave_ratings"] == 2.0
    unrated = other_user.get(f"/api/movies/{second['id']}/").json()
    assert (unrated["no_of_ratings"], unrated["ave_ratings"]) == (0, 0)
    left = other_user.get("/api/ratings/")
    assert left.status_code == 200, left.text
    assert left.json() == [kept.json()["result"]]
    assert count(engine, ratings, ratings.c.user_id == user.user_id) == 0
    assert count(engine, tokens, tokens.c.user_id == user.user_id) == 0
    assert count(engine, users, users.c.id == user.user_id) == 0

    assert_invalid_token(user.get("/api/movies/"))
    assert login(api.base_url, name).json() == BAD_CREDENTIALS


def test_only_a_digest_of_the_token_is_stored(api: Client, user: Client, engine: Any) -> None:
    key = user.token or ""
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(select(tokens))]
    assert any(row[0] == hashlib.sha256(key.encode()).hexdigest() for row in rows)
    assert all(key not in str(value) for row in rows for value in row)


def test_admins_search_users_by_name_and_see_their_roles_and_promote_and_demote(
    api: Client, admin: Client
) -> None:
    """The admin portal's queries (issue 16), on every backend: ?search= holds the text in
    any case, % and _ as plain characters; ?include=is_admin; promote and demote by id."""
    ann = sign_up(api.base_url, "Ann_Search")
    sign_up(api.base_url, "annie.search")
    sign_up(api.base_url, "bob-search")

    def names(query: str) -> list[str]:
        resp = admin.get(f"/api/users/?{query}")
        assert resp.status_code == 200, resp.text
        return [u["username"] for u in resp.json()]

    assert names("search=ANN") == ["Ann_Search", "annie.search"]
    assert names("search=n_s") == ["Ann_Search"]  # not "n.s": _ is no wildcard
    assert names("search=%25") == []  # nor is %
    paged = admin.get("/api/users/?search=search&limit=1&offset=1").json()
    assert paged["count"] == 3 and [u["username"] for u in paged["results"]] == ["annie.search"]
    roles = admin.get("/api/users/?search=ann_&include=is_admin").json()
    assert roles == [{"id": ann.user_id, "username": "Ann_Search", "is_admin": False}]
    assert ann.get("/api/users/?search=zzz").json() == []  # a user's list of themself, searched

    promoted = admin.post(f"/api/users/{ann.user_id}/promote/")
    assert promoted.json() == {"id": ann.user_id, "username": "Ann_Search", "is_admin": True}
    assert ann.get("/api/users/me/").json()["is_admin"] is True
    demoted = ann.post(f"/api/users/{admin.user_id}/demote/")  # one admin demotes another
    assert demoted.status_code == 200 and demoted.json()["is_admin"] is False
    last = ann.post(f"/api/users/{ann.user_id}/demote/")
    assert last.status_code == 400
    assert last.json() == {
        "non_field_errors": ["This is the last admin: promote another user before demoting this one."]
    }
    assert admin.post(f"/api/users/{ann.user_id}/demote/").status_code == 403
    assert ann.post("/api/users/2147483647/promote/").status_code == 404
    bad = admin.get("/api/users/?include=my_rating")
    assert bad.status_code == 400 and bad.json() == {"include": ['"my_rating" is not a valid choice.']}


def test_a_hash_made_at_another_cost_is_replaced_at_the_next_login(
    api: Client, server: Server, engine: Any
) -> None:
    """An operator who changes MOVIERATER_PASSWORD_HASH_* keeps every user: a hash made at
    the old cost (here the default, by the CLI) verifies, and the first login stores one
    at the server's cost (the tests' servers: 19,456 KiB x 2)."""
    default_cost = {
        "MOVIERATER_PASSWORD_HASH_MEMORY_KIB": "65536",
        "MOVIERATER_PASSWORD_HASH_ITERATIONS": "3",
    }
    run_cli(
        "createsuperuser",
        "--username",
        "olga",
        "--noinput",
        env={**server.env, **default_cost, "MOVIERATER_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
    )

    def stored() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(select(users.c.password_hash).where(users.c.username == "olga")).scalar_one()
            )

    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(api.base_url, "olga", ADMIN_PASSWORD).status_code == 200
    memory, iterations = CHEAP_PASSWORD_HASHING.values()
    assert stored().startswith(f"$argon2id$v=19$m={memory},t={iterations},p=4$")
    assert login(api.base_url, "olga", ADMIN_PASSWORD).status_code == 200
    assert login(api.base_url, "olga", USER_PASSWORD).json() == BAD_CREDENTIALS
