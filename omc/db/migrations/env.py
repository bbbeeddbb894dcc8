"""Alembic environment: migrations run on the engine that `omc.db.migrate` passes in."""

from alembic import context

import omc.db.models  # noqa: F401  (registers every table on the metadata)
from omc.db.base import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_schemas=True,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    # Alembic owns the transactions, so a migration may step out of one when it must.
    with context.begin_transaction():
        context.run_migrations()
