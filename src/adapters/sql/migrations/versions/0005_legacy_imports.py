"""Provenance of rows imported from the Django original: (kind, legacy id) -> our id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from typing import TypedDict

import sqlalchemy as sa
from alembic import op


class TableOptions(TypedDict):
    """Dialect options for create_table (typed: so mypy cannot take them for its own keywords)."""

    mysql_charset: str
    mariadb_charset: str


UTF8MB4: TableOptions = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legacy_imports",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("legacy_id", sa.String(64), nullable=False),
        sa.Column("our_id", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "legacy_id", name="pk_legacy_imports"),
        **UTF8MB4,
    )


def downgrade() -> None:
    op.drop_table("legacy_imports")
