"""The lab schema: LangGraph's checkpoint tables, on PostgreSQL.

The tables are LangGraph's own, created by its saver's `setup()` so that they match
the installed library exactly. A newer langgraph-checkpoint-postgres that adds
tables needs a new revision that calls `setup()` again. Embedded installs keep
checkpoints in their own SQLite file, which the saver sets up by itself.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import Connection

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TABLES = (
    "checkpoint_writes",
    "checkpoint_blobs",
    "checkpoints",
    "checkpoint_migrations",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # The saver builds indexes CONCURRENTLY, which cannot run inside a transaction.
    with op.get_context().autocommit_block():
        connection = bind.connection.driver_connection
        assert isinstance(connection, Connection)  # noqa: S101  (psycopg is the driver)
        connection.execute("SET search_path TO lab")
        try:
            PostgresSaver(connection).setup()
        finally:
            connection.execute("SET search_path TO DEFAULT")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS lab.{table}")
