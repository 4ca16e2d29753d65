"""Upload grants (the hourly limit) and verified images (deduplication).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from typing import TypedDict

import sqlalchemy as sa
from alembic import op


class TableOptions(TypedDict):
    """Dialect options for create_table (typed: so mypy cannot take them for its own keywords)."""

    mysql_charset: str
    mariadb_charset: str


# MySQL/MariaDB: full Unicode (emoji included) whatever the server's default charset.
UTF8MB4: TableOptions = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("object_name", sa.String(80), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_upload_grants"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_upload_grants_user_id_users"),
        **UTF8MB4,
    )
    op.create_index("ix_upload_grants_user_id_granted_at", "upload_grants", ["user_id", "granted_at"])
    op.create_table(
        "images",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_images"),
        **UTF8MB4,
    )


def downgrade() -> None:
    op.drop_table("images")
    op.drop_table("upload_grants")
