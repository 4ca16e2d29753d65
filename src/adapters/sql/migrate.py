"""Schema migrations with Alembic, driven from code (no alembic.ini to find)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TextIO, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("movierater_adapters.sql") / "migrations"))
    return config


def _schema(engine: Engine) -> str | None:
    """The schema that ``make_engine(schema=...)`` maps the tables into, if any."""
    mapping = engine.get_execution_options().get("schema_translate_map") or {}
    return mapping.get(None)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; running it again is a no-op."""
    config = _config()
    with engine.connect() as conn, _sqlite_foreign_keys_off(conn):
        with conn.begin():
            config.attributes["connection"] = conn
            config.attributes["schema"] = _schema(engine)
            command.upgrade(config, revision)
            _check_foreign_keys(conn)


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite rebuilds a table to change it (batch migrations): with foreign keys on,
    dropping the old table would delete or orphan the rows that refer to it. The pragma
    is ignored inside a transaction, so it is set before one, on the driver's connection."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = cast("sqlite3.Connection", conn.connection.driver_connection)
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    """Before committing: every reference still resolves (what the pragma was off for)."""
    if conn.dialect.name == "sqlite":
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left rows referring to missing rows: {broken[:5]}")


def render_sql(url: str, output: TextIO) -> None:
    """Write the SQL of every migration, for the dialect of ``url``, without connecting."""
    config = _config()
    config.output_buffer = output
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head", sql=True)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table_schema": _schema(engine)})
        return context.get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
