"""Turn driver errors into the core's errors, by backend.

The codes: PostgreSQL SQLSTATEs; MySQL/MariaDB error numbers (native drivers) or ODBC
SQLSTATEs (pyodbc); SQL Server error numbers; SQLite messages.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

from movierater_core.errors import ConcurrencyConflict, DomainError, ServiceUnavailable

# Lost races that are safe to run again.
_PG_RETRYABLE = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available
_ODBC_RETRYABLE = {"40001", "HYT00"}  # deadlock / serialization, lock timeout
_MYSQL_RETRYABLE = {1205, 1213}  # lock wait timeout, deadlock
_MSSQL_RETRYABLE = {1205, 1222}  # deadlock victim, lock request timeout
# The server is not there (ODBC: 08xxx connection errors, HYT00 login timeout).
_ODBC_UNAVAILABLE_PREFIX = "08"

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
    if isinstance(exc, IntegrityError):
        return None
    if (sqlstate or "").startswith(_ODBC_UNAVAILABLE_PREFIX) or _looks_unreachable(text):
        return ServiceUnavailable(UNAVAILABLE)
    return None


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
    text = str(orig)
    for marker in ("(1205)", "(1213)", "(1222)"):
        if marker in text:
            return int(marker[1:-1])
    return None


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
        )
    )
