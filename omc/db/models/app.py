"""Tables of the `app` schema: accounts."""

import enum
from datetime import UTC, datetime

from sqlalchemy import Boolean, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omc.db.base import APP_SCHEMA, Base
from omc.db.types import UtcDateTime

__all__ = ["User", "UserRole"]


class UserRole(enum.StrEnum):
    """What an account may do: admins manage, analysts create, viewers read."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


def _now() -> datetime:
    return datetime.now(UTC)


class User(Base):
    """An account that signs in to the API."""

    __tablename__ = "users"
    __table_args__ = {"schema": APP_SCHEMA}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[UserRole] = mapped_column(
        Enum(
            UserRole,
            name="user_role",
            native_enum=False,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        ),
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
