"""Schemas app, collectors and lab; the users table.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omc.db.types import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

SCHEMAS = ("app", "collectors", "lab")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for schema in SCHEMAS:
            op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        schema="app",
    )


def downgrade() -> None:
    op.drop_table("users", schema="app")
    if op.get_bind().dialect.name == "postgresql":
        for schema in reversed(SCHEMAS):
            op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
