"""Accounts: create users, check credentials, seed the first admin."""

import logging

from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from omc.api.security import hash_password, verify_password
from omc.db.models import User, UserRole
from omc.errors import Conflict

__all__ = ["MIN_PASSWORD_CHARS", "authenticate", "create_user", "ensure_first_admin"]

logger = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 8


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively."""
    return email.strip().lower()


def create_user(session: Session, *, email: str, password: str, role: UserRole) -> User:
    """Add an account; raise Conflict if the email is taken."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        role=role,
        is_active=True,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a user with email {user.email} already exists") from exc
    logger.info("user created", extra={"user_id": user.id, "role": role.value})
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    valid = verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        return None
    return user


def ensure_first_admin(
    session: Session, email: str | None, password: SecretStr | None
) -> None:
    """Create the configured admin when the database has no users yet."""
    if email is None or password is None:
        return
    if session.scalar(select(func.count()).select_from(User)):
        return
    create_user(
        session, email=email, password=password.get_secret_value(), role=UserRole.ADMIN
    )
