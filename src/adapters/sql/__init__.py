"""SQL adapter (SQLAlchemy 2 Core): SQLite, PostgreSQL, MariaDB/MySQL, SQL Server."""

from movierater_adapters.sql.database import SqlDatabase, make_engine

__all__ = ["SqlDatabase", "make_engine"]
