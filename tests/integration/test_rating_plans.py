"""The statements that write a rating on PostgreSQL reach the movie's row by its primary
key, whatever the table held when they were planned.

PostgreSQL keeps one plan per prepared statement and connection, made from the table's
size at the time. Before, each of these found the movie to update only by joining the
written rating's ``movie_id``. The one-statement rating's plan, made on a small table that
had never been analyzed (a fresh database: every run of ``compare.sh``), scanned the whole
table instead: for every rating after, dead row versions and all. Each now also names the
movie's id as a parameter (the other two had index plans; the same shape, the same risk).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from movierater_adapters.sql import make_engine
from movierater_adapters.sql.libpq import LibpqStatement
from movierater_adapters.sql.migrate import upgrade
from movierater_adapters.sql.prepared import Prepared
from movierater_adapters.sql.rating_statement import _RATE_WITH_TOKEN
from movierater_adapters.sql.repositories import _ADD_RATING_AND_SUMMARY, _CHANGE_STARS_AND_SUMMARY
from movierater_adapters.sql.tables import movies
from sqlalchemy import Connection, insert

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.test_movie_ratings_index import _nodes

WRITES = {
    "one statement with its token": _RATE_WITH_TOKEN,
    "a first rating with the summary": _ADD_RATING_AND_SUMMARY,
    "a change of stars with the summary": _CHANGE_STARS_AND_SUMMARY,
}

pytestmark = pytest.mark.skipif(
    "postgresql" not in selected_backends(), reason="PostgreSQL is not among MOVIERATER_TEST_BACKENDS"
)


@pytest.fixture(scope="module")
def small_table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh database with 200 movies (compare.sh's catalogue), never analyzed: the table
    as a plan made just after a deployment or a seed sees it."""
    tmp: Path = tmp_path_factory.mktemp("plans")
    with fresh_database("postgresql", tmp) as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.begin() as conn:
                conn.execute(
                    insert(movies),
                    [
                        {"title": f"Movie {n}", "description": "", "rating_count": 0, "rating_sum": 0}
                        for n in range(200)
                    ],
                )
            yield engine
        finally:
            engine.dispose()


@pytest.mark.parametrize("write", list(WRITES))
def test_the_generic_plan_finds_the_movie_by_its_primary_key(small_table: Any, write: str) -> None:
    with small_table.connect() as conn:
        plan = _generic_plan(conn, WRITES[write])
    scans = [
        (node["Node Type"], node.get("Index Name"))
        for node in _nodes(plan)
        if node.get("Relation Name") == "movies" and node["Node Type"].endswith("Scan")
    ]
    assert scans, plan
    assert all(scan == ("Index Scan", "pk_movies") for scan in scans), scans


def _generic_plan(conn: Connection, statement: Prepared) -> dict[str, Any]:
    """EXPLAIN of the statement prepared as the app prepares it (libpq.py), with the generic
    plan a connection keeps after its first executions (not run: nothing is written)."""
    compiled = statement._statement.compile(dialect=conn.dialect)
    prepared = LibpqStatement(str(compiled))
    nulls = ", ".join("NULL" for _ in prepared._order)
    conn.exec_driver_sql(f"PREPARE rating_write AS {prepared._sql.decode()}")
    try:
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        (text,) = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE rating_write({nulls})").one()
    finally:
        conn.exec_driver_sql("DEALLOCATE rating_write")
        conn.exec_driver_sql("RESET plan_cache_mode")
    parsed: dict[str, Any] = (json.loads(text) if isinstance(text, str) else text)[0]["Plan"]
    return parsed
