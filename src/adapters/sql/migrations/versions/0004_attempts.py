"""Throttled attempts: failed logins and registrations, by a digest of kind and key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from typing import TypedDict

import sqlalchemy as sa
from alembic import op


class TableOptions(TypedDict):
    """Dialect options for create_table (typed: so mypy cannot take them for its own keywords)."""

    mysql_charset: str
    mariadb_charset: str


UTF8MB4: TableOptions = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
        **UTF8MB4,
    )
    op.create_index("ix_attempts_key_at", "attempts", ["key", "at"])


def downgrade() -> None:
    op.drop_table("attempts")
