"""The lab schema: sessions.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omc.db.types import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("question", sa.JSON(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        schema="lab",
    )
    op.create_index("ix_sessions_owner_id", "sessions", ["owner_id"], schema="lab")
    op.create_index("ix_sessions_status", "sessions", ["status"], schema="lab")
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"], schema="lab")


def downgrade() -> None:
    op.drop_index("ix_sessions_created_at", table_name="sessions", schema="lab")
    op.drop_index("ix_sessions_status", table_name="sessions", schema="lab")
    op.drop_index("ix_sessions_owner_id", table_name="sessions", schema="lab")
    op.drop_table("sessions", schema="lab")
