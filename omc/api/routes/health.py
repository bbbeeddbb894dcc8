"""Liveness, readiness and metrics: unauthenticated, for probes and scrapers."""

import logging

import anyio.to_thread
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omc.api.deps import RuntimeDep
from omc.errors import OmcError
from omc.metrics import REGISTRY
from omc.readiness import failing, run_checks

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
    checks = await anyio.to_thread.run_sync(run_checks, runtime)
    names = failing(checks)
    if names:
        logger.warning("not ready", extra={"failing": names})
    return JSONResponse(
        {
            "status": "unavailable" if names else "ready",
            "failing": names,
            "checks": checks,
        },
        status_code=503 if names else 200,
    )


@router.get("/metrics")
def metrics(runtime: RuntimeDep) -> Response:
    """Serve every metric in the Prometheus text format."""
    try:
        runtime.queue.depth()
    except OmcError as exc:
        logger.warning("queue depth unavailable", extra={"error": str(exc)})
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
