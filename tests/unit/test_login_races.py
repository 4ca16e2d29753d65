"""Logins racing a password change, each other and registrations, on the fakes.

Concurrency is modelled by what the fake hasher runs while it "hashes": another request's
whole use case runs there, as another worker's does while this one checks a password.
Nesting these gives every interleaving of the steps that matter (what each request has
committed before and after its slow hash check); the integration tests
(``tests/integration/test_credential_races.py``) press the same races through gunicorn.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import NotAuthenticated, RateLimited, ValidationError
from movierater_core.model import User
from movierater_core.use_cases import SYSTEM, Accounts, AccountSettings
from tests.unit.fakes import App, CountingTokenIssuer, make_app

OLD = "correct horse 123"
NEW = "a brand new secret 9"
WRONG = "not the password 1"
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}
RACES = settings(max_examples=200, deadline=None)


def _alice() -> tuple[App, User, str]:
    """An app with alice, and the token she will change her password with."""
    app = make_app()
    alice = app.accounts.register({"username": "alice", "password": OLD})
    return app, alice, _log_in(app, OLD)


def _log_in(app: App, password: str, username: str = "alice", accounts: Accounts | None = None) -> str:
    return (accounts or app.accounts).log_in({"username": username, "password": password}, client="")


def _works(app: App, key: str) -> bool:
    try:
        app.accounts.authenticate(key)
    except NotAuthenticated:
        return False
    return True


def _outcome(attempt: Callable[[], object]) -> str:
    try:
        attempt()
    except ValidationError:
        return "400"
    except RateLimited:
        return "429"
    return "ok"


def _drain(queue: list[Callable[[], object]]) -> None:
    """Run what no hash check ran: the requests that started after the others had finished."""
    while queue:
        queue.pop(0)()


# ---- item 1: a password change and the logins that raced it ------------------------------


def test_a_password_change_during_an_old_password_check_leaves_that_login_no_token() -> None:
    app, alice, owner_key = _alice()
    change = {"password": NEW}
    app.hasher.while_verifying.append(
        lambda: app.accounts.update_user(alice, alice.id, change, partial=True, current_key=owner_key)
    )
    with pytest.raises(ValidationError) as caught:
        _log_in(app, OLD)
    assert caught.value.errors == BAD_CREDENTIALS  # checked again against the new hash: wrong now
    assert [uid for uid, _ in app.db.state.tokens.values()] == [alice.id]  # the owner's token alone
    assert _works(app, owner_key)
    assert _works(app, _log_in(app, NEW))


def test_an_operator_setting_the_password_during_an_old_password_check_leaves_no_token() -> None:
    app, _alice_user, _owner_key = _alice()
    app.hasher.while_verifying.append(lambda: app.user_admin.set_password(SYSTEM, "alice", NEW))
    with pytest.raises(ValidationError):
        _log_in(app, OLD)
    assert app.db.state.tokens == {}  # the operator revokes every token, and the racing login got none


def test_an_account_deleted_during_its_login_check_gets_no_token() -> None:
    app, alice, _owner_key = _alice()
    app.hasher.while_verifying.append(lambda: app.accounts.delete_user(alice, alice.id))
    with pytest.raises(ValidationError) as caught:
        _log_in(app, OLD)
    assert caught.value.errors == BAD_CREDENTIALS
    assert app.db.state.tokens == {} and app.db.state.users == {}


def test_a_concurrent_rehash_of_an_imported_hash_does_not_fail_a_right_password() -> None:
    app, alice, _owner_key = _alice()
    app.db.state.users[alice.id] = (alice, "old$" + OLD)  # as imported from Django: needs a rehash
    racing: list[str] = []
    app.hasher.while_verifying.append(lambda: racing.append(_log_in(app, OLD)))  # rehashes first
    before = app.hasher.verifications
    key = _log_in(app, OLD)
    assert _works(app, key) and _works(app, racing[0])
    assert app.db.state.users[alice.id][1] == "fake$" + OLD
    assert app.hasher.verifications - before == 3  # the outer login checked again: the hash had changed


@RACES
@given(st.lists(st.sampled_from(["old", "new", "change", "rest"]), max_size=14))
def test_after_a_password_change_returns_no_token_of_the_old_password_works(actions: list[str]) -> None:
    """Logins with the old and the new password, nested in each other's hash checks in any
    way, and one password change among them: once it has returned, every token obtained with
    the old password is refused, every one obtained with the new password works."""
    app, alice, owner_key = _alice()
    issued: dict[str, list[str]] = {"old": [], "new": []}
    changed: list[bool] = []

    def change() -> None:
        if not changed:
            app.accounts.update_user(alice, alice.id, {"password": NEW}, partial=True, current_key=owner_key)
            changed.append(True)

    def log_in(which: str) -> Callable[[], object]:
        return lambda: _outcome(lambda: issued[which].append(_log_in(app, OLD if which == "old" else NEW)))

    steps = {"old": log_in("old"), "new": log_in("new"), "change": change, "rest": lambda: None}
    queue = app.hasher.while_verifying
    queue.extend(steps[action] for action in actions)
    steps["old"]()
    _drain(queue)
    change()
    assert not any(_works(app, key) for key in issued["old"])
    assert all(_works(app, key) for key in issued["new"])
    assert _works(app, owner_key)


# ---- item 2: the login lock, exact under concurrency --------------------------------------


@RACES
@given(attempts=st.integers(1, 30), nested=st.lists(st.booleans(), min_size=30, max_size=30))
def test_concurrent_wrong_passwords_get_exactly_five_checks(attempts: int, nested: list[bool]) -> None:
    """Each attempt may start while an earlier one checks its password (nested) or after the
    earlier ones ended: however many are in flight, exactly five are checked."""
    app, _alice_user, _owner_key = _alice()
    outcomes: list[str] = []
    queue = app.hasher.while_verifying

    def attempt() -> None:
        outcomes.append(_outcome(lambda: _log_in(app, WRONG)))

    later: list[Callable[[], object]] = []
    for inside in nested[: attempts - 1]:
        (queue if inside else later).append(attempt)
    before = app.hasher.verifications
    attempt()
    _drain(queue)
    _drain(later)
    assert app.hasher.verifications - before == min(attempts, 5)
    assert sorted(outcomes) == ["400"] * min(attempts, 5) + ["429"] * max(0, attempts - 5)


def test_a_right_password_after_fewer_than_five_failures_works_and_is_not_counted() -> None:
    app, _alice_user, _owner_key = _alice()
    for _ in range(4):
        assert _outcome(lambda: _log_in(app, WRONG)) == "400"
    assert _works(app, _log_in(app, OLD))
    assert _outcome(lambda: _log_in(app, WRONG)) == "400"  # the fifth failure
    assert _outcome(lambda: _log_in(app, OLD)) == "429"  # locked now, the right password too


def test_a_login_in_flight_holds_its_place_until_its_check_ends() -> None:
    """After 4 failures one slot is left: a right password being checked holds it, so a
    guess meanwhile is refused unchecked; the right one then frees it again."""
    app, _alice_user, _owner_key = _alice()
    for _ in range(4):
        assert _outcome(lambda: _log_in(app, WRONG)) == "400"
    meanwhile: list[str] = []
    app.hasher.while_verifying.append(lambda: meanwhile.append(_outcome(lambda: _log_in(app, WRONG))))
    assert _works(app, _log_in(app, OLD))
    assert meanwhile == ["429"]
    assert _outcome(lambda: _log_in(app, WRONG)) == "400"


def test_failures_per_address_are_exact_and_a_refused_attempt_counts_nowhere() -> None:
    app = make_app()
    accounts = Accounts(
        app.db, app.hasher, CountingTokenIssuer(), app.clock, AccountSettings(login_failures_per_address=3)
    )
    outcomes: list[str] = []

    def guess(name: str) -> Callable[[], object]:
        body = {"username": name, "password": WRONG}
        return lambda: outcomes.append(_outcome(lambda: accounts.log_in(body, client="203.0.113.7")))

    def guess_from(name: str, client: str) -> Callable[[], object]:
        return lambda: accounts.log_in({"username": name, "password": WRONG}, client=client)

    app.hasher.while_verifying.extend(guess(f"user{i}") for i in range(1, 8))
    guess("user0")()
    _drain(app.hasher.while_verifying)
    assert sorted(outcomes) == ["400"] * 3 + ["429"] * 5
    # the refused attempts were not counted against their usernames: each still has five
    from_elsewhere = [guess_from("user7", f"198.51.100.{i}") for i in range(6)]  # each under its limit
    assert [_outcome(attempt) for attempt in from_elsewhere] == ["400"] * 5 + ["429"]


def test_concurrent_registrations_from_one_address_stop_exactly_at_the_limit() -> None:
    app = make_app()
    accounts = Accounts(
        app.db, app.hasher, CountingTokenIssuer(), app.clock, AccountSettings(registrations_per_address=3)
    )
    outcomes: list[str] = []

    def register(name: str) -> Callable[[], object]:
        body = {"username": name, "password": OLD}
        return lambda: outcomes.append(_outcome(lambda: accounts.register(body, client="203.0.113.7")))

    app.hasher.while_hashing.extend(register(f"user{i}") for i in range(1, 8))  # all in flight at once
    register("user0")()
    _drain(app.hasher.while_hashing)
    assert sorted(outcomes) == ["429"] * 5 + ["ok"] * 3
    assert len(app.db.state.users) == 3


def test_a_refused_registration_does_not_count_against_the_address() -> None:
    app = make_app()
    accounts = Accounts(
        app.db, app.hasher, CountingTokenIssuer(), app.clock, AccountSettings(registrations_per_address=2)
    )
    accounts.register({"username": "taken", "password": OLD}, client="203.0.113.7")
    for body in ({"username": "taken", "password": OLD}, {"username": "x"}, {"password": "short"}):
        with pytest.raises(ValidationError):
            accounts.register(body, client="203.0.113.7")
    accounts.register({"username": "second", "password": OLD}, client="203.0.113.7")
    with pytest.raises(RateLimited):
        accounts.register({"username": "third", "password": OLD}, client="203.0.113.7")
