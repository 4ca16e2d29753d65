"""A rating reads its token in the statement that writes it where the database can
(``Ratings.rate_movie_as`` over ``Database.one_statement``, issue 15): whatever the token,
the movie, the body, the rating before and how the statement ends (written, a race lost,
a deadlock, the account deleted meanwhile), it answers exactly what checking the token
first and then rating (``rate_movie``) answers, and leaves storage the same."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import ConcurrencyConflict, DomainError, ReferenceGone
from movierater_core.model import Rating, Stars, SummaryDelta, User
from movierater_core.ports import RatedWithToken
from movierater_core.use_cases import AccountSettings, TokenCheck
from tests.unit.fakes import CountingTokenIssuer, FakeRepositories, FixedClock, InMemoryDatabase
from tests.unit.test_token_and_movie import TOKENS, _world

ENDINGS = ("written", "race lost", "deadlock", "account deleted")
BODIES: tuple[object, ...] = ({"stars": 4}, {"stars": 2}, {"stars": 9}, {}, "not an object")


class OneStatementDatabase(InMemoryDatabase):
    """The fakes' database with a one-statement unit: what the SQL adapter's statement does,
    over the dicts. ``ending``: how the next statement ends; ``refused``: it raised where it
    would have written (the account deleted meanwhile)."""

    def __init__(self, ending: str) -> None:
        super().__init__()
        self.ending = ending
        self.refused = False

    def one_statement(self) -> Any:
        return self._unit()

    @contextmanager
    def _unit(self) -> Iterator[Any]:
        with self.writing() as repos:  # a raise leaves no trace, as a failed statement
            yield _Statement(repos, self)


class _Statement:
    def __init__(self, repos: FakeRepositories, db: OneStatementDatabase) -> None:
        self._repos = repos
        self._db = db

    def rate_with_token(
        self, digest: str, movie_id: int, stars: Stars, *, at: datetime, alive_since: datetime
    ) -> RatedWithToken:
        ending, repos = self._db.ending, self._repos
        if ending == "deadlock":
            raise ConcurrencyConflict
        holder = repos.tokens.user_for(digest)
        alive = holder is not None and (holder[1] is None or holder[1] >= alive_since)
        if holder is None or not alive or repos.movies.get(movie_id) is None:
            return RatedWithToken(holder, movie_found=False, rating=None)
        if ending == "race lost":
            return RatedWithToken(holder, True, None)
        user = holder[0]
        old = repos.ratings.find(user.id, movie_id)
        if old is not None and old.stars == stars:
            return RatedWithToken(holder, True, old)
        if ending == "account deleted":
            self._db.refused = True
            raise ReferenceGone("the token's user")
        if old is None:
            new = repos.ratings.add(user.id, movie_id, stars, at=at, summary_delta=SummaryDelta.added(stars))
            return RatedWithToken(holder, True, new, created=True)
        repos.ratings.change_stars(old, stars, at=at, summary_delta=SummaryDelta.changed(old.stars, stars))
        return RatedWithToken(holder, True, Rating(old.id, old.user_id, movie_id, stars, old.created, at))


def _run(token: str, exists: bool, rated: bool, body: object, ending: str, *, one_step: bool) -> Any:
    """(what rating answered or raised, the tokens, ratings and movies stored before and
    after, whether the statement refused to write)"""
    db = OneStatementDatabase(ending)
    app, key, movie = _world(token, db, rated=rated)
    app.clock.advance(0.5)
    movie_id = movie if exists else movie + 1000

    def check_then_rate() -> Any:
        actor = app.token_check.authenticate(key)
        return actor, *app.ratings.rate_movie(actor, movie_id, body)

    def stored() -> Any:
        return (
            sorted(db.state.tokens.items()),
            sorted(db.state.ratings.items()),
            sorted(db.state.movies.items()),
        )

    before = stored()
    try:
        outcome: Any = (
            "answer",
            app.ratings.rate_movie_as(key, movie_id, lambda: body) if one_step else check_then_rate(),
        )
    except DomainError as exc:
        outcome = (type(exc).__name__, getattr(exc, "detail", str(exc)))
    return outcome, before, stored(), db.refused


@settings(max_examples=200, deadline=None)
@given(
    token=st.sampled_from(TOKENS),
    exists=st.booleans(),
    rated=st.booleans(),
    body=st.sampled_from(BODIES),
    ending=st.sampled_from(ENDINGS),
)
def test_one_statement_answers_as_check_then_rate(
    token: str, exists: bool, rated: bool, body: object, ending: str
) -> None:
    outcome, before, after, refused = _run(token, exists, rated, body, ending, one_step=True)
    if refused:  # as the request just after the account's deletion: 401, nothing written
        assert outcome[0] == "NotAuthenticated"
        assert after == before
        return
    expected, _, expected_after, _ = _run(token, exists, rated, body, "written", one_step=False)
    assert (outcome, after) == (expected, expected_after)


@settings(max_examples=300, deadline=None)
@given(
    last_used=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda moment: moment.replace(microsecond=0)),
    since=st.integers(min_value=-(10**7), max_value=10**7),
    ttl=st.integers(min_value=1, max_value=10**7),
)
def test_a_statement_writes_for_exactly_the_tokens_the_holder_check_accepts(
    last_used: datetime, since: int, ttl: int
) -> None:
    """``alive_since(now)`` is the bound ``holder(now=now)`` keeps, to the microsecond."""
    clock = FixedClock()
    check = TokenCheck(InMemoryDatabase(), CountingTokenIssuer(), clock, AccountSettings(token_ttl=ttl))
    now = last_used + timedelta(seconds=ttl, microseconds=since)
    accepted = True
    try:
        check.holder("digest", (_alice(), last_used), now=now)
    except DomainError:
        accepted = False
    assert accepted is (last_used >= check.alive_since(now))
    assert accepted is (since <= 0)


def _alice() -> User:
    return User(1, "alice", False)
