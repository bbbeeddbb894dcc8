"""Every area's queue tasks and periodic jobs, wired in one place for the processes."""

from omc.collectors import service as collectors
from omc.lab import service as lab
from omc.runtime import Runtime
from omc.scheduler import PeriodicJob
from omc.settings import Settings

__all__ = ["periodic_jobs", "register_tasks"]


def register_tasks(runtime: Runtime) -> None:
    """Register every task on the runtime's queue; a second call changes nothing."""
    if runtime.queue.is_registered(collectors.RUN_TASK):
        return
    collectors.register_tasks(runtime)
    lab.register_tasks(runtime)


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """Every job the scheduler enqueues on a cadence."""
    jobs = collectors.periodic_jobs(settings) if settings.scheduler_collectors else []
    return [*jobs, *lab.periodic_jobs()]
