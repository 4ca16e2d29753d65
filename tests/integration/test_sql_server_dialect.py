"""SQL Server / Azure SQL: no server can run here, so prove what can be proven without one.

Every migration renders as T-SQL, every statement the SQL adapter issues compiles for
the mssql dialect (with row locks as table hints, and inside a schema such as the
original's ``movie_rater_api``), and the documented connection strings build engines.
"""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from movierater_adapters.sql import make_engine
from movierater_adapters.sql.migrate import render_sql
from movierater_adapters.sql.repositories import SqlRepositories
from movierater_adapters.sql.seed import recount_summaries
from movierater_adapters.sql.tables import metadata
from sqlalchemy.dialects import mssql
from sqlalchemy.sql import ClauseElement

from movierater_core.model import MovieFields, MovieOrder, MovieSort, Rating, Stars, SummaryDelta
from movierater_core.ports import ImportRecord, NewUser
from tests.integration.backends import unavailable

TABLES = [table.name for table in metadata.sorted_tables]  # every table the app has


def test_every_migration_renders_for_sql_server() -> None:
    out = io.StringIO()
    render_sql("mssql+pyodbc://", out)
    sql = out.getvalue()
    for table in TABLES:
        assert f"CREATE TABLE {table}" in sql
    assert "username NVARCHAR(150) NOT NULL" in sql  # Unicode survives on SQL Server
    assert "title NVARCHAR(150) NOT NULL" in sql
    assert "CONSTRAINT uq_ratings_user_id_movie_id UNIQUE (user_id, movie_id)" in sql
    assert "CONSTRAINT ck_ratings_stars_range CHECK (stars BETWEEN 1 AND 5)" in sql
    assert "id INTEGER NOT NULL IDENTITY" in sql
    assert "CONSTRAINT ck_movies_summary_sane CHECK" in sql
    assert "INSERT INTO alembic_version (version_num)" in sql and "VALUES ('0001')" in sql
    assert "CREATE INDEX ix_movies_title_id ON movies (title, id)" in sql  # the list's orders
    assert "CREATE INDEX ix_movies_rating_count_id ON movies (rating_count, id)" in sql


class _Result:
    inserted_primary_key = (1,)

    def first(self) -> None:
        return None

    def scalar_one(self) -> int:
        return 0

    def scalar(self) -> None:
        return None

    def __iter__(self) -> Any:
        return iter(())

    def all(self) -> list[Any]:
        return []

    def tuples(self) -> _Result:
        return self


class _RecordingCursor:
    rowcount = 1  # an UPDATE that found its row

    def __init__(self, statements: list[str]) -> None:
        self._statements = statements

    def execute(self, sql: str, args: Any = ()) -> None:
        self._statements.append(sql)

    def fetchall(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _RecordingDBAPIConnection:
    def __init__(self, statements: list[str]) -> None:
        self._statements = statements

    def cursor(self) -> _RecordingCursor:
        return _RecordingCursor(self._statements)


class RecordingConnection:
    """Stands in for a Connection: compiles each statement for SQL Server and keeps the SQL."""

    def __init__(self, schema: str | None = None) -> None:
        self.dialect = mssql.dialect()
        self.schema = schema
        self.statements: list[str] = []

    def execute(self, statement: ClauseElement, parameters: Any = None) -> _Result:
        # An INSERT names the columns its parameters give (the first row's, for many rows),
        # as SQLAlchemy compiles it at execution time.
        first = parameters[0] if isinstance(parameters, list) and parameters else parameters
        keys = {"column_keys": list(first)} if isinstance(first, dict) else {}
        if self.schema:  # what the engine's schema_translate_map does at execution time
            mapping = {None: self.schema}
            compiled = statement.compile(dialect=self.dialect, schema_translate_map=mapping, **keys)
            sql = compiled.preparer._render_schema_translates(compiled.string, mapping)
        else:
            sql = str(statement.compile(dialect=self.dialect, **keys))
        self.statements.append(sql)
        return _Result()

    def get_execution_options(self) -> dict[str, Any]:
        return {"schema_translate_map": {None: self.schema}} if self.schema else {}

    @property
    def connection(self) -> Any:
        """The DBAPI side, for the hot-path statements the adapter runs on the driver's cursor."""
        return _RecordingDBAPIConnection(self.statements)

    def begin_nested(self) -> Any:
        return contextlib.nullcontext()

    def scalars(self, statement: ClauseElement) -> list[Any]:
        self.execute(statement)
        return []


def _exercise_every_repository_method(conn: RecordingConnection) -> None:
    repos = SqlRepositories(conn)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    repos.users.get(1)
    repos.users.credentials("alice")
    repos.users.list()
    repos.users.add("alice", "hash")
    repos.users.add("bob", "pbkdf2_sha256$1$s$h", is_admin=True)
    repos.users.rename(1, "bob")
    repos.users.set_password_hash(1, "hash2")
    repos.users.set_admin(1, True)
    repos.users.lock_credentials(1)
    repos.users.count_admins()
    repos.users.count_admins(for_update=True)
    repos.users.delete(1)
    repos.movies.get(1)
    repos.movies.list()
    repos.movies.add(MovieFields(title="Alien", description="", image_path=None))
    repos.movies.update(1, MovieFields(title="T", description="D", image_path="https://x.y/z.jpg"))
    repos.movies.delete(1)
    repos.movies.adjust_ratings(1, SummaryDelta.added(Stars(5)))
    repos.ratings.get(1)
    repos.ratings.get(1, for_update=True)
    repos.ratings.find(1, 1)
    repos.ratings.find(1, 1, for_update=True)
    repos.ratings.list()
    repos.ratings.list(movie_id=1, user_id=2, for_update=True)
    repos.ratings.add(1, 1, Stars(3), at=now)
    repos.ratings.find_locking_movie(1, 1)
    repos.ratings.find_locking_movie(1, 1, fresh=True)
    repos.ratings.add(1, 1, Stars(3), at=now, summary_delta=SummaryDelta.added(Stars(3)))
    repos.ratings.change_stars(
        Rating(1, 1, 1, Stars(3)), Stars(4), at=now, summary_delta=SummaryDelta.changed(Stars(3), Stars(4))
    )
    repos.ratings.delete(1)
    repos.tokens.add("d" * 64, 1, now)
    repos.tokens.user_for("d" * 64)
    repos.tokens.touch("d" * 64, now)
    repos.tokens.delete("d" * 64)
    repos.tokens.delete_for_user(1)
    repos.tokens.delete_for_user(1, keep="d" * 64)
    repos.imports.find("movie", ["1", "2"])
    repos.imports.add("movie", [("1", ImportRecord(1, "f" * 64))], now)
    # The import's bulk statements.
    repos.users.existing([1, 2])
    repos.users.taken(["alice", "bob"])
    repos.users.add_many([NewUser("carol", "pbkdf2_sha256$1$s$h", False, now)])
    repos.movies.existing([1, 2])
    repos.movies.add_many([MovieFields(title="Ran", description="", image_path=None)])
    five, three_and_four = (
        SummaryDelta.added(Stars(5)),
        SummaryDelta.added(Stars(3)) + SummaryDelta.added(Stars(4)),
    )
    repos.movies.adjust_ratings_many({1: five, 2: five, 3: three_and_four})  # two distinct deltas
    repos.ratings.rated([(1, 1), (2, 3)])
    repos.ratings.add_many([(1, 1, Stars(3)), (2, 1, Stars(5))])
    repos.tokens.add_many([("d" * 64, 1, now)], last_used=now)
    repos.grants.lock_user(1)
    repos.grants.granted_after(1, now)
    repos.grants.add(1, "a" * 64 + ".png", now)
    repos.grants.forget_until(1, now)
    repos.grants.delete_for_user(1)
    repos.images.is_verified("a" * 64 + ".png")
    repos.images.mark_verified("a" * 64 + ".png", now)
    repos.images.forget("a" * 64 + ".png")
    repos.images.is_rejected("a" * 64 + ".png")
    repos.images.mark_rejected("a" * 64 + ".png", now)
    repos.images.referenced_image_paths()
    repos.attempts.lock("k" * 64)  # no row yet here: a locking read, an insert, a locking read
    repos.attempts.since("k" * 64, now)
    repos.attempts.add("k" * 64, now)
    repos.attempts.remove([1, 2])
    repos.attempts.forget_until("k" * 64, now)
    # The lists' pages (issue 12): OFFSET/FETCH, an escaped LIKE, the average's order.
    repos.users.page(10, 0)
    repos.users.count()
    repos.movies.page(10, 0)
    repos.movies.page(10, 5, order=MovieOrder(MovieSort.AVERAGE, descending=True), search="100%")
    repos.movies.count()
    repos.movies.count(search="[a]")
    repos.ratings.page(10, 0)
    repos.ratings.page(10, 0, movie_id=1, user_id=2)
    repos.ratings.count(movie_id=1)
    recount_summaries(conn)


def test_every_adapter_statement_compiles_for_sql_server() -> None:
    conn = RecordingConnection()
    _exercise_every_repository_method(conn)
    # + is_rejected, mark_rejected; + the attempts' 8; + the pages' 9; + the rate's 5 (the
    # movie locked with the rating, and alone when fresh (no movie here: no second read); an
    # add and a change, each with the summary's UPDATE, instead of set_stars)
    assert len(conn.statements) == 43 + 12 + 3 + 8 + 9 + 5
    locked = [s for s in conn.statements if "UPDLOCK" in s]
    assert len(locked) == 11
    assert sum("FROM movies WITH (UPDLOCK, ROWLOCK)" in s for s in locked) == 2
    assert sum("FROM ratings WITH (UPDLOCK, ROWLOCK)" in s for s in locked) == 3
    assert sum("FROM users WITH (UPDLOCK, ROWLOCK)" in s for s in locked) == 3
    assert sum("FROM attempt_locks WITH (UPDLOCK, ROWLOCK)" in s for s in locked) == 2
    assert sum("FROM attempts WITH (UPDLOCK, ROWLOCK)" in s for s in locked) == 1
    assert any(
        " ".join(s.split()).endswith("FROM users WITH (UPDLOCK, ROWLOCK) WHERE users.is_admin = 1")
        for s in locked
    )
    assert "FOR UPDATE" not in "\n".join(conn.statements)  # T-SQL has none
    adjust = next(s for s in conn.statements if "rating_sum=" in s.replace(" ", "") and "UPDATE movies" in s)
    assert "rating_sum=(movies.rating_sum+" in adjust.replace(" ", "")
    _STARS = "star_1, star_2, star_3, star_4, star_5"
    for table, columns in (
        ("users", "username, password_hash, is_admin, date_joined"),
        ("movies", "title, description, image_path, rating_count, rating_sum, " + _STARS),
        ("ratings", "user_id, movie_id, stars"),
    ):  # the new ids come back as with RETURNING; IDENTITY columns are never given a value
        assert f"INSERT INTO {table} ({columns}) OUTPUT inserted.id VALUES" in "\n".join(conn.statements)
    assert not any(s.startswith("INSERT") and "(id," in s for s in conn.statements)
    adjust_many = [s for s in conn.statements if "UPDATE movies" in s and " IN (" in s]
    assert len(adjust_many) == 2
    assert all("rating_count=(movies.rating_count+" in s.replace(" ", "") for s in adjust_many)
    searched = [" ".join(s.split()) for s in conn.statements if "LIKE lower(" in s]
    assert len(searched) == 2 and all("ESCAPE '/'" in s for s in searched)
    assert any("ORDER BY CASE WHEN rating_count = 0 THEN 0 ELSE" in s for s in searched)
    rated = next(s for s in conn.statements if s.startswith("SELECT ratings.user_id, ratings.movie_id"))
    assert "WHERE ratings.user_id = :u0 AND ratings.movie_id = :m0 OR ratings.user_id = :u1" in rated


def test_statements_go_into_the_configured_schema() -> None:
    conn = RecordingConnection(schema="movie_rater_api")
    _exercise_every_repository_method(conn)
    for sql in conn.statements:
        bare = sql.replace("movie_rater_api.", "")
        assert bare != sql, sql
        for table in TABLES:
            assert f"FROM {table} " not in sql and f"INTO {table} " not in sql, sql
    assert any("FROM movie_rater_api.ratings WITH (UPDLOCK, ROWLOCK)" in s for s in conn.statements)
    assert any("UPDATE movie_rater_api.movies" in s for s in conn.statements)


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "mssql+pyodbc://app:secret@myserver.database.windows.net:1433/movierater"
            "?driver=ODBC+Driver+18+for+SQL+Server&Encrypt=yes&TrustServerCertificate=no",
            [
                "DRIVER={ODBC Driver 18 for SQL Server}",
                "Server=myserver.database.windows.net,1433",
                "Database=movierater",
                "Encrypt=yes",
                "TrustServerCertificate=no",
            ],
        ),
        (
            "mssql+pyodbc://app:secret@sqlhost:1433/movierater?driver=FreeTDS&TDS_Version=7.4",
            ["DRIVER={FreeTDS}", "Server=sqlhost,1433", "TDS_Version=7.4"],
        ),
        (
            "mssql+pyodbc:///?odbc_connect=Driver%3D%7BODBC+Driver+18+for+SQL+Server%7D%3B"
            "Server%3Dtcp%3Amyserver.database.windows.net%2C1433%3BDatabase%3Dmovierater%3BEncrypt%3Dyes",
            [
                "Driver={ODBC Driver 18 for SQL Server}",
                "Server=tcp:myserver.database.windows.net,1433",
                "Encrypt=yes",
            ],
        ),
    ],
)
def test_documented_sql_server_urls_build_engines(url: str, expected: list[str]) -> None:
    try:  # the engine loads pyodbc, which needs the system's unixODBC (libodbc.so.2)
        import pyodbc  # noqa: F401
    except ImportError as exc:
        unavailable("pyodbc", f"{exc} (apt-get install unixodbc)")
    engine = make_engine(url, schema="movie_rater_api")  # builds without connecting
    assert engine.dialect.name == "mssql"
    (connection_string,), kwargs = engine.dialect.create_connect_args(engine.url)
    for part in expected:
        assert part in connection_string
    assert engine.get_execution_options()["schema_translate_map"] == {None: "movie_rater_api"}
    engine.dispose()


class _SessionConnection:
    """A pyodbc connection as the engine's connect listeners see it: what they set and run."""

    def __init__(self) -> None:
        self.timeout = 0
        self.statements: list[str] = []

    def cursor(self) -> _RecordingCursor:
        return _RecordingCursor(self.statements)


def test_a_serving_sql_server_engine_bounds_queries_and_lock_waits() -> None:
    try:
        import pyodbc  # noqa: F401
    except ImportError as exc:
        unavailable("pyodbc", f"{exc} (apt-get install unixodbc)")
    url = "mssql+pyodbc://app:secret@sqlhost:1433/movierater?driver=ODBC+Driver+18+for+SQL+Server"
    engine = make_engine(url, connect_timeout=3, timeout=2)  # builds without connecting
    connection = _SessionConnection()
    _our_connect_listeners(engine, connection)
    assert connection.timeout == 3  # pyodbc's query timeout (HYT00 -> 503): MOVIERATER_DB_TIMEOUT + 1
    assert connection.statements == ["SET LOCK_TIMEOUT 1500"]  # error 1222 -> 503
    assert engine.pool.timeout() == 2
    engine.dispose()
    unbounded = _SessionConnection()  # the CLI's engine: migrations and imports run unbounded
    _our_connect_listeners(make_engine(url, connect_timeout=3), unbounded)
    assert (unbounded.timeout, unbounded.statements) == (0, [])


def _our_connect_listeners(engine: Any, connection: _SessionConnection) -> None:
    """What the adapter's listeners do to each new connection (not SQLAlchemy's own, which
    need a real pyodbc connection)."""
    for listener in engine.pool.dispatch.connect:
        if getattr(listener, "__module__", "").startswith("movierater_adapters"):
            listener(connection, SimpleNamespace(info={}))  # a pool entry's info only
