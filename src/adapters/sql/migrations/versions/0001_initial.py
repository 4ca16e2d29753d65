"""Users, movies with their rating summary, ratings, login tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from typing import TypedDict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql


class TableOptions(TypedDict):
    """Dialect options for create_table (typed: so mypy cannot take them for its own keywords)."""

    mysql_charset: str
    mariadb_charset: str


# MySQL/MariaDB: full Unicode (emoji included) whatever the server's default charset.
UTF8MB4: TableOptions = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

username_type = sa.Unicode(150).with_variant(
    mysql.VARCHAR(150, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", username_type, nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("date_joined", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        **UTF8MB4,
    )
    op.create_table(
        "movies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.Unicode(150), nullable=False),
        sa.Column("description", sa.Unicode(360), nullable=False),
        sa.Column("image_path", sa.Unicode(200), nullable=True),
        sa.Column("rating_count", sa.Integer, nullable=False),
        sa.Column("rating_sum", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_movies"),
        sa.CheckConstraint(
            "rating_count >= 0 AND rating_sum >= rating_count", name=op.f("ck_movies_summary_sane")
        ),
        **UTF8MB4,
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("movie_id", sa.Integer, nullable=False),
        sa.Column("stars", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ratings"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_ratings_user_id_users"),
        sa.ForeignKeyConstraint(["movie_id"], ["movies.id"], name="fk_ratings_movie_id_movies"),
        sa.UniqueConstraint("user_id", "movie_id", name="uq_ratings_user_id_movie_id"),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_ratings_stars_range")),
        **UTF8MB4,
    )
    op.create_index("ix_ratings_movie_id", "ratings", ["movie_id"])
    op.create_table(
        "tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_tokens_user_id_users"),
        **UTF8MB4,
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("ratings")
    op.drop_table("movies")
    op.drop_table("users")
