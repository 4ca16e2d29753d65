"""Names whose uploaded object the content check refused: spent, never usable again.

Revision ID: 0006
Revises: 0005
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

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rejected_images",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_rejected_images"),
        **UTF8MB4,
    )


def downgrade() -> None:
    op.drop_table("rejected_images")
