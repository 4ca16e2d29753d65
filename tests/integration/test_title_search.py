"""The title search's index (migration 0011), on each backend: through the API, a movie
added, renamed by PUT or PATCH, or deleted is found or not found at once; on SQLite the
trigram table holds exactly the movies' titles afterwards (its triggers), and a search reads
it; on PostgreSQL pg_trgm's index serves the search, and a role that may not create the
extension migrates without it; the migration fills the index for movies already there and
goes down and up again."""

from __future__ import annotations

import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from movierater_adapters.sql import make_engine
from movierater_adapters.sql.migrate import upgrade
from movierater_adapters.sql.repositories import fts_phrase, like_pattern
from movierater_adapters.sql.tables import movies
from sqlalchemy import column, create_engine, insert, inspect, table, text
from sqlalchemy.engine import make_url

from tests.integration.backends import PG_SERVER, fresh_database, selected_backends
from tests.integration.conftest import Client, run_cli

TRGM_INDEX = "ix_movies_title_trgm"

# The movies table as revision 0010 left it (0012 added the histogram's columns).
MOVIES_AT_0010 = table(
    "movies", column("title"), column("description"), column("rating_count"), column("rating_sum")
)


def _titles(client: Client, search: str) -> list[str]:
    resp = client.get("/api/movies/", params={"search": search, "limit": 50})
    assert resp.status_code == 200, resp.text
    assert resp.headers["X-Total-Count"] == str(len(resp.json()["results"]))
    return [m["title"] for m in resp.json()["results"]]


def _index_in_step(engine: Any, backend: str) -> None:
    if backend != "sqlite":
        return
    with engine.connect() as conn:
        indexed = conn.execute(text("SELECT rowid, title FROM movie_titles ORDER BY rowid")).all()
        stored = conn.execute(text("SELECT id, title FROM movies ORDER BY id")).all()
    assert indexed == stored


def test_added_renamed_and_deleted_movies_are_found_as_they_are_now(
    admin: Client, engine: Any, backend: str
) -> None:
    made = [
        admin.post("/api/movies/", json={"title": title, "description": "d"}).json()
        for title in ("Nostromo crew", "Sulaco 100%", "Weyland memo", "Prometheus")
    ]
    nostromo, sulaco, weyland, prometheus = (m["id"] for m in made)
    assert _titles(admin, "NOSTROMO") == ["Nostromo crew"]
    assert _titles(admin, "o 100%") == ["Sulaco 100%"]

    put = admin.put(f"/api/movies/{nostromo}/", json={"title": "Narcissus shuttle", "description": "d"})
    assert put.status_code == 200, put.text
    patch = admin.patch(f"/api/movies/{sulaco}/", json={"title": "Auriga 50%"})
    assert patch.status_code == 200, patch.text
    described = admin.patch(f"/api/movies/{weyland}/", json={"description": "not the title"})
    assert described.status_code == 200, described.text
    assert admin.delete(f"/api/movies/{prometheus}/").status_code == 204

    assert _titles(admin, "nostromo") == [] and _titles(admin, "narcissus") == ["Narcissus shuttle"]
    assert _titles(admin, "100%") == [] and _titles(admin, "a 50%") == ["Auriga 50%"]
    assert _titles(admin, "weyland") == ["Weyland memo"]
    assert _titles(admin, "prometheus") == []
    assert _titles(admin, "s") == ["Narcissus shuttle"]  # one character: the scan, same answers
    _index_in_step(engine, backend)


def test_a_search_reads_the_index_where_there_is_one(engine: Any, backend: str) -> None:
    """SQLite: the page's candidates come from the trigram table, the movies by their id.
    PostgreSQL: the planner uses the trigram index for the list's own predicate over 5,000
    movies. MariaDB: none."""
    with engine.connect() as conn:
        names = {index["name"] for index in inspect(conn).get_indexes("movies")}
        if backend == "mariadb":
            assert TRGM_INDEX not in names
            return
        if backend == "sqlite":
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM movies WHERE id IN (SELECT rowid FROM movie_titles"
                    " WHERE movie_titles.title MATCH :q) AND title LIKE :p ESCAPE '/' ORDER BY title, id"
                ),
                {"q": fts_phrase("4821"), "p": like_pattern("4821", "sqlite")},
            ).all()
            details = [row[3] for row in plan]
            assert any("movie_titles VIRTUAL TABLE" in d for d in details), details
            assert any("INTEGER PRIMARY KEY" in d for d in details), details
            return
        assert TRGM_INDEX in names
        # A catalogue worth an index, in a transaction rolled back afterwards.
        rows = [
            {"title": f"Movie {n}", "description": "", "rating_count": 0, "rating_sum": 0}
            for n in range(5000)
        ]
        conn.execute(insert(movies), rows)
        # what autovacuum does on a live server: GIN's pending entries into the index
        conn.execute(text(f"SELECT gin_clean_pending_list('{TRGM_INDEX}')"))
        conn.execute(text("ANALYZE movies"))
        plan = conn.execute(
            text("EXPLAIN SELECT id FROM movies WHERE lower(title) LIKE lower(:p) ESCAPE '/'"),
            {"p": like_pattern("4821", "postgresql")},
        ).all()
        conn.rollback()
    assert TRGM_INDEX in " ".join(row[0] for row in plan)


def _downgrade(engine: Any, revision: str) -> None:
    """Alembic's downgrade on the project's migrations (the CLI has none: operators go up)."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("movierater_adapters.sql") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _search_objects(engine: Any, backend: str) -> set[str]:
    with engine.connect() as conn:
        if backend == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'movie_titles%'"))
            return {row[0] for row in rows}
        return {index["name"] for index in inspect(conn).get_indexes("movies")} & {TRGM_INDEX}


@pytest.mark.parametrize("kind", [b for b in selected_backends() if b != "mariadb"])
def test_the_migration_indexes_the_movies_already_there_and_goes_down_and_up(
    kind: str, tmp_path: Path
) -> None:
    backend = kind
    with fresh_database(backend, tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0010")
            with engine.begin() as conn:
                rows = [
                    {"title": t, "description": "", "rating_count": 0, "rating_sum": 0}
                    for t in ("Alien", "ALIENS")
                ]
                conn.execute(insert(MOVIES_AT_0010), rows)  # today's table has later columns
            upgrade(engine)
            with engine.connect() as conn:
                found = conn.execute(
                    text(
                        "SELECT rowid, title FROM movie_titles WHERE title MATCH :q ORDER BY rowid"
                        if backend == "sqlite"
                        else "SELECT id, title FROM movies WHERE lower(title) LIKE '%alien%' ORDER BY id"
                    ),
                    {"q": fts_phrase("alien")},
                ).all()
            assert [tuple(row) for row in found] == [(1, "Alien"), (2, "ALIENS")]
            made = _search_objects(engine, backend)
            assert made, backend
            _downgrade(engine, "0010")
            assert _search_objects(engine, backend) == set()
            upgrade(engine)
            assert _search_objects(engine, backend) == made
        finally:
            engine.dispose()


def test_a_role_that_may_not_create_pg_trgm_migrates_without_the_index(tmp_path: Path) -> None:
    """PostgreSQL 13+ lets a role with CREATE on the database create pg_trgm (a trusted
    extension); one without it gets a warning, no index, and the same search by scan."""
    if "postgresql" not in selected_backends():
        pytest.skip("postgresql not among MOVIERATER_TEST_BACKENDS")
    role = f"movierater_plain_{uuid.uuid4().hex[:8]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        with fresh_database("postgresql", tmp_path) as url:
            _migrate_as_a_plain_role(url, role)
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        server.dispose()


def _migrate_as_a_plain_role(url: str, role: str) -> None:
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:  # tables in public, nothing on the database itself
        conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}"))
    plain_url = make_url(url).set(username=role).render_as_string(hide_password=False)
    engine = create_engine(plain_url)
    try:
        migrated = run_cli("migrate", env={"MOVIERATER_DATABASE_URL": plain_url})
        assert "could not create the pg_trgm extension (permission denied" in migrated.stderr
        assert "(head)" in migrated.stdout
        assert _search_objects(engine, "postgresql") == set()
        with engine.begin() as conn:
            conn.execute(
                insert(movies), [{"title": "Alien", "description": "", "rating_count": 0, "rating_sum": 0}]
            )
            found = conn.execute(
                text("SELECT title FROM movies WHERE lower(title) LIKE lower(:p) ESCAPE '/'"),
                {"p": like_pattern("LIEN", "postgresql")},
            ).all()
        assert [row[0] for row in found] == ["Alien"]
    finally:
        engine.dispose()
        with owner.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
        owner.dispose()
