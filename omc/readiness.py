"""Readiness checks shared by the API and the worker's probe server."""

from omc.cache import CacheRole
from omc.db.engine import check_database
from omc.db.migrate import current_revision, head_revision
from omc.errors import OmcError
from omc.runtime import Runtime

__all__ = ["failing", "run_checks"]


def run_checks(runtime: Runtime) -> dict[str, str]:
    """Check the database, its migrations and Redis; `ok` or the reason per check."""
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


def failing(checks: dict[str, str]) -> list[str]:
    """Names of the checks that did not pass, sorted."""
    return sorted(name for name, result in checks.items() if result != "ok")
