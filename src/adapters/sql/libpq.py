"""The hot statements on PostgreSQL through libpq's own blocking calls.

psycopg runs every statement through its non-blocking wait loop (send, poll, consume,
resume a generator): measured on this project's machine, a one-row SELECT costs about
100 us of client CPU that way, and 25 us through libpq's blocking ``PQexecPrepared``. The
statements of the hot paths (:class:`~movierater_adapters.sql.prepared.Prepared`) run here
instead, on the same connection and in its transaction, with psycopg's own adapters for
parameters and rows and its own error classes, so a caller sees what psycopg's cursor
would give. libpq releases the GIL while it waits, and the stall cutoff still works: a
socket shut down under a waiting call fails it as a lost connection.
"""

from __future__ import annotations

import itertools
import re
import weakref
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer

_PARAMETER = re.compile(r"%\((\w+)\)s|%%")  # SQLAlchemy's pyformat, and its escaped percent
_OK = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_SQLSTATE = pq.DiagnosticField.SQLSTATE
_NOT_PREPARED = b"26000"  # invalid_sql_statement_name: DEALLOCATE ALL or DISCARD ALL ran
_names = itertools.count()


class _OnConnection:
    """What one driver connection holds for these statements: which of them it has
    prepared, and a psycopg transformer (its adapters) to dump and load values."""

    def __init__(self, driver: psycopg.Connection[Any]) -> None:
        self.prepared: set[bytes] = set()
        self.values = Transformer(driver)
        self.encoding = driver.info.encoding


# Per driver connection, forgotten with it (a new connection prepares afresh).
_connections: weakref.WeakKeyDictionary[psycopg.Connection[Any], _OnConnection] = weakref.WeakKeyDictionary()


class LibpqStatement:
    """One statement, compiled by SQLAlchemy for psycopg, prepared once per connection."""

    def __init__(self, sql: str) -> None:
        order: list[str] = []

        def numbered(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "%"
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self._sql = _PARAMETER.sub(numbered, sql).encode()
        self._order = tuple(order)
        # One prepared statement per list of parameter types, as psycopg types the values
        # (an int is int2, int4 or int8 by its size; a parameter without a cast takes its
        # type from the value, as through psycopg's cursor).
        self._names: dict[tuple[int, ...], bytes] = {}

    def run(
        self, driver: psycopg.Connection[Any], params: dict[str, Any], *, fetch: bool
    ) -> tuple[list[Any], int]:
        """(the rows if ``fetch``, the number of rows the statement matched or returned)"""
        with driver.lock:  # as psycopg's own calls: one statement at a time on a connection
            if driver.closed:
                raise errors.OperationalError("the connection is closed")
            pgconn = driver.pgconn
            here = _connections.get(driver)
            if here is None:
                here = _connections[driver] = _OnConnection(driver)
            if not driver.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
                self._check(pgconn, pgconn.exec_(_begin(driver)), here)  # as psycopg begins one
            values = [params[name] for name in self._order]
            dumped = here.values.dump_sequence(values, [PyFormat.AUTO] * len(values))
            types = tuple(here.values.types or ())
            name = self._names.get(types)
            if name is None:
                name = self._names.setdefault(types, b"movierater_%d" % next(_names))
            result = self._execute(pgconn, here, name, types, dumped)
            if result.status not in _OK and result.error_field(_SQLSTATE) == _NOT_PREPARED:
                # Deallocated behind our back (DEALLOCATE ALL, DISCARD ALL): prepared again;
                # run again at once only outside a transaction (the error ended this one).
                here.prepared.clear()
                if pgconn.transaction_status == pq.TransactionStatus.IDLE:
                    result = self._execute(pgconn, here, name, types, dumped)
            self._check(pgconn, result, here)
            rows: list[Any] = []
            if fetch:
                here.values.set_pgresult(result)
                rows = here.values.load_rows(0, result.ntuples, tuple)
                here.values.set_pgresult(None)
            matched = result.command_tuples
            return rows, -1 if matched is None else matched

    def _execute(
        self, pgconn: pq.abc.PGconn, here: _OnConnection, name: bytes, types: tuple[int, ...], dumped: Any
    ) -> pq.abc.PGresult:
        if name not in here.prepared:
            self._check(pgconn, pgconn.prepare(name, self._sql, types), here)
            here.prepared.add(name)
        return pgconn.exec_prepared(name, dumped, here.values.formats)

    @staticmethod
    def _check(pgconn: pq.abc.PGconn, result: pq.abc.PGresult, here: _OnConnection) -> None:
        if result.status not in _OK:
            raise _error(pgconn, result, here.encoding)


def commit(connection: Any) -> None:
    """A dialect's ``do_commit`` for psycopg: COMMIT as psycopg's ``commit()`` sends it (none
    when no transaction is open), through libpq's blocking call."""
    driver: psycopg.Connection[Any] = getattr(connection, "driver_connection", connection)
    with driver.lock:
        if driver.closed:
            raise errors.OperationalError("the connection is closed")
        pgconn = driver.pgconn
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            return
        result = pgconn.exec_(b"COMMIT")
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise _error(pgconn, result, driver.info.encoding)


def _error(pgconn: pq.abc.PGconn, result: pq.abc.PGresult, encoding: str) -> errors.Error:
    """The error psycopg would raise for a failed result."""
    if pgconn.status == pq.ConnStatus.BAD:  # the server or the socket went away
        return errors.OperationalError(result.get_error_message(encoding) or "the connection was lost")
    return errors.error_from_result(result, encoding=encoding)


def _begin(driver: psycopg.Connection[Any]) -> bytes:
    """The BEGIN psycopg would send for this connection's settings."""
    parts = [b"BEGIN"]
    if driver.isolation_level is not None:
        level = psycopg.IsolationLevel(driver.isolation_level)
        parts += [b"ISOLATION LEVEL", level.name.replace("_", " ").encode()]
    if driver.read_only is not None:
        parts.append(b"READ ONLY" if driver.read_only else b"READ WRITE")
    if driver.deferrable is not None:
        parts.append(b"DEFERRABLE" if driver.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)
