"""A movie's detail reads its token and the movie in one step (``Movies.get_movie_as``, issue
15): whatever the token, the movie and the query, it answers exactly what checking the token
first (``TokenCheck.authenticate``) and then reading the movie (``get_movie``) answers, and
leaves storage the same (an expired token deleted, a use recorded)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import DomainError
from tests.unit.fakes import App, InMemoryDatabase, make_app

PASSWORD = "a long passphrase"
TTL = 30 * 86400

TOKENS = ("valid", "stale", "expired", "unknown", "malformed")
QUERIES: tuple[dict[str, object], ...] = (
    {},
    {"include": "my_rating"},
    {"include": "everything"},  # 400, but only once the token passed
)


def _world(token: str, db: InMemoryDatabase | None = None, *, rated: bool = True) -> tuple[App, str, int]:
    """A movie (rated by alice unless not ``rated``), and a key in the state ``token`` names."""
    app = make_app(db)
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    movie = app.movies.create_movie(admin, {"title": "Alien"}).id
    if rated:
        app.ratings.rate_movie(alice, movie, {"stars": 4})
    key = app.accounts.log_in({"username": "alice", "password": PASSWORD})
    if token == "stale":  # valid, its last use due to be recorded again
        app.clock.advance(86400)
    elif token == "expired":
        app.clock.advance(TTL + 1)
    elif token == "unknown":
        key = "f" * 40
    elif token == "malformed":
        key = "not a key"
    return app, key, movie


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "answer", call()
    except DomainError as exc:
        return type(exc).__name__, getattr(exc, "detail", str(exc))


def _storage(app: App) -> Any:
    return sorted(app.db.state.tokens.items())


@settings(max_examples=60, deadline=None)
@given(
    token=st.sampled_from(TOKENS),
    exists=st.booleans(),
    query=st.sampled_from(QUERIES),
)
def test_one_step_answers_as_check_then_read(token: str, exists: bool, query: dict[str, object]) -> None:
    assert _run(token, exists, query, one_step=True) == _run(token, exists, query, one_step=False)


def _run(token: str, exists: bool, query: dict[str, object], *, one_step: bool) -> Any:
    """(what the detail answered or raised, the tokens stored afterwards)"""
    app, key, movie = _world(token)
    movie_id = movie if exists else movie + 1000

    def check_then_read() -> Any:
        actor = app.token_check.authenticate(key)
        return actor, app.movies.get_movie(actor, movie_id, query)

    outcome = _outcome(
        lambda: app.movies.get_movie_as(key, movie_id, query) if one_step else check_then_read()
    )
    return outcome, _storage(app)


def test_a_bad_token_is_401_before_a_missing_movie_and_a_bad_query() -> None:
    app, _key, movie = _world("valid")
    for query in QUERIES:
        for movie_id in (movie, movie + 1000):
            kind, _ = _outcome(lambda m=movie_id, q=query: app.movies.get_movie_as("f" * 40, m, q))
            assert kind == "NotAuthenticated"


def test_the_plain_detail_reads_token_and_movie_in_one_repository_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.unit import fakes

    app, key, movie = _world("valid")
    calls: list[str] = []
    for cls, names in ((fakes.FakeTokens, ("user_for", "user_for_and_movie")), (fakes.FakeMovies, ("get",))):
        for name in names:
            original = getattr(cls, name)

            def spy(self: Any, *args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                calls.append(_name)
                return _original(self, *args, **kw)

            monkeypatch.setattr(cls, name, spy)
    user, found = app.movies.get_movie_as(key, movie, {})
    assert (user.username, found.id) == ("alice", movie)
    assert calls == ["user_for_and_movie"]  # not the token, then the movie
