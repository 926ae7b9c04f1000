"""Alembic environment: always run online, on the connection handed over by bot.store.db.

The caller (bot.store.db.migrate) already opened the transaction and took the migration lock,
so this file only configures the context and runs the scripts inside that transaction.
"""

from __future__ import annotations

from alembic import context

from bot.store.models import SQLModel

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bot.store.db.migrate() or `getkey db upgrade`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # One transaction for the whole upgrade: a failure leaves the previous schema intact.
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
