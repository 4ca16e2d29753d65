"""The schema, as SQLAlchemy Core tables. Alembic migrations create exactly this.

Portable types only: ``Unicode`` becomes NVARCHAR on SQL Server (VARCHAR elsewhere),
usernames compare case-sensitively on MariaDB (binary collation) as on the others.
"""

from __future__ import annotations

from typing import cast

from movierater_adapters.sql.types import UtcDateTime
from sqlalchemy import (
    VARCHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Unicode,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.sql.ddl import DDLIfCallable

# Stable constraint names, so that migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Generic VARCHAR with a collation, so that workers need not import the MySQL dialect.
_username_type = Unicode(150).with_variant(VARCHAR(150, collation="utf8mb4_bin"), "mysql", "mariadb")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", _username_type, nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("is_admin", Boolean(create_constraint=False), nullable=False, default=False),
    Column("date_joined", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,  # ids never reused (see migration 0008)
)

movies = Table(
    "movies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Unicode(150), nullable=False),
    Column("description", Unicode(360), nullable=False, default=""),
    Column("image_path", Unicode(200), nullable=True),
    # Kept in step with the ratings table inside the rating's own transaction.
    Column("rating_count", Integer, nullable=False, default=0),
    Column("rating_sum", Integer, nullable=False, default=0),
    # The histogram: how many of its ratings have 1..5 stars, moved by the same statements
    # as the count and the sum (migration 0012 counted them for existing ratings).
    *(Column(f"star_{n}", Integer, nullable=False, default=0) for n in range(1, 6)),
    CheckConstraint("rating_count >= 0 AND rating_sum >= rating_count", name="summary_sane"),
    # The list's orders (?ordering=title, no_of_ratings; ties by id either way): see migration 0009.
    Index(None, "title", "id"),
    Index(None, "rating_count", "id"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0008)
)

# A movie's average as RatingSummary.average has it (0 without ratings), in floating point
# on every backend: 1e0 is a double literal on SQLite, MariaDB and SQL Server (MariaDB's
# integer division would round to 4 decimals), an exact numeric on PostgreSQL; either way
# equal averages compare equal and different ones (of fewer than ~10^7 ratings) do not.
# Written as SQL text, the same on every backend (SQLAlchemy would spell the division its
# own way per dialect), because an index on it serves only this very spelling.
AVERAGE_SQL = "CASE WHEN rating_count = 0 THEN 0 ELSE rating_sum * 1e0 / rating_count END"
MOVIE_AVERAGE = literal_column(AVERAGE_SQL, Float)
# ?ordering=ave_ratings (ties by id) as an index scan where the database indexes an
# expression: SQLite and PostgreSQL (migration 0010). MariaDB and SQL Server would need a
# generated column: there the order sorts the movie rows.
Index("ix_movies_average_id", MOVIE_AVERAGE, movies.c.id).ddl_if(
    callable_=cast(
        DDLIfCallable, lambda _ddl, _target, _bind, dialect, **_kw: dialect.name in ("sqlite", "postgresql")
    )
)

# ?search= on SQLite: an FTS5 table of the titles (trigram tokenizer; rowid = the movie's id)
# that triggers keep in step with movies (migration 0011). Declared for the queries only, in
# a MetaData of its own: a virtual table (and FTS5's shadow tables) that only the migration
# can create, on SQLite only. PostgreSQL's counterpart, a pg_trgm GIN index on lower(title),
# is optional (the extension may not be creatable) and the queries need not name it.
search_metadata = MetaData()
movie_titles = Table(
    "movie_titles",
    search_metadata,
    Column("rowid", Integer, primary_key=True),
    Column("title", Unicode(150), nullable=False),
)
# A term of fewer characters has no trigram: the search scans the titles instead.
TRIGRAM = 3


ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("movie_id", Integer, ForeignKey("movies.id"), nullable=False),
    Column("stars", SmallInteger, nullable=False),
    # When it was made and when its stars last changed, in microseconds since the epoch
    # (UTC): an integer reads and compares the same on every driver, raw or not, to the
    # microsecond (MariaDB's DATETIME keeps whole seconds). NULL for ratings imported from
    # the Django original, which kept no such times (migration 0012).
    Column("created", BigInteger, nullable=True),
    Column("changed", BigInteger, nullable=True),
    CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    UniqueConstraint("user_id", "movie_id"),
    Index(None, "movie_id", "id"),  # a movie's ratings, by id (migration 0013)
    Index(None, "changed", "id"),  # ?since= (by changed, then id)
    sqlite_autoincrement=True,  # ids never reused (see migration 0008)
)

tokens = Table(
    "tokens",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 hex of the key, never the key
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Seconds since the epoch (an integer reads the same on every driver, raw or not).
    Column("last_used", BigInteger, nullable=True),
    Index(None, "user_id"),
)

# Upload URLs granted, for the per-user hourly limit (pruned as they age out).
upload_grants = Table(
    "upload_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("object_name", String(80), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Index(None, "user_id", "granted_at"),
)

# Uploaded objects that passed the content check (so a hash can be deduplicated).
images = Table(
    "images",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("verified_at", UtcDateTime, nullable=False),
)

# Names whose object the content check refused: spent, so their upload URLs are too.
rejected_images = Table(
    "rejected_images",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("rejected_at", UtcDateTime, nullable=False),
)

# Throttled attempts (failed logins, registrations) by a digest of kind and key.
attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "key", "at"),
)

# One row per attempt key, locked while an attempt is counted (see SqlAttempts.lock): the
# key's attempts may be none yet, and an absent row cannot be locked on every backend.
attempt_locks = Table(
    "attempt_locks",
    metadata,
    Column("key", String(64), primary_key=True),
)

# Provenance of rows imported from the Django original (``movierater import-django``):
# which legacy row became which of ours, and a fingerprint of its values at the time, so
# that a second run neither duplicates nor resurrects, and reports what changed since.
# For tokens the legacy id is the key's digest (keys are stored nowhere) and our_id the user.
legacy_imports = Table(
    "legacy_imports",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("legacy_id", String(64), primary_key=True),
    Column("our_id", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
)
