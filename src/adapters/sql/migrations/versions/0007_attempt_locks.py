"""A lock row per attempt key, so that counting an attempt and adding it is atomic.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from typing import TypedDict

import sqlalchemy as sa
from alembic import op


class TableOptions(TypedDict):
    """Dialect options for create_table (typed: so mypy cannot take them for its own keywords)."""

    mysql_charset: str
    mariadb_charset: str


UTF8MB4: TableOptions = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt_locks",
        sa.Column("key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_attempt_locks"),
        **UTF8MB4,
    )


def downgrade() -> None:
    op.drop_table("attempt_locks")
