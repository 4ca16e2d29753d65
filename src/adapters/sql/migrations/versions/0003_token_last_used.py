"""Tokens record their last use (seconds since the epoch), so they can expire when idle.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _schema() -> str | None:
    # ALTER TABLE is rendered from names, which the engine's schema translation does not
    # reach: name the configured schema (env.py passes it as the version table's).
    return op.get_context().opts.get("version_table_schema")


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=_schema()) as batch:
        batch.add_column(sa.Column("last_used", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=_schema()) as batch:
        batch.drop_column("last_used")
