"""SQLite never gives a deleted user's, movie's or rating's id again (AUTOINCREMENT), as
the Django original never did: without it SQLite takes max(id) + 1, so deleting the
newest user handed their id to the next one. Other databases never reuse ids: no-op there.

SQLite cannot add AUTOINCREMENT to a table: each is rebuilt (Alembic's batch mode), with
its rows, ids, constraints and indexes (movierater_adapters.sql.migrate turns foreign keys off for
the rebuild and checks them before committing). An id deleted before this migration,
above the highest id left, may still be given once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("users", "movies", "ratings")  # the ids the API shows


def _rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for name in TABLES:
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
