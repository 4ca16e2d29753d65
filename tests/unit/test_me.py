""" "Me" (issue 17 item 1), in the core over the fakes: ``Accounts.me`` and ``?user=me`` on
the ratings list, read by the one rule ``?user=`` has (``rules.parse_user_id_or_me``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from movierater_core.errors import NotAuthenticated, ValidationError
from movierater_core.model import Profile
from movierater_core.paging import PageSettings
from movierater_core.ports import NewUser
from movierater_core.rules import ME, Invalid, parse_id, parse_user_id_or_me
from movierater_core.use_cases import Ratings
from tests.unit.fakes import App, make_app

PASSWORD = "a long passphrase"


def _app() -> tuple[App, list[int]]:
    app = make_app()
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    return app, [app.movies.create_movie(admin, {"title": t}).id for t in "abc"]


# ---- the rule -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12), st.integers(), st.sampled_from(["me", "Me", "ME", " me", "me ", "6"])))
@example("me")
@example("0006")
def test_user_is_me_exactly_or_read_as_any_id(value: object) -> None:
    """``me`` (exactly) is the signed-in user; any other value is read as ``?movie=`` reads
    an id, the same value or the same error."""
    try:
        as_id: object = parse_id(value)
    except Invalid as exc:
        as_id = exc.messages
    try:
        read: object = parse_user_id_or_me(value)
    except Invalid as exc:
        read = exc.messages
    assert read == (ME if value == "me" else as_id)


# ---- GET /api/users/me/ ---------------------------------------------------------------------


def test_me_is_the_actor_with_admin_flag_and_date_joined_for_admins_and_others() -> None:
    app, _ = _app()
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    boss = app.accounts.authenticate(app.accounts.log_in({"username": "boss", "password": PASSWORD}))
    for actor, admin in ((alice, False), (boss, True)):
        profile = app.accounts.me(actor)
        assert (profile.id, profile.username, profile.is_admin) == (actor.id, actor.username, admin)
        assert profile.date_joined.tzinfo is not None


def test_me_carries_an_imported_users_date_joined() -> None:
    app, _ = _app()
    joined = datetime(2019, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    with app.db.writing() as repos:
        (user_id,) = repos.users.add_many([NewUser("old", "old$hash", False, joined)])
        user = repos.users.get(user_id)
    assert user is not None
    assert app.accounts.me(user) == Profile(user_id, "old", False, joined)


def test_me_of_an_account_deleted_since_its_token_was_checked_is_401() -> None:
    app, _ = _app()
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    app.accounts.delete_user(alice, alice.id)
    with pytest.raises(NotAuthenticated):
        app.accounts.me(alice)


# ---- ?user=me -------------------------------------------------------------------------------


def test_user_me_lists_the_actors_ratings_as_their_id_does_with_paging() -> None:
    app, movies = _app()
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    bob = app.accounts.register({"username": "bob", "password": PASSWORD})
    for movie in movies:
        app.ratings.rate_movie(alice, movie, {"stars": 4})
    app.ratings.rate_movie(bob, movies[0], {"stars": 1})
    ratings = Ratings(app.db, app.clock, app.token_check, PageSettings(2))
    for actor in (alice, bob):
        mine = ratings.list_ratings(actor, {"user": "me"})
        assert mine == ratings.list_ratings(actor, {"user": str(actor.id)})
        assert {r.user_id for r in mine.items} == {actor.id}
    paged = ratings.list_ratings(alice, {"user": "me", "limit": "1", "offset": "1"})
    assert [r.movie_id for r in paged.items] == [movies[1]] and paged.total == 3 and paged.window.paged
    first = ratings.list_ratings(alice, {"user": "me"})  # the page size bounds it too
    assert [r.movie_id for r in first.items] == movies[:2] and first.total == 3
    both = ratings.list_ratings(bob, {"user": "me", "movie": str(movies[0])})
    assert [(r.user_id, r.movie_id) for r in both.items] == [(bob.id, movies[0])]


@pytest.mark.parametrize("value", ["Me", "ME", " me", "me/", "self", ""])
def test_user_other_than_an_id_or_me_is_refused_in_drf_shape(value: str) -> None:
    app, _ = _app()
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    with pytest.raises(ValidationError) as caught:
        app.ratings.list_ratings(alice, {"user": value, "limit": "0"})
    assert caught.value.errors == {
        "user": ["A valid integer is required."],
        "limit": ["Ensure this value is greater than or equal to 1."],
    }
