"""FastAPI dependencies, as `Annotated` aliases routes can use directly."""

from collections.abc import Callable, Iterator
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request, WebSocket, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from omc.api.ratelimit import enforce_limit
from omc.api.security import decode_access_token
from omc.cache import CacheRole
from omc.db.engine import session_scope
from omc.db.models import User, UserRole
from omc.errors import AuthError, PermissionDenied
from omc.runtime import Runtime

__all__ = [
    "AdminUser",
    "CurrentUser",
    "RuntimeDep",
    "SessionDep",
    "authenticate_websocket",
    "require_roles",
]

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  (a route, not a secret)
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_runtime(request: Request) -> Runtime:
    """The process's shared collaborators, attached by the app factory."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A database session committed when the request succeeds."""
    with session_scope(runtime.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    """The signed-in, active user; also counts the request against their limit."""
    if not token:
        raise AuthError("not signed in: send a bearer token")
    claims = decode_access_token(token, secret=request.app.state.jwt_secret)
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise AuthError("the account behind this token is unknown or disabled")
    enforce_limit(
        runtime.store(CacheRole.APP),
        scope="user",
        ident=str(user.id),
        limit_per_window=runtime.settings.rate_limit_user_per_min,
    )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def authenticate_websocket(websocket: WebSocket) -> User | None:
    """The user behind a WebSocket's token (`?token=` or a bearer header).

    Closes the connection with code 1008 and returns None when the token is missing,
    invalid or belongs to no active user.
    """
    token = websocket.query_params.get("token")
    header = websocket.headers.get("authorization", "")
    if token is None and header.lower().startswith("bearer "):
        token = header[7:]
    runtime: Runtime = websocket.app.state.runtime

    def load(raw: str) -> User | None:
        claims = decode_access_token(raw, secret=websocket.app.state.jwt_secret)
        with session_scope(runtime.sessions) as session:
            user = session.get(User, claims.user_id)
        return user if user is not None and user.is_active else None

    user = None
    if token:
        try:
            user = await anyio.to_thread.run_sync(load, token)
        except AuthError:
            user = None
    if user is None:
        await websocket.close(
            code=status.WS_1008_POLICY_VIOLATION, reason="not signed in"
        )
    return user


def require_roles(*roles: UserRole) -> Callable[[User], User]:
    """A dependency that lets only users with one of `roles` through."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise PermissionDenied(f"this action needs the role {allowed}")
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(UserRole.ADMIN))]
