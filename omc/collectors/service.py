"""Collectors as the processes use them: runs by name, the queue task, the schedule.

- `run_collectors(runtime, names)`: run collectors one after another in this
  process (what `omc collect` does); one failing never stops the next.
- `register_tasks(runtime)`: make task `collectors.run` (kwarg `collector`) runnable by
  workers and enqueueable by the API (`omc.tasks` calls it once per runtime).
- `periodic_jobs(settings)`: one `PeriodicJob` per collector, on its cadence.
"""

import logging
from collections.abc import Iterable
from typing import Any

from omc.cache import CacheRole
from omc.collectors.registry import build_collector, collector_names
from omc.collectors.runner import CollectorRunner, RunOutcome
from omc.queue import TaskSpec
from omc.runtime import Runtime
from omc.scheduler import PeriodicJob
from omc.settings import Settings

__all__ = ["RUN_TASK", "periodic_jobs", "register_tasks", "run_collectors"]

logger = logging.getLogger(__name__)

RUN_TASK = "collectors.run"


def run_collectors(
    runtime: Runtime, names: Iterable[str], **collector_kwargs: Any
) -> list[RunOutcome]:
    """Run the named collectors once each, in order; `collector_kwargs` go to each."""
    runner = CollectorRunner(runtime.engine, runtime.store(CacheRole.COLLECTORS))
    return [
        runner.run(build_collector(name, runtime.settings, **collector_kwargs))
        for name in names
    ]


def register_tasks(runtime: Runtime) -> None:
    """Register the collector task on the runtime's queue."""

    def run_task(collector: str) -> dict[str, Any]:
        [outcome] = run_collectors(runtime, [collector])
        return outcome.summary()

    runtime.queue.register(TaskSpec(RUN_TASK, run_task))


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """One job per collector that enqueues its run on its cadence."""
    jobs = []
    for name in collector_names():
        cadence_s = build_collector(name, settings).cadence_s
        jobs.append(
            PeriodicJob(
                name=f"collect-{name}",
                task=RUN_TASK,
                interval_s=cadence_s,
                kwargs={"collector": name},
            )
        )
    return jobs
