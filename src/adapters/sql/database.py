"""The unit of work over SQLAlchemy: engines per backend, transactions, error translation.

Everything that differs between SQLite, PostgreSQL, MariaDB and SQL Server lives here
and in :mod:`.errors`; the repositories are portable Core statements (the hot ones
precompiled per dialect by :mod:`.prepared`).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, cast

from movierater_adapters.sql import libpq
from movierater_adapters.sql.errors import UNAVAILABLE, server_timed_out, translate
from movierater_adapters.sql.rating_statement import SqlOneStatementWrites
from movierater_adapters.sql.repositories import SqlRepositories
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import StaticPool

from movierater_core.errors import ServiceUnavailable
from movierater_core.ports import OneStatementWrites, ReadRepositories
from movierater_core.read_only import ReadOnlyRepositories

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIModule
    from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger("movierater.sql")
# The keys, in a pooled connection's info, that say it was made for this checkout and
# when it was last checked in (see _ping_when_idle).
_FRESH = "movierater_fresh"
_RETURNED_AT = "movierater_returned_at"
_IDLE_SINCE = "movierater_idle_since"  # a kept read connection's last use, as it is returned
# A pooled connection idle at least this long is pinged before use; one back in the pool
# sooner is used as it is. Under load connections idle for milliseconds, so a request pays
# no round trip for the ping; a server restart takes longer than this (the outage test),
# so a connection that outlived one is pinged, found dead and replaced, costing no request.
PING_AFTER_IDLE_SECONDS = 1.0


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    connect_timeout: int = 5,
    schema: str | None = None,
    timeout: int | None = None,
    threads: int = 1,
    **kwargs: Any,
) -> Engine:
    """An engine tuned for the backend named by ``url``.

    The pool keeps ``pool_size`` connections and opens more on demand, up to two for each
    of the ``threads`` that use it (each keeps its read connection, see
    :class:`SqlDatabase`, and may take one more for a write), and never fewer than twice
    ``pool_size``.

    SQLite gets WAL mode and a busy timeout so that several gunicorn workers can write,
    and ``BEGIN IMMEDIATE`` for write transactions so writers queue instead of failing.
    Server databases get a bounded connect timeout and a ping of each pooled connection
    that idled (:func:`_ping_when_idle`), so a restarted server is noticed and reconnected
    to without restarting the app. ``schema`` puts every
    table in that schema (as the original's ``movie_rater_api`` on Azure SQL).

    ``timeout`` (seconds; for serving requests, not for migrations, imports or the CLI)
    bounds every other wait too: each statement, each lock wait (0.5 s less), the wait
    for a pooled connection, and the socket (TCP keepalive and user timeout; the
    driver's read and write timeouts on MariaDB; the query timeout on SQL Server).
    :class:`SqlDatabase` adds the one bound a driver cannot: a unit of work on a server
    that does not answer at all (PostgreSQL frozen) is cut off after ``timeout + 1`` s.
    docs/deploy.md lists each bound per database.
    """
    overflow = max(pool_size, 2 * threads - pool_size)
    engine = _make_engine(
        url,
        pool_size=pool_size,
        overflow=overflow,
        connect_timeout=connect_timeout,
        timeout=timeout,
        **kwargs,
    )
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def _make_engine(
    url: str, *, pool_size: int, overflow: int, connect_timeout: int, timeout: int | None, **kwargs: Any
) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        busy_ms = SQLITE_BUSY_TIMEOUT_MS if timeout is None else timeout * 1000
        in_memory = parsed.database in (None, "", ":memory:")
        # An in-memory database lives as long as its connection: everyone shares the one
        # (for tests; not for concurrent threads).
        pool: dict[str, Any] = (
            {"poolclass": StaticPool} if in_memory else {"pool_size": pool_size, "max_overflow": overflow}
        )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            **pool,
            **kwargs,
        )
        _tune_sqlite(engine, in_memory=in_memory, busy_ms=busy_ms)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = connect_timeout
        if parsed.get_driver_name() == "psycopg":
            # The hot statements are prepared by .libpq; psycopg's own automatic preparing
            # would DEALLOCATE ALL of them at every rollback (a round trip of its own too).
            connect_args["prepare_threshold"] = None
    elif parsed.get_driver_name() == "pyodbc":
        connect_args["timeout"] = connect_timeout  # pyodbc's login timeout
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = connect_timeout
    if timeout is not None:
        connect_args.update(_socket_bounds(parsed, timeout))
    engine = create_engine(
        url,
        pool_pre_ping=False,  # _ping_when_idle pings only the connections that idled
        pool_size=pool_size,
        max_overflow=overflow,
        pool_timeout=connect_timeout if timeout is None else min(connect_timeout, timeout),
        connect_args=connect_args,
        **kwargs,
    )
    if timeout is not None:
        _bound_sessions(engine, timeout)
    if parsed.get_driver_name() == "psycopg":  # COMMIT through libpq too (.libpq says why)
        setattr(engine.dialect, "do_commit", libpq.commit)  # noqa: B010 - an instance's method
    # psycopg's ping runs under SqlDatabase's cutoff instead (see _watch_checkouts)
    if not (timeout is not None and _cuttable(parsed)):
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine, before_ping: Callable[[Any], _Unit | None] | None = None) -> None:
    """Ping a pooled connection on checkout when it idled ``PING_AFTER_IDLE_SECONDS`` or
    more (SQLAlchemy's pre-ping pings every checkout: one more round trip per request).
    A dead one is replaced, and the pool's older connections with it (a restart killed
    them all). ``before_ping`` runs first on every checkout (SqlDatabase's cutoff watch);
    the unit it returns tells a ping that was cut off from one that failed by itself."""

    @event.listens_for(engine, "connect")
    def on_connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_FRESH] = True

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        record.info[_RETURNED_AT] = time.monotonic() if idle_since is None else idle_since

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        unit = before_ping(dbapi_connection) if before_ping is not None else None
        if record.info.pop(_FRESH, False):
            return
        if time.monotonic() - record.info.get(_RETURNED_AT, 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            if unit is not None and unit.cut:
                raise _Stalled from exc
            if engine.dialect.is_disconnect(cast("DBAPIModule.Error", exc), dbapi_connection, None):
                raise InvalidatePoolError from exc  # stale after a restart: reconnect
            raise


def _cuttable(url: URL) -> bool:
    """Drivers whose connections show their socket (``fileno()``), so that a unit of work
    stuck on it can be cut off: psycopg. pyodbc's drivers bound reads themselves."""
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"


def _lock_ms(timeout: int) -> int:
    """Lock waits end half a second before the statement's bound, so a statement stuck
    behind a lock reports that (lock timeout), and after PostgreSQL's deadlock check (its
    deadlock_timeout, 1 s, runs first from ``timeout`` 2 on): a deadlock is still found,
    and retried, rather than answered as a lock timeout."""
    return timeout * 1000 - 500


def _socket_bounds(url: URL, timeout: int) -> dict[str, Any]:
    """Connection parameters that bound the server's work and the socket's silence."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        options = f"-c statement_timeout={timeout * 1000} -c lock_timeout={_lock_ms(timeout)}"
        given = url.query.get("options")
        return {
            # the server cancels a statement (57014) or a lock wait (55P03) that runs too long
            "options": f"{given} {options}" if isinstance(given, str) else options,
            # a peer that vanished (host down, network cut) is noticed within seconds
            "keepalives": 1,
            "keepalives_idle": max(1, timeout),
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": (timeout + 1) * 1000,
        }
    if backend in ("mysql", "mariadb") and url.get_driver_name() == "pyodbc":
        # MariaDB Connector/ODBC's own socket timeouts (seconds): a read or write the
        # server does not answer fails with 2013 "Lost connection" (08S01). Longer than
        # max_statement_time, so a slow but live server reports that first.
        return {"READ_TIMEOUT": timeout + 1, "WRITE_TIMEOUT": timeout + 1}
    return {}


def _bound_sessions(engine: Engine, timeout: int) -> None:
    """Per-session bounds set on each new connection, where the URL cannot carry them."""
    backend = engine.dialect.name
    if backend in ("mysql", "mariadb"):

        @event.listens_for(engine, "connect")
        def on_mysql_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            # whole seconds; InnoDB's default is 50
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {max(1, _lock_ms(timeout) // 1000)}")
            if getattr(engine.dialect, "is_mariadb", False) or _is_mariadb(cursor):
                cursor.execute(f"SET SESSION max_statement_time = {timeout}")
            cursor.close()

    elif backend == "mssql":

        @event.listens_for(engine, "connect")
        def on_mssql_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.timeout = timeout + 1  # pyodbc's query timeout (HYT00), seconds
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET LOCK_TIMEOUT {_lock_ms(timeout)}")  # then error 1222
            cursor.close()


def _is_mariadb(cursor: Any) -> bool:
    """On the first connection the dialect has not looked at the server yet."""
    cursor.execute("SELECT VERSION()")
    return "mariadb" in str(cursor.fetchone()[0]).lower()


def _tune_sqlite(engine: Engine, *, in_memory: bool, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        # 1 MiB page cache a connection (SQLite default: 2 MiB); the OS caches the file too.
        cursor.execute("PRAGMA cache_size=-1024")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        mode = conn.info.get("mode")
        if mode == "write":  # writers queue here, never deadlock (on the raw cursor: hot path)
            # SQLAlchemy types the driver's connection as optional (None once closed).
            driver = cast("sqlite3.Connection", conn.connection.driver_connection)
            try:
                driver.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # busy: as SQLAlchemy wraps its own statements
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        elif mode != "read":  # reads run in autocommit: each statement sees committed data
            conn.exec_driver_sql("BEGIN")  # migrations and other plain engine.begin()


# A thread's read connection is kept between reads (checking one out of the pool costs
# more than the read itself), and checked out afresh after idling this long: on a server
# database as long as the pool lets a connection idle unpinged, so a kept one that
# outlived a server restart is never used (it is returned, and the pool pings it).
READER_IDLE_SECONDS = 5.0


# How often the cutoff's thread wakes while no unit of work is watched; shorter than any
# unit's bound (timeout + 1 s, at least 2 s), so a new unit never has to wake it.
_IDLE_WAKE_SECONDS = 1.0


class _Cutoff:
    """Shuts down the socket of a connection whose unit of work outlived its deadline.

    A frozen server (SIGSTOP, a hung host whose kernel still answers) never answers and
    never closes: its kernel acknowledges what is sent, so neither TCP keepalive nor
    tcp_user_timeout fires, and statement_timeout is the server's own clock. The driver
    would wait forever. This one thread per process watches the connections checked out
    under a deadline and, past it, shuts their socket down: the waiting driver call then
    fails at once as a lost connection, which SQLAlchemy invalidates and the caller
    answers with 503. ``shutdown`` leaves the descriptor open (its owner closes it), and a
    connection is unwatched before SQLAlchemy closes it, so no other socket is touched.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watched: dict[int, tuple[int, _Unit]] = {}
        self._thread: threading.Thread | None = None
        # When the thread wakes next by itself (inf: not started). A unit due later need
        # not wake it: waking a thread on every read cost the reads a tenth of their time
        # and made them wait for the GIL.
        self._wake_at = math.inf

    def watch(self, connection: Any, unit: _Unit) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="movierater-db-cutoff", daemon=True)
                self._thread.start()
            self._watched[id(connection)] = (connection.fileno(), unit)
            if unit.deadline < self._wake_at:
                self._cond.notify()

    def unwatch(self, connection: Any) -> None:
        with self._cond:
            self._watched.pop(id(connection), None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (fd, unit) in list(self._watched.items()):
                    if unit.deadline <= now:
                        del self._watched[key]
                        unit.cut = True
                        _shut_down(fd)
                # The earliest deadline may be a unit unwatched since: waking for it costs
                # one pass, far fewer than a notify per unit. With none watched (between
                # reads) it wakes within a second anyway: a unit, due later than that,
                # then need not notify it either.
                self._wake_at = min(
                    (u.deadline for _, u in self._watched.values()), default=now + _IDLE_WAKE_SECONDS
                )
                self._cond.wait(self._wake_at - now)


def _shut_down(fd: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:  # a duplicate: closing it closes no one's
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by its owner: nothing is waiting on it


class _Unit:
    """One unit of work under a deadline; ``cut`` once the cutoff shut its connection."""

    __slots__ = ("cut", "deadline")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cut = False


class _Stalled(Exception):
    """A unit of work was cut off: the database did not answer within its bound."""


# After a unit of work was cut off or a connection attempt timed out, the database is
# taken to be stalled and the next units fail at once for this long (each would wait its
# whole bound, and requests queue behind a worker that waits): then one tries again.
STALL_COOLDOWN_SECONDS = 2.0
# A unit that waited at least this long before finding the database unreachable is taken
# to have timed out (a refused connection fails in milliseconds).
_STALL_SECONDS = 1.0


def _forget_mode(conn: Connection) -> None:
    """Take the unit's mode off its pooled connection, unless that connection died (its
    info goes with it; asking a dead one for its info would reconnect)."""
    if not conn.invalidated:
        conn.info.pop("mode", None)


class SqlDatabase:
    """Implements the core's ``Database`` port.

    Writes: one pooled connection and one transaction per block. Reads: autocommit, so
    each read sees committed data and no transaction stays open between requests; on
    SQLite on this thread's kept connection.

    With ``timeout`` (seconds: serving requests; the engine made with the same
    ``timeout``), each unit of work (a reading or writing block, a ping) is bounded:
    psycopg connections are cut off ``timeout + 1`` s after the unit began (the server's
    statement_timeout, ``timeout``, fires first when it is alive), and once a unit timed
    out for want of an answer, units fail at once with ServiceUnavailable for
    ``STALL_COOLDOWN_SECONDS`` before the next one tries the database again.
    """

    def __init__(self, engine: Engine, *, timeout: int | None = None) -> None:
        self.engine = engine
        self._dialect = engine.dialect.name
        self._local = threading.local()
        self._reader_idle = READER_IDLE_SECONDS if self._dialect == "sqlite" else PING_AFTER_IDLE_SECONDS
        self._timeout = timeout
        self._stalled_until = 0.0
        self._cutoff: _Cutoff | None = None
        if timeout is not None and _cuttable(engine.url):
            self._cutoff = _Cutoff()
            self._watch_checkouts(self._cutoff)

    def _watch_checkouts(self, cutoff: _Cutoff) -> None:
        """Every connection checked out inside a unit of work is watched until it is
        checked in (after its reset) or closed; one that idled is pinged under that watch
        (the pool's own pre-ping would run before any listener, unwatched)."""
        engine, local = self.engine, self._local

        def watch(dbapi_connection: Any) -> _Unit | None:
            unit: _Unit | None = getattr(local, "unit", None)
            if unit is not None:
                cutoff.watch(dbapi_connection, unit)
            return unit

        _ping_when_idle(engine, before_ping=watch)

        @event.listens_for(engine, "checkin")
        def on_checkin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            if dbapi_connection is not None:
                cutoff.unwatch(dbapi_connection)

        @event.listens_for(engine, "close")
        def on_close(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            cutoff.unwatch(dbapi_connection)

        @event.listens_for(engine, "invalidate")
        def on_invalidate(dbapi_connection: Any, _record: ConnectionPoolEntry, _exc: Any) -> None:
            if dbapi_connection is not None:
                cutoff.unwatch(dbapi_connection)

    @contextmanager
    def reading(self) -> Iterator[ReadRepositories]:
        """The read methods only (autocommit: a write here would be committed at once), on
        this thread's kept read connection."""
        with self._autocommit() as conn:
            yield ReadOnlyRepositories(SqlRepositories(conn))

    def one_statement(self) -> AbstractContextManager[OneStatementWrites] | None:
        """On PostgreSQL, the kept read connection (autocommit): each statement of
        :class:`OneStatementWrites` is its own transaction, with no BEGIN and COMMIT round
        trips. Elsewhere None (MariaDB cannot lock, write and return in one statement;
        SQLite has no round trips to save)."""
        if self._dialect != "postgresql":
            return None
        return self._one_statement()

    @contextmanager
    def _one_statement(self) -> Iterator[OneStatementWrites]:
        with self._autocommit() as conn:
            yield SqlOneStatementWrites(conn)

    @contextmanager
    def _autocommit(self) -> Iterator[Connection]:
        """This thread's kept read connection, in autocommit, under this unit's bound."""
        with self._translated():
            conn = self._reader()
            watched = self._watch_reader(conn)
            try:
                yield conn
            except DBAPIError:
                self._drop_reader()  # maybe broken: the next read checks out afresh
                raise
            finally:
                if watched is not None and self._cutoff is not None:
                    self._cutoff.unwatch(watched)  # kept, idle: no deadline until the next read
                if self._local.conn is conn:
                    conn.rollback()  # ends SQLAlchemy's autobegun block; nothing to undo
                    self._local.last_used = time.monotonic()

    def _watch_reader(self, conn: Connection) -> Any:
        """Put the kept read connection under this unit's cutoff (a checkout does that for
        a connection taken from the pool, not for one kept); its driver connection."""
        unit: _Unit | None = getattr(self._local, "unit", None)
        if self._cutoff is None or unit is None:
            return None
        dbapi_connection = conn.connection.dbapi_connection
        self._cutoff.watch(dbapi_connection, unit)
        return dbapi_connection

    @contextmanager
    def writing(self) -> Iterator[SqlRepositories]:
        with self._translated(), self.engine.connect() as conn:
            conn.info["mode"] = "write"
            try:
                with conn.begin():
                    yield SqlRepositories(conn)
            finally:
                _forget_mode(conn)

    def ping(self) -> None:
        """``SELECT 1`` on a connection from the pool (replaced first if it idled and died)."""
        try:
            with self._translated(), self.engine.connect() as conn:
                conn.info["mode"] = "read"  # on SQLite: no BEGIN for a probe
                try:
                    conn.exec_driver_sql("SELECT 1")
                finally:
                    _forget_mode(conn)
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
            conn.closed or conn.invalidated or time.monotonic() - self._local.last_used >= self._reader_idle
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
            if self._dialect != "sqlite" and not (conn.closed or conn.invalidated):
                conn.info[_IDLE_SINCE] = self._local.last_used  # so the pool pings it if due
            try:
                conn.close()
            except DBAPIError:
                conn.invalidate()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver errors become the core's: lost races, an unavailable database. Under a
        ``timeout``, the whole block is one bounded unit of work (see the class)."""
        if self._timeout is None:
            with self._translating():
                yield
            return
        started = time.monotonic()
        if started < self._stalled_until:
            raise ServiceUnavailable(UNAVAILABLE)
        outer: _Unit | None = getattr(self._local, "unit", None)  # a unit inside a unit keeps its bound
        unit = outer or _Unit(started + self._timeout + 1)
        self._local.unit = unit
        try:
            with self._translating():
                yield
        except ServiceUnavailable as exc:
            if self._timed_out(exc, unit, started):
                self._stalled_until = time.monotonic() + STALL_COOLDOWN_SECONDS
                log.warning(
                    "database did not answer within %s s: answering 503 at once for %s s",
                    self._timeout + 1,
                    STALL_COOLDOWN_SECONDS,
                )
            raise
        finally:
            self._local.unit = outer

    def _timed_out(self, exc: ServiceUnavailable, unit: _Unit, started: float) -> bool:
        """A unit cut off, or one that waited long and found no server: not one whose
        statement the (live) server itself cancelled."""
        if unit.cut:
            return True
        cause = exc.__cause__
        if isinstance(cause, DBAPIError) and server_timed_out(cause, self._dialect):
            return False
        return time.monotonic() - started >= _STALL_SECONDS

    @contextmanager
    def _translating(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            domain_error = translate(exc, self._dialect)
            if domain_error is None:
                raise
            raise domain_error from exc
        except PoolTimeout as exc:  # every pooled connection stuck on a dead server
            raise ServiceUnavailable(UNAVAILABLE) from exc
        except _Stalled as exc:  # the ping of an idle connection was cut off
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def dispose(self) -> None:
        self._drop_reader()
        self.engine.dispose()
