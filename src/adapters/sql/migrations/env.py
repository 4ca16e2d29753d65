"""Alembic environment.

Online: runs on the connection that ``movierater_adapters.sql.migrate`` hands over (with its
schema translation, if a schema is configured). Offline (``sql=True``): renders the
migrations as SQL for the dialect of ``sqlalchemy.url``, e.g. to review them for SQL
Server.
"""

from alembic import context
from movierater_adapters.sql.tables import metadata

if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        # Alembic looks its version table up without the engine's schema translation.
        version_table_schema=context.config.attributes.get("schema"),
    )
    with context.begin_transaction():
        context.run_migrations()
