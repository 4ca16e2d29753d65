"""A rating with its token, ``Ratings.rate_movie_as``, on real databases.

On PostgreSQL the token is checked and the movie rated in one statement, in autocommit
(``movierater_adapters.sql.rating_statement``); elsewhere the locking path runs. On every
backend the answers are the same: created or not, the stars and times, every summary equal
to a recount, and the token's life to the microsecond. On PostgreSQL, the races the one
statement can lose (a change, a first rating or a removal committed while it waited for
the movie's lock) end as the locking path ends them, and a rating is one round trip.
"""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.sql.rating_statement import SqlOneStatementWrites
from movierater_adapters.sql.tables import ratings
from movierater_adapters.tokens import RandomTokenIssuer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from movierater_core.errors import NotAuthenticated, NotFound, StarsMissing, ValidationError
from movierater_core.model import STAR_VALUES, MovieFields, RatingSummary, Stars
from movierater_core.ports import RatedWithToken
from movierater_core.use_cases import AccountSettings, Ratings, TokenCheck
from tests.integration.backends import selected_backends
from tests.integration.conftest import wipe
from tests.integration.test_concurrency import assert_summaries_match_recount

TTL = 3600


class SetClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


@attrs.define
class Rig:
    db: SqlDatabase
    clock: SetClock
    check: TokenCheck
    ratings: Ratings
    keys: list[str]  # a token key per user, in the order of ``users``
    users: list[int]
    movies: list[int]

    def token_for(self, user_id: int, last_used: datetime) -> str:
        key = RandomTokenIssuer().new_key()
        with self.db.writing() as repos:
            repos.tokens.add(self.check.digest(key), user_id, last_used)
        return key

    def summaries(self) -> dict[int, RatingSummary]:
        with self.db.reading() as repos:
            return {movie.id: movie.ratings for movie in repos.movies.list()}


@pytest.fixture
def rig(database_url: str, engine: Engine) -> Iterator[Rig]:
    wipe(engine)
    db = SqlDatabase(make_engine(database_url, connect_timeout=5), timeout=10)
    clock = SetClock()
    check = TokenCheck(db, RandomTokenIssuer(), clock, AccountSettings(token_ttl=TTL))
    with db.writing() as repos:
        users = [repos.users.add(f"rater{n}", "unused hash").id for n in range(3)]
        movie_ids = [repos.movies.add(MovieFields(f"Movie {n}", "", None)).id for n in range(3)]
    made = Rig(db, clock, check, Ratings(db, clock, check), [], users, movie_ids)
    made.keys = [made.token_for(user_id, clock.now()) for user_id in users]
    yield made
    db.dispose()


def _body(stars: object) -> Any:
    return lambda: {"stars": stars}


def test_rates_as_the_locking_path_with_every_summary_equal_to_a_recount(rig: Rig, engine: Engine) -> None:
    """A seeded run of ratings, changes, the same stars again and removals: each answer is
    what the rules say, the stored rating is the one answered, and the summaries add up."""
    chance = random.Random(15)
    stored: dict[tuple[int, int], tuple[int, datetime, datetime]] = {}  # stars, created, changed
    for step in range(120):
        rig.clock.current += timedelta(microseconds=chance.randrange(1, 3_000_000))
        n, movie_id = chance.randrange(3), chance.choice(rig.movies)
        user_id, key = rig.users[n], rig.keys[n]
        if (user_id, movie_id) in stored and chance.random() < 0.15:
            rig.ratings.remove_own_rating(rig.check.authenticate(key), movie_id)
            del stored[(user_id, movie_id)]
            continue
        stars = chance.choice(STAR_VALUES)
        actor, rating, created = rig.ratings.rate_movie_as(key, movie_id, _body(stars))
        now = rig.clock.now()
        before = stored.get((user_id, movie_id))
        assert (actor.id, rating.user_id, rating.movie_id, rating.stars) == (
            user_id,
            user_id,
            movie_id,
            Stars(stars),
        )
        assert created is (before is None), step
        if before is None:
            stored[(user_id, movie_id)] = (stars, now, now)
        elif before[0] != stars:
            stored[(user_id, movie_id)] = (stars, before[1], now)
        assert (rating.created, rating.changed) == stored[(user_id, movie_id)][1:], step
        with rig.db.reading() as repos:
            assert repos.ratings.find(user_id, movie_id) == rating
    assert_summaries_match_recount(engine)
    assert sum(summary.count for summary in rig.summaries().values()) == len(stored)


def test_a_token_lives_to_the_microsecond_of_its_ttl(rig: Rig, engine: Engine) -> None:
    used = rig.clock.now().replace(microsecond=0)  # stored in whole seconds
    movie_id = rig.movies[0]
    alive = rig.token_for(rig.users[0], used)
    rig.clock.current = used + timedelta(seconds=TTL)  # exactly the TTL since: alive
    assert rig.ratings.rate_movie_as(alive, movie_id, _body(4))[2] is True

    dead = rig.token_for(rig.users[1], used)
    rig.clock.current = used + timedelta(seconds=TTL, microseconds=1)
    with pytest.raises(NotAuthenticated):
        rig.ratings.rate_movie_as(dead, movie_id, _body(2))
    with rig.db.reading() as repos:
        assert repos.ratings.find(rig.users[1], movie_id) is None  # nothing written
        assert repos.tokens.user_for(rig.check.digest(dead)) is None  # and the token is gone
    assert rig.summaries()[movie_id] == RatingSummary(1, 4, (0, 0, 0, 1, 0))


def test_the_token_is_answered_for_before_the_body_and_the_movie(rig: Rig) -> None:
    unknown = RandomTokenIssuer().new_key()

    def unreadable() -> object:
        raise ValueError("not JSON")

    for key, body in [
        (unknown, _body(3)),
        ("not a key", _body(3)),
        (unknown, _body(9)),
        (unknown, lambda: {}),
        (unknown, unreadable),
    ]:
        with pytest.raises(NotAuthenticated):
            rig.ratings.rate_movie_as(key, rig.movies[0], body)
        with pytest.raises(NotAuthenticated):
            rig.ratings.rate_movie_as(key, 10**9, body)
    key = rig.keys[0]
    with pytest.raises(ValidationError):
        rig.ratings.rate_movie_as(key, rig.movies[0], _body(9))
    with pytest.raises(StarsMissing):
        rig.ratings.rate_movie_as(key, rig.movies[0], lambda: {})
    with pytest.raises(ValueError, match="not JSON"):
        rig.ratings.rate_movie_as(key, rig.movies[0], unreadable)
    with pytest.raises(NotFound):
        rig.ratings.rate_movie_as(key, 10**9, _body(3))
    assert all(summary.count == 0 for summary in rig.summaries().values())


# ---- PostgreSQL: the one statement's lost races, and its round trip -------------------------


_POSTGRESQL = pytest.mark.parametrize(
    "backend", [backend for backend in selected_backends() if backend == "postgresql"], indirect=True
)


def _outcomes(monkeypatch: pytest.MonkeyPatch) -> list[RatedWithToken]:
    """What each one-statement rating returned, from now on."""
    seen: list[RatedWithToken] = []
    original = SqlOneStatementWrites.rate_with_token

    def recorded(self: SqlOneStatementWrites, *args: Any, **kwargs: Any) -> RatedWithToken:
        seen.append(original(self, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(SqlOneStatementWrites, "rate_with_token", recorded)
    return seen


def _while_another_holds_the_movie(engine: Engine, movie_id: int, change: str, rate: Any) -> Any:
    """Run ``change`` (SQL) in a transaction that holds the movie's lock, start ``rate`` in
    a thread, let it wait for that lock, then commit; ``rate``'s answer."""
    answers: list[Any] = []
    with engine.connect() as conn:
        conn.execute(text("SELECT id FROM movies WHERE id = :id FOR UPDATE"), {"id": movie_id})
        conn.execute(text(change))
        rater = threading.Thread(target=lambda: answers.append(rate()))
        rater.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as probe:
                waiting = probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database() AND query LIKE 'WITH holder%'"
                    )
                ).scalar_one()
            if waiting:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the rating never waited for the movie's lock")
        conn.commit()
    rater.join(10)
    assert answers, "the rating did not finish"
    return answers[0]


def _summary_sql(movie_id: int, count: int, total: int, star: dict[int, int]) -> str:
    moves = ", ".join(f"star_{n} = star_{n} + {d}" for n, d in star.items())
    return (
        f"UPDATE movies SET rating_count = rating_count + {count}, rating_sum = rating_sum + {total}, "
        f"{moves} WHERE id = {movie_id}"
    )


@_POSTGRESQL
@pytest.mark.parametrize("race", ["changed", "added", "removed"])
def test_a_rating_written_while_the_statement_waited_is_not_lost(
    rig: Rig, engine: Engine, monkeypatch: pytest.MonkeyPatch, race: str
) -> None:
    """The statement's snapshot is older than the lock it waits for: it writes nothing, and
    the locking path rates on what was committed meanwhile."""
    user_id, key, movie_id = rig.users[0], rig.keys[0], rig.movies[0]
    if race != "added":
        rig.ratings.rate_movie_as(key, movie_id, _body(3))
    seen = _outcomes(monkeypatch)
    change = {
        "changed": f"UPDATE ratings SET stars = 5 WHERE user_id = {user_id} AND movie_id = {movie_id}; "
        + _summary_sql(movie_id, 0, 2, {3: -1, 5: 1}),
        "added": "INSERT INTO ratings (user_id, movie_id, stars) "
        f"VALUES ({user_id}, {movie_id}, 5); " + _summary_sql(movie_id, 1, 5, {5: 1}),
        "removed": f"DELETE FROM ratings WHERE user_id = {user_id} AND movie_id = {movie_id}; "
        + _summary_sql(movie_id, -1, -3, {3: -1}),
    }[race]
    _actor, rating, created = _while_another_holds_the_movie(
        engine, movie_id, change, lambda: rig.ratings.rate_movie_as(key, movie_id, _body(4))
    )
    assert [outcome.rating for outcome in seen] == [None]  # the statement wrote nothing
    assert rating.stars == Stars(4) and created is (race == "removed")
    assert_summaries_match_recount(engine)
    assert rig.summaries()[movie_id] == RatingSummary(1, 4, (0, 0, 0, 1, 0))


class TurnCounter:
    """A TCP relay to PostgreSQL that counts round trips: the times the client speaks
    after the server has (or first)."""

    def __init__(self, port: int) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._target = port
        self.turns = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        last_from_client = False
        while not self._stop:
            for key, _ in selector.select(0.1):
                if key.data is None:
                    client, _ = self._listener.accept()
                    server = socket.create_connection(("127.0.0.1", self._target))
                    selector.register(client, selectors.EVENT_READ, (server, True))
                    selector.register(server, selectors.EVENT_READ, (client, False))
                    continue
                peer, from_client = key.data
                chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not chunk:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()  # type: ignore[union-attr]
                    continue
                if from_client and not last_from_client:
                    self.turns += 1
                last_from_client = from_client
                peer.sendall(chunk)

    def close(self) -> None:
        self._stop = True
        self._thread.join(5)
        self._listener.close()


@_POSTGRESQL
def test_a_rating_is_one_round_trip(rig: Rig, database_url: str) -> None:
    url = make_url(database_url)
    relay = TurnCounter(url.port or 5432)
    db = SqlDatabase(make_engine(url.set(port=relay.port).render_as_string(hide_password=False)))
    try:
        clock = SetClock()
        check = TokenCheck(db, RandomTokenIssuer(), clock, AccountSettings(token_ttl=TTL))
        rate = Ratings(db, clock, check).rate_movie_as
        key, movie_id = rig.keys[0], rig.movies[0]
        rate(key, movie_id, _body(2))  # connects and prepares
        for stars, created in [(3, False), (3, False), (1, False)]:
            before = relay.turns
            assert rate(key, movie_id, _body(stars))[2] is created
            assert relay.turns - before == 1
        with db.reading() as repos:
            assert repos.movies.get(movie_id).ratings == RatingSummary(1, 1, (1, 0, 0, 0, 0))  # type: ignore[union-attr]
    finally:
        db.dispose()
        relay.close()
    with rig.db.reading() as repos:
        assert repos.ratings.find(rig.users[0], movie_id) is not None
    with rig.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ratings)).scalar_one() == 1
