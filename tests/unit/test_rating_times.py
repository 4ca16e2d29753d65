"""Rating times (issue 17 item 3): ``created`` and ``changed`` come from the core's clock,
a change of stars moves ``changed`` only, and ``?since=`` lists what changed at or after a
time, by ``changed`` then id, for incremental sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from movierater_core.errors import ValidationError
from movierater_core.model import Rating, Stars
from movierater_core.rules import BAD_DATETIME, Invalid, parse_timestamp
from tests.unit.fakes import make_app

PASSWORD = "a long passphrase"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _world():  # type: ignore[no-untyped-def]
    app = make_app()
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    movies = [app.movies.create_movie(admin, {"title": t}).id for t in ("a", "b", "c")]
    return app, admin, alice, movies


def test_a_new_rating_is_created_and_changed_now_and_a_change_moves_changed_only() -> None:
    app, _admin, alice, movies = _world()
    rating, created = app.ratings.rate_movie(alice, movies[0], {"stars": 3})
    assert created and (rating.created, rating.changed) == (T0, T0)
    assert app.ratings.get_rating(alice, rating.id) == rating

    app.clock.advance(60)
    same, created = app.ratings.rate_movie(alice, movies[0], {"stars": 3})
    assert not created and same == rating  # the same stars change nothing, not even the time

    app.clock.advance(60)
    changed, _ = app.ratings.rate_movie(alice, movies[0], {"stars": 5})
    assert (changed.created, changed.changed) == (T0, T0 + timedelta(seconds=120))
    assert app.ratings.get_rating(alice, rating.id) == changed


def test_since_lists_what_changed_at_or_after_by_changed_then_id() -> None:
    app, admin, alice, movies = _world()
    first, _ = app.ratings.rate_movie(alice, movies[0], {"stars": 1})  # T0
    second, _ = app.ratings.rate_movie(admin, movies[0], {"stars": 2})  # T0
    app.clock.advance(10)
    third, _ = app.ratings.rate_movie(alice, movies[1], {"stars": 3})  # T0+10
    app.clock.advance(10)
    app.ratings.rate_movie(alice, movies[0], {"stars": 4})  # first changed at T0+20
    # an imported rating: no times, never in a ?since= list
    with app.db.writing() as repos:
        repos.ratings.add_many([(admin.id, movies[2], Stars(5))])

    def ids(query: dict[str, object]) -> list[int]:
        return [r.id for r in app.ratings.list_ratings(alice, query).items]

    assert ids({"since": "2026-01-01T00:00:00Z"}) == [second.id, third.id, first.id]
    assert ids({"since": "2026-01-01T00:00:10Z"}) == [third.id, first.id]
    assert ids({"since": "2026-01-01T01:00:10+01:00"}) == [third.id, first.id]  # the same instant
    assert ids({"since": "2026-01-01T00:00:10.000001"}) == [first.id]  # no offset: UTC
    assert ids({"since": "2026-01-01T00:00:21Z"}) == []
    assert ids({"since": "2026-01-01T00:00:00Z", "user": "me"}) == [third.id, first.id]
    assert ids({"since": "2026-01-01T00:00:00Z", "movie": str(movies[0])}) == [second.id, first.id]
    page = app.ratings.list_ratings(alice, {"since": "2000-01-01T00:00:00Z", "limit": "2", "offset": "1"})
    assert [r.id for r in page.items] == [third.id, first.id] and page.total == 3
    assert len(ids({})) == 4  # without since: every rating, the imported one too


@pytest.mark.parametrize(
    "value", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01", "2026-01-01T25:00Z", "0000-01-01T00:00Z"]
)
def test_a_bad_since_is_400_in_drf_shape(value: str) -> None:
    app, _admin, alice, _movies = _world()
    with pytest.raises(ValidationError) as caught:
        app.ratings.list_ratings(alice, {"since": value})
    assert caught.value.errors == {"since": [BAD_DATETIME]}


@given(st.datetimes(timezones=st.just(UTC)))
def test_any_utc_time_written_as_iso_8601_reads_back(at: datetime) -> None:
    assert parse_timestamp(at.isoformat()) == at
    assert parse_timestamp(at.isoformat().replace("+00:00", "Z")) == at


@given(st.one_of(st.integers(), st.none(), st.lists(st.integers(), max_size=2), st.text(max_size=30)))
def test_the_timestamp_rule_refuses_or_answers_utc_never_crashes(value: object) -> None:
    try:
        parsed = parse_timestamp(value)
    except Invalid:
        return
    assert parsed.tzinfo is UTC


def test_a_leap_second_is_the_last_microsecond_of_its_minute() -> None:
    assert parse_timestamp("2016-12-31T23:59:60Z") == datetime(2016, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def test_imported_ratings_have_no_times() -> None:
    assert Rating(1, 1, 1, Stars(3)).created is None
