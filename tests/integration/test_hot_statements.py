"""The hot-path statements (``Prepared``) on real databases: they answer exactly as SQLAlchemy's
own execution does, take part in the unit's transaction, and keep working after what would
unsettle a prepared statement. On PostgreSQL they run through libpq's blocking calls
(``movierater_adapters.sql.libpq``), so these checks are what keeps that path honest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.sql.errors import is_unique_violation, translate
from movierater_adapters.sql.prepared import Prepared
from movierater_adapters.sql.tables import movies, tokens, users
from sqlalchemy import Engine, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from movierater_core.errors import ServiceUnavailable
from movierater_core.model import MovieFields
from tests.integration.backends import selected_backends
from tests.integration.conftest import wipe

TITLES = ("Plain", "100% pure", "Ünïcödé ☃", "it's %(quoted)s", "")

_BY_TITLE = (
    select(
        movies.c.id,
        movies.c.title,
        movies.c.image_path,
        movies.c.rating_sum,
        # an uncast parameter: its type comes from the value (a float here)
        (bindparam("weight") + movies.c.rating_sum).label("weighted"),
    )
    .where(movies.c.title == bindparam("title"))
    .order_by(movies.c.id)
)
_RENAME = update(movies).where(movies.c.title == bindparam("old")).values(title=bindparam("new"))
_ADD_USER = insert(users).values(
    username=bindparam("username"),
    password_hash=bindparam("hash"),
    is_admin=bindparam("admin"),
    date_joined=func.current_timestamp(),
)
_POSTGRESQL = [backend for backend in selected_backends() if backend == "postgresql"]


@pytest.fixture
def db(database_url: str, engine: Engine) -> Iterator[SqlDatabase]:
    wipe(engine)
    database = SqlDatabase(make_engine(database_url, connect_timeout=5))
    yield database
    database.engine.dispose()


def _connection(db: SqlDatabase) -> Any:
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def test_hot_statements_answer_as_sqlalchemy_does(db: SqlDatabase) -> None:
    with db.writing() as repos:
        for title in TITLES:
            repos.movies.add(MovieFields(title=title or "x", image_path=None))
    by_title, rename = Prepared(_BY_TITLE), Prepared(_RENAME)
    with _connection(db) as conn:
        for title in TITLES:
            for weight in (0.5, 2.25):
                params = {"title": title, "weight": weight}
                expected = [tuple(row) for row in conn.execute(_BY_TITLE, params)]
                for _ in range(3):  # the first run prepares, the next ones reuse it
                    assert [tuple(row) for row in by_title.rows(conn, params)] == expected
        assert rename.execute(conn, {"old": "100% pure", "new": "100% pure!"}) == 1
        assert rename.execute(conn, {"old": "not there", "new": "y"}) == 0
        assert by_title.rows(conn, {"title": "100% pure!", "weight": 1})[0][1] == "100% pure!"


def test_a_hot_statement_that_opens_a_unit_is_rolled_back_with_it(db: SqlDatabase) -> None:
    with db.writing() as repos:
        movie = repos.movies.add(MovieFields(title="Kept"))
    rename = Prepared(_RENAME)

    class Undo(Exception):
        pass

    for _ in range(3):  # on a fresh connection and on pooled ones
        with pytest.raises(Undo), db.writing() as repos:
            assert rename.execute(repos.connection, {"old": "Kept", "new": "Lost"}) == 1
            raise Undo
        with db.reading() as reader:
            found = reader.movies.get(movie.id)
        assert found is not None and found.title == "Kept"


def test_hot_statements_keep_working_after_rollbacks_and_deallocation(db: SqlDatabase, backend: str) -> None:
    """psycopg's own statement cache would DEALLOCATE ALL at a rollback, dropping ours; and a
    session may be told DISCARD ALL. Neither may break the next statement."""
    by_title = Prepared(_BY_TITLE)
    add_user = Prepared(_ADD_USER)
    with db.writing() as repos:
        repos.movies.add(MovieFields(title="Plain"))
    with _connection(db) as conn:
        for round_ in range(3):
            assert len(by_title.rows(conn, {"title": "Plain", "weight": 1})) == 1
            if backend == "postgresql":
                conn.exec_driver_sql("DEALLOCATE ALL" if round_ % 2 else "DISCARD ALL")
            assert len(by_title.rows(conn, {"title": "Plain", "weight": 1})) == 1
    for name in ("dup", "dup"):  # the second fails in its unit, which is rolled back
        try:
            with db.writing() as repos:
                add_user.execute(repos.connection, {"username": name, "hash": "x", "admin": False})
                by_title.rows(repos.connection, {"title": "Plain", "weight": 1})
        except IntegrityError as exc:
            assert is_unique_violation(exc)
    with db.writing() as repos:  # the same connection again: its statements still there
        assert len(by_title.rows(repos.connection, {"title": "Plain", "weight": 1})) == 1


@pytest.mark.parametrize("backend", _POSTGRESQL, indirect=True)
def test_a_lost_connection_under_a_hot_statement_is_invalidated(db: SqlDatabase, backend: str) -> None:
    """A killed session fails the waiting libpq call as a lost connection: invalidated, 503."""
    by_title = Prepared(_BY_TITLE)
    with _connection(db) as conn:
        assert by_title.rows(conn, {"title": "none", "weight": 1}) == []
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with db.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        with pytest.raises(DBAPIError) as lost:
            by_title.rows(conn, {"title": "none", "weight": 1})
        assert lost.value.connection_invalidated
        assert isinstance(translate(lost.value, backend), ServiceUnavailable)
    with _connection(db) as conn:  # the pool hands out a working connection again
        assert by_title.rows(conn, {"title": "none", "weight": 1}) == []


@pytest.mark.parametrize("backend", _POSTGRESQL, indirect=True)
def test_the_server_sees_one_prepared_statement_per_hot_statement(db: SqlDatabase, backend: str) -> None:
    """On PostgreSQL each hot statement is prepared once per connection (and typed as
    psycopg types its values), not parsed and planned at every run."""
    by_title = Prepared(_BY_TITLE)
    with _connection(db) as conn:
        for _ in range(5):
            by_title.rows(conn, {"title": "x", "weight": 1.5})
        statements = conn.execute(
            text("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'movierater%'")
        ).all()
    assert len(statements) == 1
    assert "movies.title = $2" in statements[0][1]


def test_a_token_and_a_movie_are_read_together_as_each_alone(db: SqlDatabase, engine: Engine) -> None:
    """``user_for_and_movie``, one statement: the same as ``user_for`` and ``movies.get``,
    whichever of the two is there."""
    now = datetime.now(UTC)
    with db.writing() as repos:
        movie = repos.movies.add(MovieFields(title="Alien"))
    with engine.begin() as conn:
        user_id = conn.execute(
            insert(users).values(username="alice", password_hash="x", is_admin=True, date_joined=now)
        ).inserted_primary_key[0]
        conn.execute(
            insert(tokens).values(digest="a" * 64, user_id=user_id, created_at=now, last_used=1_700_000_000)
        )
        conn.execute(insert(tokens).values(digest="b" * 64, user_id=user_id, created_at=now, last_used=None))
    for digest in ("a" * 64, "b" * 64, "c" * 64):
        for movie_id in (movie.id, movie.id + 1):
            with db.reading() as repos:
                together = repos.tokens.user_for_and_movie(digest, movie_id)
                alone = (repos.tokens.user_for(digest), repos.movies.get(movie_id))
            assert together == alone
            assert (together[0] is None) == (digest == "c" * 64)
            assert (together[1] is None) == (movie_id != movie.id)
