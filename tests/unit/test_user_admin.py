"""The operator's actions on users (UserAdmin): an admin actor, the password policy, and the
last-admin rule, whatever sequence of actions is run."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationError
from movierater_core.model import RatingSummary, User
from movierater_core.use_cases import SYSTEM
from movierater_core.use_cases.user_admin import LAST_ADMIN_DELETED, LAST_ADMIN_DEMOTED
from tests.unit.fakes import App, make_app

GOOD_PASSWORD = "correct horse 123"
TOO_SIMILAR = "The password is too similar to the username."


def _register(app: App, name: str, *, is_admin: bool = False) -> User:
    return app.accounts.register({"username": name, "password": GOOD_PASSWORD + name}, is_admin=is_admin)


def _log_in(app: App, name: str) -> str:
    return app.accounts.log_in({"username": name, "password": GOOD_PASSWORD + name})


def test_set_admin_promotes_and_demotes() -> None:
    app = make_app()
    _register(app, "root", is_admin=True)  # alice is not the last admin when demoted
    alice = _register(app, "alice")
    key = _log_in(app, "alice")
    assert app.user_admin.set_admin(SYSTEM, "alice", True).is_admin is True
    assert app.accounts.authenticate(key).is_admin is True
    assert app.user_admin.set_admin(SYSTEM, "alice", False) == alice
    with pytest.raises(NotFound):
        app.user_admin.set_admin(SYSTEM, "nobody", True)


def test_operator_sets_a_password_through_the_policy_and_revokes_every_token() -> None:
    app = make_app()
    alice = _register(app, "alice")
    keys = [_log_in(app, "alice") for _ in range(2)]
    with pytest.raises(ValidationError) as caught:
        app.user_admin.set_password(SYSTEM, "alice", "ALICE!99")
    assert caught.value.errors == {"password": [TOO_SIMILAR]}
    assert all(app.accounts.authenticate(k) == alice for k in keys), "a refused change changes nothing"
    assert app.user_admin.set_password(SYSTEM, "alice", "a brand new secret") == alice
    for key in keys:
        with pytest.raises(NotAuthenticated):
            app.accounts.authenticate(key)
    assert app.accounts.log_in({"username": "alice", "password": "a brand new secret"})
    with pytest.raises(NotFound):
        app.user_admin.set_password(SYSTEM, "nobody", "a brand new secret")


def test_operator_removes_a_user_by_name_with_their_ratings() -> None:
    app = make_app()
    admin = _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    movie = app.movies.create_movie(admin, {"title": "Heat", "description": "d"})
    app.ratings.rate_movie(alice, movie.id, {"stars": 4})
    assert app.user_admin.find_user(SYSTEM, "alice") == alice
    assert app.user_admin.remove_user(SYSTEM, "alice") == alice
    assert app.movies.get_movie(admin, movie.id).ratings == RatingSummary()
    assert [u.username for u in app.user_admin.all_users(SYSTEM)] == ["root"]
    with pytest.raises(NotFound):
        app.user_admin.remove_user(SYSTEM, "alice")


def test_an_admin_who_signed_in_acts_as_the_system_does() -> None:
    app = make_app()
    root = _register(app, "root", is_admin=True)
    _register(app, "alice")
    assert app.user_admin.set_admin(root, "alice", True).is_admin is True
    assert app.user_admin.set_admin(root, "root", False) == User(root.id, "root", is_admin=False)
    assert [u.username for u in app.user_admin.all_users(SYSTEM) if u.is_admin] == ["alice"]


def test_every_action_needs_an_admin_and_a_refused_one_changes_nothing() -> None:
    app = make_app()
    _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    before = app.db.state.users.copy()
    actions = (
        lambda: app.user_admin.all_users(alice),
        lambda: app.user_admin.find_user(alice, "root"),
        lambda: app.user_admin.create_user(alice, "mallory", "a fine passphrase", is_admin=True),
        lambda: app.user_admin.set_admin(alice, "alice", True),
        lambda: app.user_admin.set_admin(alice, "root", False),
        lambda: app.user_admin.set_password(alice, "root", "a fine passphrase"),
        lambda: app.user_admin.remove_user(alice, "root"),
    )
    for action in actions:
        with pytest.raises(PermissionDenied):
            action()
    assert app.db.state.users == before


def test_the_system_actor_is_an_admin_that_is_never_stored() -> None:
    app = make_app()
    assert SYSTEM.is_admin is True
    user = app.user_admin.create_user(SYSTEM, "root", "a fine passphrase", is_admin=True)
    assert user.id >= 1 and user.id != SYSTEM.id


def test_the_last_admin_can_be_neither_demoted_nor_deleted() -> None:
    app = make_app()
    root = _register(app, "root", is_admin=True)
    _register(app, "alice")
    for action, message in (
        (lambda: app.user_admin.set_admin(SYSTEM, "root", False), LAST_ADMIN_DEMOTED),
        (lambda: app.user_admin.remove_user(SYSTEM, "root"), LAST_ADMIN_DELETED),
    ):
        with pytest.raises(ValidationError) as caught:
            action()
        assert caught.value.errors == {"non_field_errors": [message]}
    assert app.user_admin.find_user(SYSTEM, "root") == root
    # a plain user goes whatever the number of admins; so does an admin with another beside
    app.user_admin.remove_user(SYSTEM, "alice")
    app.user_admin.create_user(SYSTEM, "second", "a fine passphrase", is_admin=True)
    app.user_admin.set_admin(SYSTEM, "root", False)
    app.user_admin.remove_user(SYSTEM, "root")
    assert [u.username for u in app.user_admin.all_users(SYSTEM)] == ["second"]


NAMES = ("ann", "bob", "cid", "dee")
actions = st.lists(
    st.tuples(st.sampled_from(("promote", "demote", "delete")), st.sampled_from(NAMES)), max_size=25
)


@settings(max_examples=200, deadline=None)
@given(admins=st.sets(st.sampled_from(NAMES), min_size=1), steps=actions)
def test_any_sequence_of_actions_leaves_an_admin(admins: set[str], steps: list[tuple[str, str]]) -> None:
    """Against a model: every action does what it says, but for demoting or deleting the
    last admin, which is refused; an unknown name is NotFound."""
    app = make_app()
    model = {name: name in admins for name in NAMES}  # name -> is_admin
    for name in NAMES:
        app.user_admin.create_user(SYSTEM, name, "a fine passphrase", is_admin=model[name])
    for verb, name in steps:
        last_admin = model.get(name) is True and sum(model.values()) == 1
        if name not in model:
            with pytest.raises(NotFound):
                _run(app, verb, name)
        elif verb != "promote" and last_admin:
            with pytest.raises(ValidationError) as caught:
                _run(app, verb, name)
            expected = LAST_ADMIN_DEMOTED if verb == "demote" else LAST_ADMIN_DELETED
            assert caught.value.errors == {"non_field_errors": [expected]}
        else:
            _run(app, verb, name)
            if verb == "delete":
                del model[name]
            else:
                model[name] = verb == "promote"
        stored = {u.username: u.is_admin for u in app.user_admin.all_users(SYSTEM)}
        assert stored == model
        assert any(stored.values())


def _run(app: App, verb: str, name: str) -> None:
    if verb == "delete":
        app.user_admin.remove_user(SYSTEM, name)
    else:
        app.user_admin.set_admin(SYSTEM, name, verb == "promote")


# ---- typed values: the same rules as a registration body ---------------------------------

texts = st.one_of(
    st.sampled_from(["", " ", "alice", "al ice", "root", "a" * 151, "correct horse 12", "12345678"]),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(username=texts, password=texts, is_admin=st.booleans())
def test_create_user_applies_exactly_the_rules_of_a_registration(
    username: str, password: str, is_admin: bool
) -> None:
    typed, body = make_app(), make_app()
    try:
        expected: User | dict[str, list[str]] = body.accounts.register(
            {"username": username, "password": password}, is_admin=is_admin
        )
    except ValidationError as exc:
        expected = exc.errors
    try:
        got: User | dict[str, list[str]] = typed.user_admin.create_user(
            SYSTEM, username, password, is_admin=is_admin
        )
    except ValidationError as exc:
        got = exc.errors
    assert got == expected


def test_create_user_refuses_a_taken_username_as_registration_does() -> None:
    app = make_app()
    app.user_admin.create_user(SYSTEM, "root", "a fine passphrase", is_admin=True)
    with pytest.raises(ValidationError) as caught:
        app.user_admin.create_user(SYSTEM, "root", "another passphrase", is_admin=True)
    assert caught.value.errors == {"username": ["A user with that username already exists."]}


def test_set_admin_by_id_is_the_api_s_promote_and_demote_with_the_same_rules() -> None:
    app = make_app()
    root = _register(app, "root", is_admin=True)
    alice = _register(app, "alice")
    promoted = app.user_admin.set_admin_by_id(root, alice.id, True)
    assert promoted == User(alice.id, "alice", is_admin=True)
    assert app.user_admin.set_admin_by_id(root, alice.id, True) == promoted  # again: no change
    demoted = app.user_admin.set_admin_by_id(promoted, root.id, False)  # the actor as signed in now
    assert demoted == User(root.id, "root", is_admin=False)
    with pytest.raises(ValidationError) as caught:  # alice is the last admin now
        app.user_admin.set_admin_by_id(promoted, alice.id, False)
    assert caught.value.errors == {"non_field_errors": [LAST_ADMIN_DEMOTED]}
    with pytest.raises(PermissionDenied):  # root is a plain user now
        app.user_admin.set_admin_by_id(demoted, root.id, True)
    with pytest.raises(NotFound):
        app.user_admin.set_admin_by_id(promoted, 999, True)
    assert app.user_admin.find_user(SYSTEM, "alice").is_admin is True
    assert app.user_admin.find_user(SYSTEM, "root").is_admin is False
