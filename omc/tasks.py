"""Every area's queue tasks and periodic jobs, wired in one place for the processes."""

from omc.lab import service as lab_service
from omc.runtime import Runtime
from omc.scheduler import PeriodicJob
from omc.settings import Settings

__all__ = ["periodic_jobs", "register_tasks"]


def register_tasks(runtime: Runtime) -> None:
    """Register every task on the runtime's queue; call once per runtime."""
    lab_service.register_tasks(runtime)


def periodic_jobs(_settings: Settings) -> list[PeriodicJob]:
    """Every job the scheduler enqueues on a cadence."""
    return [*lab_service.periodic_jobs()]
