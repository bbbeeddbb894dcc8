"""Accounts: who am I, and user management for admins."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from omc.api.accounts import create_user
from omc.api.deps import AdminUser, CurrentUser, SessionDep
from omc.api.schemas import (
    MAX_PAGE_SIZE,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)
from omc.api.security import hash_password
from omc.db.models import User
from omc.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me")
def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in account."""
    return UserPublic.model_validate(user)


@router.get("")
def list_users(
    _admin: AdminUser,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> UsersPublic:
    """One page of accounts, oldest first."""
    count = session.scalar(select(func.count()).select_from(User)) or 0
    users = session.scalars(select(User).order_by(User.id).offset(offset).limit(limit))
    return UsersPublic(data=[UserPublic.model_validate(u) for u in users], count=count)


@router.post("", status_code=201)
def add_user(_admin: AdminUser, session: SessionDep, body: UserCreate) -> UserPublic:
    """Create an account with a role."""
    user = create_user(
        session, email=body.email, password=body.password, role=body.role
    )
    return UserPublic.model_validate(user)


@router.get("/{user_id}")
def read_user(_admin: AdminUser, session: SessionDep, user_id: int) -> UserPublic:
    """One account by id."""
    return UserPublic.model_validate(_get_user(session, user_id))


@router.patch("/{user_id}")
def update_user(
    _admin: AdminUser, session: SessionDep, user_id: int, body: UserUpdate
) -> UserPublic:
    """Change an account's role, status or password."""
    user = _get_user(session, user_id)
    if body.role is not None:
        user.role = body.role
    if body.is_active is not None:
        user.is_active = body.is_active
    if body.password is not None:
        user.password_hash = hash_password(body.password)
    session.flush()
    return UserPublic.model_validate(user)


def _get_user(session: SessionDep, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user
