"""The migrations build exactly the schema that ``adapters/sql/tables.py`` declares (the
one the code runs against), on every backend: Alembic's autogenerate comparison of the
migrated database with the tables finds nothing to add, drop or alter."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from movierater_adapters.sql.tables import MOVIE_AVERAGE, metadata, movie_titles, movies
from sqlalchemy import inspect, select, text

AVERAGE_INDEX = "ix_movies_average_id"
SEARCH_TABLE = movie_titles.name
TRGM_INDEX = "ix_movies_title_trgm"


def test_a_migrated_database_has_exactly_the_declared_tables(engine: Any, backend: str) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        differences = [d for d in compare_metadata(context, metadata) if not _alembic_own(d)]
    assert differences == [], f"tables.py and the migrations differ on {backend}"


def _alembic_own(difference: Any) -> bool:
    """Alembic's version table is not in tables.py; an index on an expression Alembic
    cannot compare (it reads PostgreSQL's back in another spelling, SQLite's not at all):
    the test below proves that one by the query plan instead. The title search's index
    (migration 0011) is not in tables.py's metadata either: on SQLite an FTS5 virtual table
    and the shadow tables FTS5 makes for it (``movie_titles_data``, ``_idx``, ...), which
    only the migration can create; on PostgreSQL pg_trgm's index, there only where the
    extension could be created. test_title_search.py proves both by their answers and plans."""
    return isinstance(difference, tuple) and (
        (difference[0] == "remove_table" and difference[1].name == "alembic_version")
        or (difference[0] == "remove_table" and difference[1].name.startswith(SEARCH_TABLE))
        or (difference[0] in ("add_index", "remove_index") and difference[1].name == AVERAGE_INDEX)
        or (difference[0] == "remove_index" and difference[1].name == TRGM_INDEX)
    )


def test_a_page_by_average_reads_the_average_index_where_there_is_one(engine: Any, backend: str) -> None:
    """The migration's spelling of the average is the list's: the database uses the index
    for ``?ordering=-ave_ratings`` (SQLite and PostgreSQL; MariaDB has no expression index)."""
    with engine.connect() as conn:
        names = {index["name"] for index in inspect(conn).get_indexes("movies")}
        if backend == "mariadb":
            assert AVERAGE_INDEX not in names
            return
        page = select(movies.c.id).order_by(MOVIE_AVERAGE.desc(), movies.c.id.desc()).limit(50)
        statement = str(page.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if backend == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # a few rows: make the choice visible
        explain = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
        plan = " ".join(str(row) for row in conn.execute(text(explain + statement)))
    assert AVERAGE_INDEX in plan, plan
