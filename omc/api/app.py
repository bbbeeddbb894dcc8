"""The FastAPI application factory."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from omc.api.accounts import ensure_first_admin
from omc.api.middleware import (
    BodyLimitMiddleware,
    ClientRateLimitMiddleware,
    RequestContextMiddleware,
)
from omc.api.routes import auth, collectors, data, health, lab, users
from omc.api.security import resolve_jwt_secret
from omc.cache import CacheRole
from omc.collectors.exporter import install_exporter
from omc.db.engine import session_scope
from omc.errors import (
    AuthError,
    CacheError,
    Conflict,
    NotFound,
    OmcError,
    PermissionDenied,
    RateLimited,
    StorageError,
)
from omc.runtime import Runtime
from omc.tasks import register_tasks

__all__ = ["API_PREFIX", "create_app"]

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

# Most specific first: the first matching class decides the status.
_STATUS_BY_ERROR: tuple[tuple[type[OmcError], int], ...] = (
    (PermissionDenied, 403),
    (AuthError, 401),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (StorageError, 503),
    (CacheError, 503),
)


def create_app(runtime: Runtime) -> FastAPI:
    """Build the API around a process's runtime; resolves the token key up front."""
    jwt_secret = resolve_jwt_secret(runtime.settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(_seed_first_admin, runtime)
        yield

    # Collector runs from any process reach /metrics through their run records.
    install_exporter(runtime.engine, runtime.settings)
    register_tasks(runtime)

    app = FastAPI(title="Oh My Coins", version=_version(), lifespan=lifespan)
    app.state.runtime = runtime
    app.state.jwt_secret = jwt_secret

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth.router)
    api.include_router(users.router)
    api.include_router(collectors.router)
    api.include_router(data.router)
    api.include_router(lab.router)
    app.include_router(health.router)
    app.include_router(api)

    app.add_exception_handler(OmcError, _omc_error_handler)  # type: ignore[arg-type]
    settings = runtime.settings
    # Added innermost first: the request context wraps everything, including 413/429.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(
        ClientRateLimitMiddleware,
        store=runtime.store(CacheRole.APP),
        limit_per_min=settings.rate_limit_ip_per_min,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


def _seed_first_admin(runtime: Runtime) -> None:
    settings = runtime.settings
    try:
        with session_scope(runtime.sessions) as session:
            ensure_first_admin(
                session, settings.first_admin_email, settings.first_admin_password
            )
    except StorageError as exc:
        logger.warning("first admin not created", extra={"error": str(exc)})


async def _omc_error_handler(_request: Request, exc: OmcError) -> JSONResponse:
    status = next((code for cls, code in _STATUS_BY_ERROR if isinstance(exc, cls)), 400)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthError) and status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_s)
    if status >= 500:
        logger.error("request failed on a dependency", extra={"error": str(exc)})
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def _version() -> str:
    from importlib.metadata import version

    return version("omc")
