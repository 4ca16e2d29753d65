"""A movie's ratings by id: the index on ``ratings.movie_id`` becomes one on
(``movie_id``, ``id``), so that a page of one movie's ratings (``GET /api/ratings/?movie=``,
by cursor or offset) is a seek along it on every backend, whatever the table holds.

SQLite's, InnoDB's and SQL Server's index on ``movie_id`` already kept each movie's entries
in id order: the row id, or the clustered primary key, ends every entry. PostgreSQL's did
not. There a movie's page read the primary key past the cursor and dropped the other
movies' rows: the last page of a movie whose ratings were followed by 400,000 others read
those 400,000 (70 ms; a second or more in a table of millions). With this index (and the
page's query on PostgreSQL, repositories.py) it reads only the movie's rows.

The new index is made before the old one goes: on MariaDB the foreign key to movies needs
an index that starts with ``movie_id`` at every moment.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD = "ix_ratings_movie_id"
NEW = "ix_ratings_movie_id_id"


def _schema() -> str | None:
    # DROP INDEX is rendered from names, which the engine's schema translation does not
    # reach: name the configured schema (env.py passes it as the version table's).
    return op.get_context().opts.get("version_table_schema")


def upgrade() -> None:
    op.create_index(NEW, "ratings", ["movie_id", "id"])
    op.drop_index(OLD, table_name="ratings", schema=_schema())


def downgrade() -> None:
    op.create_index(OLD, "ratings", ["movie_id"])
    op.drop_index(NEW, table_name="ratings", schema=_schema())
