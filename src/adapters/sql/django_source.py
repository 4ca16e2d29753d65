"""Reads the Django original's database (any SQLAlchemy URL): the LegacySource port.

Only SELECTs, page by page in primary-key order (keyset pagination: no cursor is held
open for the whole run). The schema is checked before anything is read, so a database
that is not the original's is refused with one message naming everything missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Inspector, create_engine, func, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import column, table
from sqlalchemy.sql.expression import ColumnClause, TableClause

from movierater_core.ports_legacy import LegacyMovie, LegacyRating, LegacyToken, LegacyUser

PAGE = 1000


class SourceError(Exception):
    """The source cannot be used; the message says why, for a person."""


class SourceUnreachable(SourceError):
    pass


class NotADjangoDatabase(SourceError):
    pass


def _columns(app: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """kind -> table name -> the columns read, the primary key first."""
    return {
        "users": {
            "auth_user": (
                "id",
                "username",
                "password",
                "date_joined",
                "is_staff",
                "is_superuser",
                "is_active",
            )
        },
        "movies": {f"{app}_movie": ("id", "title", "description", "imagePath")},
        "ratings": {f"{app}_rating": ("id", "user_id", "movie_id", "stars")},
        "tokens": {"authtoken_token": ("key", "user_id", "created")},
    }


class DjangoSource:
    """``schema``: where the tables are (the original used ``movie_rater_api`` on Azure
    SQL); ``app``: the Django app label that prefixes the movie and rating tables."""

    def __init__(self, url: str, *, schema: str | None = None, app: str = "api", page: int = PAGE) -> None:
        self._url = _parse(url)
        self.description = self._url.render_as_string(hide_password=True)
        self._schema = schema
        self._app = app
        self._page = page
        self._engine = _engine(self._url)
        self._tables: dict[str, TableClause] = {}
        try:
            self._check_schema()
        except SQLAlchemyError as exc:
            self.close()
            raise SourceUnreachable(f"cannot read {self.description}: {_first_line(exc)}") from exc
        except SourceError:
            self.close()
            raise

    def close(self) -> None:
        self._engine.dispose()

    # ---- LegacySource --------------------------------------------------------------------

    def count(self, kind: str) -> int:
        with self._reading() as conn:
            return int(conn.scalar(select(func.count()).select_from(self._tables[kind])) or 0)

    def users(self) -> Iterator[LegacyUser]:
        for pk, username, password, joined, is_staff, is_superuser, is_active in self._rows("users"):
            yield LegacyUser(
                legacy_id=str(pk),
                username=username,
                password_hash=password or "!",  # Django reads an empty hash as unusable too
                date_joined=_aware(joined),
                is_admin=bool(is_staff) or bool(is_superuser),
                is_active=bool(is_active),
            )

    def movies(self) -> Iterator[LegacyMovie]:
        for pk, title, description, image_path in self._rows("movies"):
            yield LegacyMovie(str(pk), title, description, image_path)

    def ratings(self) -> Iterator[LegacyRating]:
        for pk, user_id, movie_id, stars in self._rows("ratings"):
            yield LegacyRating(str(pk), str(user_id), str(movie_id), stars)

    def tokens(self) -> Iterator[LegacyToken]:
        for key, user_id, created in self._rows("tokens"):
            yield LegacyToken(str(key), str(user_id), _aware(created))

    # ---- internals -----------------------------------------------------------------------

    def _check_schema(self) -> None:
        wanted = _columns(self._app)
        with self._reading() as conn:
            inspector = inspect(conn)
            present = set(inspector.get_table_names(schema=self._schema))
            missing: list[str] = []
            for kind, tables in wanted.items():
                ((name, needed),) = tables.items()
                if name not in present:
                    missing.append(f"table {self._qualified(name)}")
                    continue
                have = {c["name"] for c in inspector.get_columns(name, schema=self._schema)}
                missing += [f"column {self._qualified(name)}.{c}" for c in needed if c not in have]
                self._tables[kind] = table(name, *(column(c) for c in needed), schema=self._schema)
            if missing:
                raise NotADjangoDatabase(self._refusal(missing, present, inspector))

    def _refusal(self, missing: Sequence[str], present: set[str], inspector: Inspector) -> str:
        hints = []
        apps = sorted(name[: -len("_movie")] for name in present if name.endswith("_movie"))
        if apps and f"{self._app}_movie" not in present:
            hints.append("movie tables found for " + ", ".join(f"--app {a}" for a in apps))
        if "auth_user" not in present:
            try:
                schemas = [s for s in inspector.get_schema_names() if s != self._schema]
                found = [s for s in schemas if "auth_user" in inspector.get_table_names(schema=s)]
            except (SQLAlchemyError, NotImplementedError):
                found = []
            if found:
                hints.append("auth_user found in " + ", ".join(f"--schema {s}" for s in found))
        where = f" (schema {self._schema})" if self._schema else ""
        return (
            f"{self.description}{where} does not look like the Django original's database: "
            f"missing {', '.join(missing)}. "
            + (f"Hint: {'; '.join(hints)}. " if hints else "")
            + "Use --schema NAME if its tables are in a schema, "
            f"--app LABEL if its Django app was not called {self._app!r}."
        )

    def _qualified(self, name: str) -> str:
        return f"{self._schema}.{name}" if self._schema else name

    def _rows(self, kind: str) -> Iterator[Sequence[Any]]:
        source = self._tables[kind]
        key: ColumnClause[Any] = list(source.c)[0]  # the primary key, by construction
        last: Any = None
        while True:
            query = select(*source.c).order_by(key).limit(self._page)
            if last is not None:
                query = query.where(key > last)
            with self._reading() as conn:
                try:
                    rows = conn.execute(query).all()
                except SQLAlchemyError as exc:
                    raise SourceUnreachable(f"reading {self.description}: {_first_line(exc)}") from exc
            yield from rows
            if len(rows) < self._page:
                return
            last = rows[-1][0]

    def _reading(self) -> Connection:
        try:
            return self._engine.connect()
        except SQLAlchemyError as exc:
            raise SourceUnreachable(f"cannot connect to {self.description}: {_first_line(exc)}") from exc


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SourceUnreachable(f"{url!r} is not a database URL (e.g. sqlite:///db.sqlite3)") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            # SQLite would create an empty database there, and the import would find nothing.
            raise SourceUnreachable(f"no SQLite database file at {path or '(no path)'!r}")
    return parsed


def _engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend in ("postgresql", "mysql", "mariadb"):
        connect_args["connect_timeout"] = 10
    elif url.get_driver_name() == "pyodbc":
        connect_args["timeout"] = 10
    try:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise SourceUnreachable(f"no database driver for {url.drivername!r}: {exc}") from None


def _aware(value: object) -> datetime:
    """Django with USE_TZ stores UTC (SQLite: as text, without an offset)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise SourceError(f"not a date and time: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
