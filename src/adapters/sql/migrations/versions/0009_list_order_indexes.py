"""Indexes for the movie list's orders (``?ordering=title``, ``no_of_ratings``, each with
ties by id in the same direction), so a page of them is an index scan, forwards or
backwards, on every backend. ``id`` is the primary
key already; ``ave_ratings`` is the rating sum over the count, both on the movie's row:
ordering by it sorts the movie rows (never the ratings), since an index on an expression
is not portable (MariaDB has none; SQL Server would need a computed column).

A case-insensitive substring search (``?search=``) cannot use a B-tree on any backend; on
PostgreSQL a pg_trgm GIN index could, but creating the extension needs a privilege the
service's role often lacks (and a superuser before PostgreSQL 13): left to the operator
(README, "Lists: paging, search, ordering").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_movies_title_id": ["title", "id"],
    "ix_movies_rating_count_id": ["rating_count", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "movies", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="movies")
