"""``movierater users ...``: the admin tools that stand in for Django's admin site, checked
through the API they change, on every backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import requests
from movierater_adapters.passwords import Argon2Hasher
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.sql.tables import ratings, tokens, users
from sqlalchemy import func, insert, select, update

from movierater_core.errors import ValidationError
from movierater_core.use_cases import SYSTEM, UserAdmin
from tests.integration.conftest import USER_PASSWORD, Client, Server, make_admin, run_cli, sign_up, wipe


def _users(server: Server, *args: str, check: bool = True, **env: str) -> Any:
    return run_cli("users", *args, env={**server.env, **env}, check=check)


def test_list_shows_every_user_with_their_role(api: Client, server: Server) -> None:
    make_admin(server, "boss")
    sign_up(server.base_url, "alice")
    listed = _users(server, "list").stdout.splitlines()
    assert listed[0].split() == ["id", "username", "role"]
    assert [line.split()[1:] for line in listed[1:-1]] == [["boss", "admin"], ["alice", "user"]]
    assert listed[-1] == "2 user(s)."
    admins = _users(server, "list", "--admins").stdout.splitlines()
    assert [line.split()[1:] for line in admins[1:-1]] == [["boss", "admin"]]


def test_promote_and_demote_change_what_the_token_may_do(api: Client, server: Server) -> None:
    make_admin(server, "boss")  # so that alice is not the last admin when demoted
    alice = sign_up(server.base_url, "alice")
    body = {"title": "Heat", "description": "LA."}
    assert alice.post("/api/movies/", json=body).status_code == 403
    assert "'alice' is now an admin." in _users(server, "promote", "alice").stdout
    assert alice.post("/api/movies/", json=body).status_code == 201
    assert "'alice' is now a plain user." in _users(server, "demote", "alice").stdout
    assert alice.post("/api/movies/", json=body).status_code == 403


def test_set_password_applies_the_policy_and_logs_the_user_out(
    api: Client, server: Server, engine: Any
) -> None:
    alice = sign_up(server.base_url, "alice")
    weak = _users(server, "set-password", "alice", "--noinput", check=False, MOVIERATER_USER_PASSWORD="alice")
    assert weak.returncode == 1 and "too similar to the username" in weak.stderr
    missing = _users(server, "set-password", "alice", "--noinput", check=False, MOVIERATER_USER_PASSWORD="")
    assert missing.returncode == 2 and "MOVIERATER_USER_PASSWORD" in missing.stderr
    assert alice.get("/api/movies/").status_code == 200, "a refused change changes nothing"

    _users(server, "set-password", "alice", "--noinput", MOVIERATER_USER_PASSWORD="a fresh passphrase")
    assert alice.get("/api/movies/").status_code == 401
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tokens)) == 0
    old = requests.post(server.base_url + "/auth/", json={"username": "alice", "password": USER_PASSWORD})
    assert old.status_code == 400
    new = requests.post(
        server.base_url + "/auth/", json={"username": "alice", "password": "a fresh passphrase"}
    )
    assert new.status_code == 200


def test_delete_asks_first_then_removes_the_user_their_ratings_and_tokens(
    api: Client, server: Server, engine: Any
) -> None:
    admin = make_admin(server, "boss")
    alice, bob = sign_up(server.base_url, "alice"), sign_up(server.base_url, "bob")
    movie = admin.post("/api/movies/", json={"title": "Heat", "description": "LA."}).json()
    for rater, stars in ((alice, 5), (bob, 2)):
        rated = rater.post(f"/api/movies/{movie['id']}/rate_movie/", json={"stars": stars})
        assert rated.status_code == 200

    unconfirmed = _users(server, "delete", "alice", check=False)  # stdin is not a terminal
    assert unconfirmed.returncode == 1 and "pass --yes" in unconfirmed.stderr
    assert alice.get("/api/movies/").status_code == 200

    assert "Deleted 'alice'" in _users(server, "delete", "alice", "--yes").stdout
    assert alice.get("/api/movies/").status_code == 401
    after = admin.get(f"/api/movies/{movie['id']}/").json()
    assert (after["no_of_ratings"], after["ave_ratings"]) == (1, 2.0)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ratings)) == 1
        assert conn.scalar(select(users.c.username).where(users.c.id == alice.user_id)) is None


def test_an_unknown_username_is_a_clear_error_for_every_action(api: Client, server: Server) -> None:
    for action in (["promote"], ["demote"], ["delete", "--yes"]):
        result = _users(server, *action, "nobody", check=False)
        assert (result.returncode, result.stderr.strip()) == (1, "movierater: No user named 'nobody'.")
    result = _users(
        server,
        "set-password",
        "nobody",
        "--noinput",
        check=False,
        MOVIERATER_USER_PASSWORD="a fine passphrase",
    )
    assert result.returncode == 1 and "No user named 'nobody'" in result.stderr


def test_the_last_admin_can_be_neither_demoted_nor_deleted(api: Client, server: Server) -> None:
    boss = make_admin(server, "boss")
    sign_up(server.base_url, "alice")
    for action, verb in ((["demote"], "demoting"), (["delete", "--yes"], "deleting")):
        result = _users(server, *action, "boss", check=False)
        assert result.returncode == 1
        assert result.stderr.splitlines() == [
            f"movierater: This is the last admin: promote another user before {verb} this one."
        ]
    assert boss.get("/api/users/").status_code == 200, "still there, still an admin"
    assert boss.post("/api/movies/", json={"title": "Heat", "description": "LA."}).status_code == 201

    _users(server, "promote", "alice")
    assert "'boss' is now a plain user." in _users(server, "demote", "boss").stdout
    refused = _users(server, "delete", "alice", "--yes", check=False)  # now the last admin
    assert refused.returncode == 1 and "This is the last admin" in refused.stderr
    listed = _users(server, "list", "--admins").stdout.splitlines()
    assert [line.split()[1:] for line in listed[1:-1]] == [["alice", "admin"]]


def test_two_operators_demoting_the_last_two_admins_at_once_leave_one(database_url: str, engine: Any) -> None:
    """The race the row lock closes: each transaction counting two admins, then each
    demoting one (without the lock, PostgreSQL and MariaDB let both through). In process:
    two threads released together, many rounds."""
    wipe(engine)
    with engine.begin() as conn:
        for name in ("ann", "bob"):
            conn.execute(
                insert(users).values(
                    username=name, password_hash="x", is_admin=True, date_joined=datetime.now(UTC)
                )
            )
    db = SqlDatabase(make_engine(database_url, pool_size=2))
    try:
        for _ in range(15):
            with engine.begin() as conn:
                conn.execute(update(users).values(is_admin=True))
            refused = _demote_at_once(UserAdmin(db, Argon2Hasher()), "ann", "bob")
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).where(users.c.is_admin)) == 1
            assert len(refused) == 1
    finally:
        db.engine.dispose()


def _demote_at_once(admin: UserAdmin, *names: str) -> list[ValidationError]:
    start, refused = threading.Barrier(len(names)), []

    def demote(name: str) -> None:
        start.wait()
        try:
            admin.set_admin(SYSTEM, name, False)
        except ValidationError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=demote, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refused
