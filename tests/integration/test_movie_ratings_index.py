"""A page of one movie's ratings (``GET /api/ratings/?movie=``) is a seek along the index
on (movie_id, id) (migration 0013), on each backend: past a cursor it reads the page's rows
and no others, however many ratings of other movies follow the movie's, and sorts nothing;
by offset, on PostgreSQL, it reads the movie's rows up to the page's end and no others.
Before, PostgreSQL read the primary key past the cursor and filtered it by movie: the last
page of a movie read every later rating in the table. The migration goes down and up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from movierater_adapters.sql import make_engine
from movierater_adapters.sql.libpq import LibpqStatement
from movierater_adapters.sql.migrate import upgrade
from movierater_adapters.sql.repositories import rating_page_statement
from movierater_adapters.sql.tables import movies, ratings, users
from sqlalchemy import Connection, insert, inspect, select

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.conftest import wipe
from tests.integration.test_title_search import _downgrade

NEW_INDEX = "ix_ratings_movie_id_id"
OLD_INDEX = "ix_ratings_movie_id"
# FEW ratings of one movie come first; MANY ratings of another movie follow them.
FEW, MANY = 300, 3000
PAGE = 50


@pytest.fixture
def rated(engine: Any, backend: str) -> Iterator[dict[str, int]]:
    """FEW ratings of one movie, then MANY of another (committed: MariaDB's ANALYZE TABLE
    commits); the tables emptied afterwards."""
    wipe(engine)
    try:
        with engine.begin() as conn:
            joined = datetime(2026, 12, 4, tzinfo=UTC)
            conn.execute(
                insert(users),
                [
                    {"username": f"rater{n}", "password_hash": "!", "is_admin": False, "date_joined": joined}
                    for n in range(MANY)
                ],
            )
            user_ids = conn.execute(select(users.c.id).order_by(users.c.id)).scalars().all()
            titles = ("Few", "Many")
            conn.execute(
                insert(movies),
                [{"title": t, "description": "", "rating_count": 0, "rating_sum": 0} for t in titles],
            )
            few, many = conn.execute(select(movies.c.id).order_by(movies.c.id)).scalars().all()
            for movie_id, raters in ((few, user_ids[:FEW]), (many, user_ids)):
                conn.execute(
                    insert(ratings), [{"user_id": u, "movie_id": movie_id, "stars": 3} for u in raters]
                )
            last_few = conn.execute(
                select(ratings.c.id).where(ratings.c.movie_id == few).order_by(ratings.c.id.desc()).limit(1)
            ).scalar_one()
        with engine.begin() as conn:
            _analyze(conn, backend)
        # The movie's last page: its last 10 ratings, past the cursor.
        yield {"movie_id": few, "after": last_few - 10}
    finally:
        wipe(engine)


def _analyze(conn: Connection, backend: str) -> None:
    """Fresh statistics, as a live server keeps them (this one's autovacuum may be off)."""
    if backend == "mariadb":
        conn.exec_driver_sql("ANALYZE TABLE ratings").all()  # answers with a result set
    else:
        conn.exec_driver_sql("ANALYZE ratings" if backend == "postgresql" else "ANALYZE")


def _page_statement(conn: Connection, *, seek: bool) -> Any:
    """The app's own statement for a movie's page, compiled for ``conn``."""
    dialect = conn.dialect.name
    statement = rating_page_statement(dialect, by_movie=True, by_user=False, since=False, seek=seek)
    return statement._statement.compile(dialect=conn.dialect)


@pytest.mark.parametrize("by", ["cursor", "offset"])
def test_a_movies_last_page_reads_only_its_rows_along_the_index(
    engine: Any, backend: str, rated: dict[str, int], by: str
) -> None:
    """Past a cursor: the page's 10 rows, in the index's order. By offset: the movie's rows
    up to the page's end (offset paging skips what it passes), none of the other movie's."""
    seek = by == "cursor"
    params = {
        "movie_id": rated["movie_id"],
        "after": rated["after"] if seek else 0,
        "limit": PAGE + 1,
        "offset": 0 if seek else FEW - 10,
    }
    with engine.connect() as conn:
        compiled = _page_statement(conn, seek=seek)
        if backend == "postgresql":
            for plan in _postgresql_plans(conn, str(compiled), params):
                _assert_postgresql_reads(plan, 10 if seek else FEW, sorted_by_index=seek)
            return
        args = tuple(params[name] for name in compiled.positiontup or ())
        if backend == "sqlite":
            details = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args)]
            seeks = f"USING INDEX {NEW_INDEX} " + ("(movie_id=? AND" if seek else "(movie_id=?)")
            assert any(seeks in d for d in details), details
            assert not any("TEMP B-TREE" in d for d in details), details  # no sort
            return
        (row,) = conn.exec_driver_sql("EXPLAIN " + str(compiled), args).mappings().all()
    assert row["key"] == NEW_INDEX, dict(row)
    assert "filesort" not in (row["Extra"] or ""), dict(row)


def _postgresql_plans(conn: Connection, sql: str, params: dict[str, int]) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE of the statement prepared as the app prepares it (libpq.py), once
    planned for these values and once with the generic plan a prepared statement may take."""
    prepared = LibpqStatement(sql)
    values = ", ".join(str(params[name]) for name in prepared._order)
    conn.exec_driver_sql(f"PREPARE movie_page AS {prepared._sql.decode()}")
    plans = []
    for mode in ("force_custom_plan", "force_generic_plan"):
        conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
        (text,) = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE movie_page({values})").one()
        plans.append((json.loads(text) if isinstance(text, str) else text)[0]["Plan"])
    conn.exec_driver_sql("DEALLOCATE movie_page")
    conn.exec_driver_sql("RESET plan_cache_mode")
    return plans


def _assert_postgresql_reads(plan: dict[str, Any], rows: int, *, sorted_by_index: bool) -> None:
    """Along the new index, ``rows`` index entries read and none filtered out; in its order
    (no sort) if ``sorted_by_index``."""
    nodes = list(_nodes(plan))
    summary = [(node["Node Type"], node.get("Index Name"), node.get("Actual Rows")) for node in nodes]
    scans = [node for node in nodes if node.get("Index Name") == NEW_INDEX]
    assert scans, summary
    if sorted_by_index:
        assert not [node for node in nodes if node["Node Type"] == "Sort"], summary
    assert sum(node.get("Rows Removed by Filter", 0) for node in nodes) == 0, summary
    assert scans[0]["Actual Rows"] == rows, summary


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.mark.parametrize("kind", selected_backends())
def test_the_migration_replaces_the_index_and_goes_down_and_up(kind: str, tmp_path: Path) -> None:
    with fresh_database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0012")
            assert _rating_indexes(engine) >= {OLD_INDEX}
            upgrade(engine)
            assert NEW_INDEX in _rating_indexes(engine) and OLD_INDEX not in _rating_indexes(engine)
            _downgrade(engine, "0012")
            assert OLD_INDEX in _rating_indexes(engine) and NEW_INDEX not in _rating_indexes(engine)
            upgrade(engine)
            assert NEW_INDEX in _rating_indexes(engine) and OLD_INDEX not in _rating_indexes(engine)
        finally:
            engine.dispose()


def _rating_indexes(engine: Any) -> set[str]:
    with engine.connect() as conn:
        return {index["name"] for index in inspect(conn).get_indexes("ratings")}
