"""Request and response bodies shared by the API routes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from omc.api.accounts import MIN_PASSWORD_CHARS
from omc.db.models import UserRole

__all__ = ["Token", "UserCreate", "UserPublic", "UserUpdate", "UsersPublic"]

MAX_PAGE_SIZE = 100


class Token(BaseModel):
    """An OAuth2 bearer token answer."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token kind)
    expires_in: int


class UserCreate(BaseModel):
    """A new account, created by an admin."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=256)
    role: UserRole = UserRole.VIEWER


class UserUpdate(BaseModel):
    """Fields an admin may change on an account; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: UserRole | None = None
    is_active: bool | None = None
    password: str | None = Field(
        default=None, min_length=MIN_PASSWORD_CHARS, max_length=256
    )


class UserPublic(BaseModel):
    """An account as the API shows it: never the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: UserRole
    is_active: bool
    created_at: datetime


class UsersPublic(BaseModel):
    """One page of accounts and the total count."""

    data: list[UserPublic]
    count: int
