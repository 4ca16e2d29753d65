"""The unit of work over SQLAlchemy: engines per backend, transactions, error translation.

Everything that differs between SQLite, PostgreSQL, MariaDB and SQL Server lives here
and in :mod:`.errors`; the repositories are portable Core statements (the hot ones
precompiled per dialect by :mod:`.prepared`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from movierater_adapters.sql.errors import UNAVAILABLE, translate
from movierater_adapters.sql.repositories import SqlRepositories
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import StaticPool

from movierater_core.errors import ServiceUnavailable
from movierater_core.ports import ReadRepositories
from movierater_core.read_only import ReadOnlyRepositories

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger("movierater.sql")


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    connect_timeout: int = 5,
    schema: str | None = None,
    **kwargs: Any,
) -> Engine:
    """An engine tuned for the backend named by ``url``.

    SQLite gets WAL mode and a busy timeout so that several gunicorn workers can write,
    and ``BEGIN IMMEDIATE`` for write transactions so writers queue instead of failing.
    Server databases get a bounded connect timeout and pre-ping, so a restarted server
    is noticed and reconnected to without restarting the app. ``schema`` puts every
    table in that schema (as the original's ``movie_rater_api`` on Azure SQL).
    """
    engine = _make_engine(url, pool_size=pool_size, connect_timeout=connect_timeout, **kwargs)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def _make_engine(url: str, *, pool_size: int, connect_timeout: int, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        in_memory = parsed.database in (None, "", ":memory:")
        # An in-memory database lives as long as its connection: everyone shares the one
        # (for tests; not for concurrent threads).
        pool: dict[str, Any] = (
            {"poolclass": StaticPool} if in_memory else {"pool_size": pool_size, "max_overflow": pool_size}
        )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool,
            **kwargs,
        )
        _tune_sqlite(engine, in_memory=in_memory)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = connect_timeout
    elif parsed.get_driver_name() == "pyodbc":
        connect_args["timeout"] = connect_timeout  # pyodbc's login timeout
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = connect_timeout
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=connect_timeout,
        connect_args=connect_args,
        **kwargs,
    )


def _tune_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # 1 MiB page cache a connection (SQLite default: 2 MiB); the OS caches the file too.
        cursor.execute("PRAGMA cache_size=-1024")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        mode = conn.info.get("mode")
        if mode == "write":  # writers queue here, never deadlock (on the raw cursor: hot path)
            # SQLAlchemy types the driver's connection as optional (None once closed).
            cast("sqlite3.Connection", conn.connection.driver_connection).execute("BEGIN IMMEDIATE")
        elif mode != "read":  # reads run in autocommit: each statement sees committed data
            conn.exec_driver_sql("BEGIN")  # migrations and other plain engine.begin()


# On SQLite a thread's read connection is kept between requests (checking one out of
# the pool costs more than the read itself), checked out afresh after idling this long.
# Server databases check one out per read, with pre-ping: a kept connection would fail
# once after every server restart, and a read cannot be transparently run again.
READER_IDLE_SECONDS = 5.0


class SqlDatabase:
    """Implements the core's ``Database`` port.

    Writes: one pooled connection and one transaction per block. Reads: autocommit, so
    each read sees committed data and no transaction stays open between requests; on
    SQLite on this thread's kept connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._local = threading.local()
        self._keep_readers = self._dialect == "sqlite"

    @contextmanager
    def reading(self) -> Iterator[ReadRepositories]:
        """The read methods only (autocommit: a write here would be committed at once)."""
        if not self._keep_readers:
            with self._translated(), self.engine.connect() as conn:
                conn.info["mode"] = "read"
                yield ReadOnlyRepositories(
                    SqlRepositories(conn.execution_options(isolation_level="AUTOCOMMIT"))
                )
            return
        with self._translated():
            conn = self._reader()
            try:
                yield ReadOnlyRepositories(SqlRepositories(conn))
            except DBAPIError:
                self._drop_reader()  # maybe broken: the next read checks out afresh
                raise
            finally:
                if self._local.conn is conn:
                    conn.rollback()  # ends SQLAlchemy's autobegun block; nothing to undo
                    self._local.last_used = time.monotonic()

    @contextmanager
    def writing(self) -> Iterator[SqlRepositories]:
        with self._translated(), self.engine.connect() as conn:
            conn.info["mode"] = "write"
            try:
                with conn.begin():
                    yield SqlRepositories(conn)
            finally:
                conn.info.pop("mode", None)

    def ping(self) -> None:
        """``SELECT 1`` on a connection from the pool (which pre-ping replaces if it died)."""
        try:
            with self._translated(), self.engine.connect() as conn:
                conn.info["mode"] = "read"  # on SQLite: no BEGIN for a probe
                try:
                    conn.exec_driver_sql("SELECT 1")
                finally:
                    conn.info.pop("mode", None)
        except DBAPIError as exc:
            # Not a lost connection but still not ready (a wrong password, a dropped database):
            # the cause goes to the log, the probe's answer stays generic.
            log.warning(
                "database ping failed: %s", next(iter(str(exc.orig).splitlines()), type(exc).__name__)
            )
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _reader(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None and (
            conn.closed or conn.invalidated or time.monotonic() - self._local.last_used > READER_IDLE_SECONDS
        ):
            self._drop_reader()
            conn = None
        if conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.info["mode"] = "read"
            self._local.conn = conn
            self._local.last_used = time.monotonic()
        return conn

    def _drop_reader(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                conn.invalidate()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver errors become the core's: lost races, an unavailable database."""
        try:
            yield
        except DBAPIError as exc:
            domain_error = translate(exc, self._dialect)
            if domain_error is None:
                raise
            raise domain_error from exc
        except PoolTimeout as exc:  # every pooled connection stuck on a dead server
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def dispose(self) -> None:
        self._drop_reader()
        self.engine.dispose()
