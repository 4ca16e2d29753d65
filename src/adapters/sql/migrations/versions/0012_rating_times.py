"""Rating times: when each rating was made (``created``) and its stars last changed
(``changed``), as microseconds since the epoch (UTC), with an index on (changed, id) for
the ratings list's ``?since=``. Existing rows keep NULL: ratings imported from the Django
original (and any made before this migration) have no known times.

Revision ID: 0012
Revises: 0010 (0011 is another branch's; the chain is fixed when they meet)
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

CHANGED_INDEX = "ix_ratings_changed_id"


def _schema() -> str | None:
    # ALTER TABLE is rendered from names, which the engine's schema translation does not
    # reach: name the configured schema (env.py passes it as the version table's).
    return op.get_context().opts.get("version_table_schema")


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=_schema()) as batch:
        batch.add_column(sa.Column("created", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("changed", sa.BigInteger, nullable=True))
    op.create_index(CHANGED_INDEX, "ratings", ["changed", "id"])


def downgrade() -> None:
    op.drop_index(CHANGED_INDEX, table_name="ratings")
    # SQLite rebuilds the table to drop a column: keep its ids never reused (0008).
    with op.batch_alter_table(
        "ratings", schema=_schema(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("changed")
        batch.drop_column("created")
