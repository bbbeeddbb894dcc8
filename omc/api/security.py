"""Password hashing (argon2) and access tokens (JWT, HS256)."""

import logging
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from omc.errors import AuthError, ConfigError
from omc.settings import Settings

__all__ = [
    "TokenClaims",
    "decode_access_token",
    "hash_password",
    "issue_access_token",
    "resolve_jwt_secret",
    "verify_password",
]

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
JWT_SECRET_FILE = "jwt_secret"  # noqa: S105  (a file name)
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as much time
# as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("omc-dummy-password")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against its hash (or a dummy hash when there is none)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


class TokenClaims(dict[str, Any]):
    """The verified claims of an access token."""

    @property
    def user_id(self) -> int:
        """The account the token was issued to."""
        return int(self["sub"])


def issue_access_token(user_id: int, role: str, *, secret: str, ttl_s: int) -> str:
    """Sign an access token for a user that expires after `ttl_s` seconds."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": role,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    """Verify signature and expiry; raise AuthError for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("the access token has expired; sign in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("the access token is not valid") from exc
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise AuthError("the access token is not valid")
    return TokenClaims(claims)


def resolve_jwt_secret(settings: Settings) -> str:
    """Return the signing key: from settings, or generated once when embedded.

    The generated key is written to the data folder readable by its owner only, so
    tokens stay valid across restarts of an embedded install.
    """
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if not settings.is_embedded_db:
        raise ConfigError(
            "OMC_JWT_SECRET: required when OMC_DATABASE_URL points at a database "
            "server; set at least 32 random characters"
        )
    path = settings.data_dir / JWT_SECRET_FILE
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48))
        logger.info("generated a token signing key", extra={"path": str(path)})
    return path.read_text(encoding="utf-8").strip()


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created with mode 0600 from the start, so the key is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
