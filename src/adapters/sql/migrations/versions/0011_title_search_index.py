"""An index for ``?search=`` (a case-insensitive substring of the title), where the database
has one that serves ``LIKE '%text%'``:

- **SQLite**: an FTS5 table of the titles with the ``trigram`` tokenizer (``movie_titles``,
  rowid = the movie's id), kept in step with ``movies`` by three triggers (a movie added, its
  title or id changed, a movie deleted) and filled here from the movies already there. The
  list asks it for the candidates of a term of 3 characters or more and checks each with
  the same ``LIKE`` as before, so the answers are exactly the scan's (``repositories.py``).
  A batch migration that rebuilds ``movies`` drops its triggers: it must create them again
  (``create_sqlite_triggers``); tests/integration/test_title_search.py would catch it.
- **PostgreSQL**: a GIN index on ``lower(title)`` with pg_trgm's ``gin_trgm_ops``, which
  serves the list's ``lower(title) LIKE lower(:pattern)`` as it is. It needs the pg_trgm
  extension: created here if the role may (trusted since PostgreSQL 13: ``CREATE`` on the
  database is enough); where it may not, the migration goes on without the index (one
  warning line) and the search scans as before. An operator can add it later (README,
  "Lists"); downgrading drops the index and leaves the extension (other things may use it).
- **MariaDB and SQL Server**: no index serves a substring; the search scans the titles.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import logging

from alembic import context, op
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("movierater.migrations")

FTS_TABLE = "movie_titles"
TRIGGERS = {
    "movie_titles_added": "AFTER INSERT ON movies BEGIN {add} END",
    "movie_titles_changed": "AFTER UPDATE OF id, title ON movies BEGIN {remove} {add} END",
    "movie_titles_removed": "AFTER DELETE ON movies BEGIN {remove} END",
}
ADD = "INSERT INTO movie_titles (rowid, title) VALUES (new.id, new.title);"
REMOVE = "DELETE FROM movie_titles WHERE rowid = old.id;"
TRGM_INDEX = "ix_movies_title_trgm"


def create_sqlite_triggers() -> None:
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body.format(add=ADD, remove=REMOVE)}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # The titles' own copy (not an external-content table): a row is removed by its
        # rowid alone, so the index cannot drift from a title it was not told about.
        op.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, tokenize = 'trigram')")
        op.execute(f"INSERT INTO {FTS_TABLE} (rowid, title) SELECT id, title FROM movies")
        create_sqlite_triggers()
    elif dialect == "postgresql":
        if context.is_offline_mode():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            _create_trgm_index()
        elif _has_pg_trgm():
            _create_trgm_index()


def _has_pg_trgm() -> bool:
    """pg_trgm is there, or this role could create it; else a warning and no index."""
    conn = op.get_bind()
    if conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return True
    try:
        with conn.begin_nested():  # a refusal aborts only the savepoint, not the migration
            conn.execute(text("CREATE EXTENSION pg_trgm"))
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        log.warning(
            "movierater: no trigram index for ?search= (the search scans the titles): "
            "could not create the pg_trgm extension (%s). README, 'Lists', says how to add it.",
            reason,
        )
        return False
    return True


def _create_trgm_index() -> None:
    op.create_index(TRGM_INDEX, "movies", [text("lower(title) gin_trgm_ops")], postgresql_using="gin")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute(f"DROP TABLE {FTS_TABLE}")
    elif dialect == "postgresql":
        op.drop_index(TRGM_INDEX, table_name="movies", if_exists=True)
