"""The task queue: Huey on Redis in production, on a SQLite file when embedded.

Tasks are plain functions registered by name through `TaskQueue.register`; the API
and the scheduler enqueue by name, workers (`omc worker`, or a thread of `omc up`)
run them. The queue lives in Redis database 3, apart from the cache databases,
because queued tasks must not expire the way cache keys do.

Periodic work (collector runs, pruning) is enqueued by `omc scheduler`, never by the
workers, so adding worker replicas never duplicates a periodic run.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, Result
from huey.consumer import Consumer
from huey.exceptions import ResultTimeout
from redis import ConnectionPool
from redis.exceptions import RedisError

from omc.errors import CacheError
from omc.metrics import QUEUE_DEPTH

__all__ = ["QUEUE_REDIS_DB", "QueueWorker", "TaskQueue", "TaskSpec"]

logger = logging.getLogger(__name__)

QUEUE_REDIS_DB = 3
QUEUE_NAME = "omc"
PING_TASK = "queue.ping"


@dataclass(frozen=True)
class TaskSpec:
    """A task: its name, the function that runs it, and how it retries."""

    name: str
    func: Callable[..., Any]
    retries: int = 0
    retry_delay_s: int = 0


class TaskQueue:
    """Enqueue tasks by name and build workers that run them."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._tasks: dict[str, Any] = {}
        self.register(TaskSpec(PING_TASK, _pong))

    @classmethod
    def open(cls, *, redis_url: str | None, data_dir: Path) -> "TaskQueue":
        """Open the queue on Redis db 3 when a URL is given, else on a SQLite file."""
        if redis_url is None:
            data_dir.mkdir(parents=True, exist_ok=True)
            return cls(SqliteHuey(QUEUE_NAME, filename=str(data_dir / "queue.db")))
        pool = ConnectionPool.from_url(
            redis_url, db=QUEUE_REDIS_DB, socket_timeout=10, socket_connect_timeout=5
        )
        return cls(RedisHuey(QUEUE_NAME, connection_pool=pool))

    def register(self, spec: TaskSpec) -> None:
        """Make a function runnable by workers under `spec.name`."""
        if spec.name in self._tasks:
            raise ValueError(f"task {spec.name!r} is registered twice")
        self._tasks[spec.name] = self.huey.task(
            name=spec.name, retries=spec.retries, retry_delay=spec.retry_delay_s
        )(spec.func)

    def is_registered(self, name: str) -> bool:
        """Whether a task of that name is registered."""
        return name in self._tasks

    def enqueue(self, name: str, **kwargs: Any) -> Result:
        """Queue a run of the named task; raise CacheError if the queue is unreachable."""
        try:
            task = self._tasks[name]
        except KeyError:
            raise ValueError(f"unknown task {name!r}") from None
        try:
            return task(**kwargs)
        except (RedisError, OSError) as exc:
            raise CacheError(f"task queue unreachable: {type(exc).__name__}") from exc

    def depth(self) -> int:
        """Tasks waiting to run; also sets the queue-depth gauge."""
        try:
            count = int(self.huey.pending_count())
        except (RedisError, OSError) as exc:
            raise CacheError(f"task queue unreachable: {type(exc).__name__}") from exc
        QUEUE_DEPTH.set(count)
        return count

    def ping(self, timeout_s: float) -> bool:
        """Send a ping through the queue; True if a worker answered in time."""
        result = self.enqueue(PING_TASK)
        try:
            return bool(result.get(blocking=True, timeout=timeout_s) == "pong")
        except ResultTimeout:
            result.revoke()
            return False


def _pong() -> str:
    return "pong"


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host process (omc up)."""

    def _set_signal_handlers(self) -> None:
        return None


class QueueWorker:
    """Runs queued tasks on threads until stopped."""

    def __init__(self, queue: TaskQueue, *, threads: int) -> None:
        self._consumer_options = {
            "workers": threads,
            "worker_type": "thread",
            "periodic": False,
            "check_worker_health": True,
        }
        self._queue = queue
        self._consumer: Consumer | None = None

    def run_forever(self) -> None:
        """Consume in the foreground, stopping gracefully on SIGINT or SIGTERM."""
        logger.info("worker started", extra=self._log_fields())
        # Kubernetes stops pods with SIGTERM: let running tasks finish first.
        consumer = Consumer(
            self._queue.huey, graceful_signal="TERM", **self._consumer_options
        )
        consumer.run()

    def start_background(self) -> None:
        """Consume on background threads; the host process calls `stop`."""
        self._consumer = _QuietConsumer(self._queue.huey, **self._consumer_options)
        self._consumer.start()
        logger.info("worker started", extra=self._log_fields())

    def stop(self) -> None:
        """Stop background consumption, letting running tasks finish."""
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
            logger.info("worker stopped")

    def _log_fields(self) -> dict[str, Any]:
        return {"threads": self._consumer_options["workers"]}
