"""Hot-path statements run on the driver's cursor, compiled once per dialect.

On SQLite, SQLAlchemy's execution machinery costs several times the query itself; the
statements of the hot paths (authenticate, read movies, rate) skip it. They run on the
Connection's own DBAPI connection, so they take part in its transaction, and errors
are wrapped exactly as SQLAlchemy would, so translation and invalidation of a broken
connection work as for every other statement. On PostgreSQL they skip psycopg's
non-blocking wait loop too (:mod:`.libpq`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from movierater_adapters.sql.libpq import LibpqStatement
from sqlalchemy import Connection, Delete, Insert, Select, Update
from sqlalchemy.exc import DBAPIError, StatementError

if TYPE_CHECKING:
    import psycopg

_Compiled = tuple[str, tuple[str, ...] | None, LibpqStatement | None]


class Prepared:
    def __init__(self, statement: Select[*tuple[Any, ...]] | Update | Delete | Insert) -> None:
        self._statement = statement
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def rows(self, conn: Connection, params: dict[str, Any] | None = None) -> list[Any]:
        """Run a SELECT; its rows as the driver returns them (tuple-like)."""
        return self._run(conn, params, fetch=True)[0]

    def execute(self, conn: Connection, params: dict[str, Any] | None = None) -> int:
        """Run an UPDATE or DELETE; the number of rows it matched (the driver's rowcount)."""
        return self._run(conn, params, fetch=False)[1]

    def _run(self, conn: Connection, params: dict[str, Any] | None, *, fetch: bool) -> tuple[list[Any], int]:
        """(the rows if ``fetch``, the driver's rowcount)"""
        dialect = conn.dialect
        schemas = conn.get_execution_options().get("schema_translate_map")
        key = (
            dialect.name,
            dialect.driver,
            dialect.paramstyle,
            tuple(sorted(schemas.items(), key=str)) if schemas else (),
        )
        entry = self._compiled.get(key)
        if entry is None:
            entry = self._compiled[key] = self._compile(conn, schemas)
        sql, order, libpq = entry
        args: Any = tuple((params or {})[name] for name in order) if order is not None else (params or {})
        raw = conn.connection
        if libpq is not None:
            try:
                return libpq.run(cast("psycopg.Connection[Any]", raw.driver_connection), args, fetch=fetch)
            except dialect.loaded_dbapi.Error as exc:
                raise self._wrapped(conn, sql, args, exc, None) from exc
        cursor = raw.cursor()
        try:
            cursor.execute(sql, args)
            rows = list(cursor.fetchall()) if fetch else []
            return rows, int(cursor.rowcount)
        except dialect.loaded_dbapi.Error as exc:
            raise self._wrapped(conn, sql, args, exc, cursor) from exc
        finally:
            cursor.close()

    @staticmethod
    def _wrapped(conn: Connection, sql: str, args: Any, exc: Any, cursor: Any) -> StatementError:
        """The driver's error as SQLAlchemy wraps it; a lost connection is invalidated first."""
        dialect = conn.dialect
        invalidated = dialect.is_disconnect(exc, conn.connection, cursor)
        if invalidated:
            conn.invalidate(exc)
        wrapped: StatementError = DBAPIError.instance(
            sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=invalidated
        )
        return wrapped

    def _compile(self, conn: Connection, schemas: dict[Any, Any] | None) -> _Compiled:
        if schemas:
            compiled = self._statement.compile(
                dialect=conn.dialect, schema_translate_map=schemas, render_schema_translate=True
            )
        else:
            compiled = self._statement.compile(dialect=conn.dialect)
        order = compiled.positiontup  # the parameter order for positional paramstyles
        sql = str(compiled)
        libpq = LibpqStatement(sql) if conn.dialect.driver == "psycopg" else None
        return sql, (tuple(order) if order is not None else None), libpq
