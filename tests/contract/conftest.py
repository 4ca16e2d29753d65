"""The port contract suite's databases: the in-memory fake, and ``SqlDatabase`` on every
selected backend (``MOVIERATER_TEST_BACKENDS``; with ``MOVIERATER_REQUIRE_BACKENDS=1`` a
missing one fails), each a fresh database migrated by the project's own ``upgrade``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.sql.migrate import upgrade
from movierater_adapters.sql.tables import metadata
from sqlalchemy import delete

from movierater_core.ports import Database
from tests.integration.backends import fresh_database, selected_backends
from tests.unit.fakes import InMemoryDatabase

FAKE = "fake"


@pytest.fixture(scope="session", params=[FAKE, *selected_backends()])
def sql_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlDatabase | None]:
    """One migrated database per backend for the whole run (None for the fake)."""
    backend = str(request.param)
    if backend == FAKE:
        yield None
        return
    with fresh_database(backend, tmp_path_factory.mktemp(f"contract-{backend}")) as url:
        engine = make_engine(url)
        upgrade(engine)
        db = SqlDatabase(engine)
        yield db
        db.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``two_transactions`` show what one transaction sees while another holds
    its locks; the fake runs one transaction at a time, so they run on the SQL backends
    only (left out for the fake, not skipped)."""
    fake_only = [
        item
        for item in items
        if item.get_closest_marker("two_transactions")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("sql_database") == FAKE  # type: ignore[attr-defined]
    ]
    if fake_only:
        config.hook.pytest_deselected(items=fake_only)
        items[:] = [item for item in items if item not in fake_only]


@pytest.fixture
def db(sql_database: SqlDatabase | None) -> Database:
    """An empty database of the kind under test."""
    if sql_database is None:
        return InMemoryDatabase()
    with sql_database.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(delete(table))
    return sql_database
