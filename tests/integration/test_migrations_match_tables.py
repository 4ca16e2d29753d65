"""The migrations build exactly the schema that ``adapters/sql/tables.py`` declares (the
one the code runs against), on every backend: Alembic's autogenerate comparison of the
migrated database with the tables finds nothing to add, drop or alter."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from movierater_adapters.sql.tables import metadata


def test_a_migrated_database_has_exactly_the_declared_tables(engine: Any, backend: str) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = [d for d in compare_metadata(context, metadata) if not _alembic_own(d)]
    assert differences == [], f"tables.py and the migrations differ on {backend}"


def _alembic_own(difference: Any) -> bool:
    """Alembic's version table is not in tables.py."""
    return (
        isinstance(difference, tuple)
        and difference[0] == "remove_table"
        and difference[1].name == "alembic_version"
    )
