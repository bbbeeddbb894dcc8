"""Liveness, readiness and metrics: unauthenticated, for probes and scrapers."""

import logging

import anyio.to_thread
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omc.api.deps import RuntimeDep
from omc.cache import CacheRole
from omc.db.engine import check_database
from omc.db.migrate import current_revision, head_revision
from omc.errors import OmcError
from omc.metrics import REGISTRY
from omc.runtime import Runtime

__all__ = ["router"]

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """Answer while the process lives."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(runtime: RuntimeDep) -> JSONResponse:
    """Check the database, its migrations and Redis; 503 names what fails."""
    checks = await anyio.to_thread.run_sync(_run_checks, runtime)
    failing = sorted(name for name, result in checks.items() if result != "ok")
    if failing:
        logger.warning("not ready", extra={"failing": failing})
    return JSONResponse(
        {
            "status": "unavailable" if failing else "ready",
            "failing": failing,
            "checks": checks,
        },
        status_code=503 if failing else 200,
    )


def _run_checks(runtime: Runtime) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        check_database(runtime.engine)
        checks["database"] = "ok"
        current, head = current_revision(runtime.engine), head_revision()
        checks["migrations"] = (
            "ok"
            if current == head
            else f"at {current or 'none'}, expected {head}: run omc migrate"
        )
    except OmcError as exc:
        checks["database"] = str(exc)
        checks["migrations"] = "unknown: database unreachable"
    try:
        for role in CacheRole:
            runtime.store(role).ping()
        runtime.queue.depth()
        checks["redis"] = "ok"
    except OmcError as exc:
        checks["redis"] = str(exc)
    return checks


@router.get("/metrics")
def metrics(runtime: RuntimeDep) -> Response:
    """Serve every metric in the Prometheus text format."""
    try:
        runtime.queue.depth()
    except OmcError as exc:
        logger.warning("queue depth unavailable", extra={"error": str(exc)})
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
