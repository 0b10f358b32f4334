"""Alembic environment: the URL comes from the caller (datapolis.registry.migrate)."""

from alembic import context

from datapolis.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `datapolis db upgrade`, which passes a connection")

# Batch mode lets ALTER TABLE work on SQLite by copying the table.
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
