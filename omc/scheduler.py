"""Periodic jobs: enqueue each job's task once per interval, across any replicas.

Each interval is a numbered slot; the first scheduler to claim a slot in the shared
store enqueues the task, so running two schedulers (or restarting one) never runs a
job twice in one interval.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omc.cache import Store, cache_key
from omc.errors import OmcError
from omc.queue import TaskQueue

__all__ = ["PeriodicJob", "Scheduler"]

logger = logging.getLogger(__name__)

TICK_S = 1.0


@dataclass(frozen=True)
class PeriodicJob:
    """Run task `task` with `kwargs` every `interval_s` seconds."""

    name: str
    task: str
    interval_s: int
    kwargs: dict[str, Any] = field(default_factory=dict)


class Scheduler:
    """Claims interval slots and enqueues the jobs whose slot it won."""

    def __init__(
        self,
        queue: TaskQueue,
        store: Store,
        jobs: Sequence[PeriodicJob],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._queue = queue
        self._store = store
        self._jobs = list(jobs)
        self._clock = clock
        self._stop = threading.Event()

    def tick(self) -> list[str]:
        """Enqueue every job whose current slot is unclaimed; return their names."""
        now = self._clock()
        enqueued = []
        for job in self._jobs:
            slot = int(now // job.interval_s)
            key = cache_key("scheduler", "slot", f"{job.name}:{slot}")
            try:
                if not self._store.set_if_absent(key, "1", ttl_s=job.interval_s * 2):
                    continue
            except OmcError as exc:
                logger.warning(
                    "job slot unclaimed", extra={"job": job.name, "error": str(exc)}
                )
                continue
            try:
                self._queue.enqueue(job.task, **job.kwargs)
            except OmcError as exc:
                # Give the slot back so that this or another scheduler retries next tick.
                self._store.delete(key)
                logger.warning(
                    "job not enqueued", extra={"job": job.name, "error": str(exc)}
                )
                continue
            logger.info("job enqueued", extra={"job": job.name, "slot": slot})
            enqueued.append(job.name)
        return enqueued

    def run_forever(self) -> None:
        """Tick until `stop` is called."""
        logger.info(
            "scheduler started", extra={"jobs": [job.name for job in self._jobs]}
        )
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(TICK_S)
        logger.info("scheduler stopped")

    def stop(self) -> None:
        """Ask `run_forever` to return after the current tick."""
        self._stop.set()
