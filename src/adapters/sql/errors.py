"""Turn driver errors into the core's errors, by backend.

The codes: PostgreSQL SQLSTATEs; MySQL/MariaDB error numbers (native drivers) or ODBC
SQLSTATEs (pyodbc); SQL Server error numbers; SQLite result codes and messages.

Two kinds of waiting end differently. A lost race (deadlock, serialization failure) is a
:class:`ConcurrencyConflict`, which the use cases run again at once. A wait that ran out
its bound (a statement or lock timeout, the server's or the driver's, a login timeout) is
:class:`ServiceUnavailable`: running it again would wait as long again, so the client is
told to come back (503 with Retry-After) instead.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError, IntegrityError

from movierater_core.errors import ConcurrencyConflict, DomainError, ServiceUnavailable

# Lost races that are safe to run again.
_PG_RETRYABLE = {"40001", "40P01"}  # serialization failure, deadlock
_ODBC_RETRYABLE = {"40001"}  # deadlock / serialization
_MYSQL_RETRYABLE = {1213}  # deadlock
_MSSQL_RETRYABLE = {1205}  # deadlock victim
# The server answered that a bound ran out: it is alive, but this wait was too long.
_PG_TIMED_OUT = {"55P03", "57014"}  # lock_timeout (lock not available), statement_timeout
_MYSQL_TIMED_OUT = {1205, 1969}  # innodb_lock_wait_timeout, max_statement_time
_MSSQL_TIMED_OUT = {1222}  # SET LOCK_TIMEOUT
# The driver gave up waiting (ODBC: HYT00 query or login timeout, HYT01 connection timeout).
_ODBC_TIMED_OUT = {"HYT00", "HYT01"}
_SQLITE_BUSY = 5  # the busy timeout ran out (BUSY_SNAPSHOT, 517, is a lost race)
# The server is not there (ODBC: 08xxx connection errors).
_ODBC_UNAVAILABLE_PREFIX = "08"
_ERROR_NUMBER = re.compile(r"\((\d{4,5})\)")

UNAVAILABLE = "The database is unavailable right now. Try again shortly."


def is_unique_violation(exc: IntegrityError) -> bool:
    """True for a duplicate key; other integrity errors (foreign keys) are not."""
    text = str(exc.orig).lower()
    return any(word in text for word in ("unique", "duplicate", "23505", "1062", "2627", "2601"))


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    """True when a row refers to one that does not exist (PostgreSQL 23503, MySQL/MariaDB 1452,
    SQL Server 547, SQLite's message): on insert, the referred row was deleted meanwhile."""
    text = str(exc.orig).lower()
    return "foreign key" in text or "23503" in text


def translate(exc: DBAPIError, dialect: str) -> DomainError | None:
    """The core error this driver error means, or ``None`` for a genuine bug."""
    if exc.connection_invalidated:
        return ServiceUnavailable(UNAVAILABLE)
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or _odbc_sqlstate(orig)
    code = _error_number(orig)
    text = str(orig).lower()
    if dialect == "sqlite":
        if server_timed_out(exc, dialect):
            return ServiceUnavailable(UNAVAILABLE)
        if "locked" in text or "busy" in text:
            return ConcurrencyConflict(text)
        if "unable to open" in text or "disk i/o" in text:
            return ServiceUnavailable(UNAVAILABLE)
        return None
    if sqlstate in _PG_RETRYABLE or sqlstate in _ODBC_RETRYABLE:
        return ConcurrencyConflict(text)
    if code in _MYSQL_RETRYABLE and dialect in ("mysql", "mariadb"):
        return ConcurrencyConflict(text)
    if code in _MSSQL_RETRYABLE and dialect == "mssql":
        return ConcurrencyConflict(text)
    if server_timed_out(exc, dialect) or sqlstate in _ODBC_TIMED_OUT:
        return ServiceUnavailable(UNAVAILABLE)
    if isinstance(exc, IntegrityError):
        return None
    if (sqlstate or "").startswith(_ODBC_UNAVAILABLE_PREFIX) or _looks_unreachable(text):
        return ServiceUnavailable(UNAVAILABLE)
    return None


def server_timed_out(exc: DBAPIError, dialect: str) -> bool:
    """True when the database itself ended the wait (statement or lock timeout, SQLite's
    busy timeout): it is alive and answering, only this statement waited too long."""
    orig = exc.orig
    if dialect == "sqlite":
        return getattr(orig, "sqlite_errorcode", None) == _SQLITE_BUSY
    if dialect == "postgresql":
        return getattr(orig, "sqlstate", None) in _PG_TIMED_OUT
    code = _error_number(orig)
    if dialect in ("mysql", "mariadb"):
        return code in _MYSQL_TIMED_OUT
    if dialect == "mssql":
        return code in _MSSQL_TIMED_OUT
    return False


def _odbc_sqlstate(orig: BaseException | None) -> str | None:
    # pyodbc puts the SQLSTATE first in args: ('40001', '[40001] [ma-3.1] Deadlock ...')
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], str) and len(args[0]) == 5:
        return args[0]
    return None


def _error_number(orig: BaseException | None) -> int | None:
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    # pyodbc: '[HY000] [ma-3.1.15][10.11.19-MariaDB]Lock wait timeout exceeded; ... (1205) (SQLExecDirectW)'
    numbers = _ERROR_NUMBER.findall(str(orig))
    return int(numbers[-1]) if numbers else None


def _looks_unreachable(text: str) -> bool:
    return any(
        phrase in text
        for phrase in (
            "connection refused",
            "could not connect",
            "server closed the connection",
            "terminating connection",
            "the database system is",
            "can't connect",
            "lost connection",
            "gone away",
            "connection timeout",
            "timeout expired",
            "no route to host",
            # The server is up but takes no more connections now (PostgreSQL's
            # max_connections or a role's or database's connection limit; MariaDB's 1040
            # and an account's max_user_connections, 1226).
            "too many clients",
            "too many connections",
            "remaining connection slots are reserved",
            "max_user_connections",
        )
    )
