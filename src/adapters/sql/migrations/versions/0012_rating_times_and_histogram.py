"""Rating times and each movie's histogram (issue 17 items 3 and 4).

Ratings: when each was made (``created``) and its stars last changed (``changed``), as
microseconds since the epoch (UTC), with an index on (changed, id) for the ratings list's
``?since=``. Existing rows keep NULL: ratings imported from the Django original (and any
made before this migration) have no known times.

Movies: ``star_1`` .. ``star_5``, how many of the movie's ratings have that many stars,
counted here from the existing ratings (one UPDATE with a correlated count per column), and
from then on moved by the same statements that move the count and the sum.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHANGED_INDEX = "ix_ratings_changed_id"


def _schema() -> str | None:
    # ALTER TABLE is rendered from names, which the engine's schema translation does not
    # reach: name the configured schema (env.py passes it as the version table's).
    return op.get_context().opts.get("version_table_schema")


STARS = range(1, 6)


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=_schema()) as batch:
        batch.add_column(sa.Column("created", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("changed", sa.BigInteger, nullable=True))
    op.create_index(CHANGED_INDEX, "ratings", ["changed", "id"])
    with op.batch_alter_table("movies", schema=_schema()) as batch:
        for n in STARS:
            batch.add_column(sa.Column(f"star_{n}", sa.Integer, nullable=False, server_default="0"))
    # The histogram of the ratings there are (in the configured schema, named: see _schema).
    movies = sa.table("movies", sa.column("id"), *(sa.column(f"star_{n}") for n in STARS), schema=_schema())
    ratings = sa.table("ratings", sa.column("movie_id"), sa.column("stars"), schema=_schema())
    counts = {
        f"star_{n}": sa.select(sa.func.count())
        .where(ratings.c.movie_id == movies.c.id, ratings.c.stars == n)
        .scalar_subquery()
        for n in STARS
    }
    op.execute(sa.update(movies).values(counts))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place everywhere (SQLite 3.35 and later): a batch
    # rebuild of movies on SQLite would drop 0011's search triggers and 0010's index.
    for n in STARS:
        op.drop_column("movies", f"star_{n}", schema=_schema())
    op.drop_index(CHANGED_INDEX, table_name="ratings", schema=_schema())
    op.drop_column("ratings", "changed", schema=_schema())
    op.drop_column("ratings", "created", schema=_schema())
