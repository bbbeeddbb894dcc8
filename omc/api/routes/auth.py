"""Sign-in: the OAuth2 password flow issuing JWT access tokens."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from omc.api.accounts import authenticate
from omc.api.deps import RuntimeDep, SessionDep
from omc.api.schemas import Token
from omc.api.security import issue_access_token
from omc.errors import AuthError

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
def token(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange an email (as `username`) and password for an access token."""
    user = authenticate(session, email=form.username, password=form.password)
    if user is None:
        raise AuthError("incorrect email or password")
    ttl_s = runtime.settings.access_token_ttl_s
    access_token = issue_access_token(
        user.id, user.role.value, secret=request.app.state.jwt_secret, ttl_s=ttl_s
    )
    return Token(access_token=access_token, expires_in=ttl_s)
