"""Lab sessions as the processes use them: the queue tasks and the periodic jobs.

- `runner_for(runtime)`: the `SessionRunner` of a process;
- `register_tasks(runtime)`: tasks `lab.run_session` (kwargs `session_id`, `answer`),
  `lab.recover` and `lab.prune` on the runtime's queue;
- `periodic_jobs()`: recovery every minute, pruning every hour.
"""

import logging
from datetime import timedelta
from typing import Any

import fsspec

from omc.cache import CacheRole
from omc.db.engine import session_scope
from omc.db.models import LabSession
from omc.errors import CacheError, OmcError
from omc.lab.checkpoints import open_checkpointer
from omc.lab.graph import lab_deps
from omc.lab.runner import SessionRunner
from omc.lab.sessions import SessionEvents
from omc.queue import TaskSpec
from omc.runtime import Runtime
from omc.scheduler import PeriodicJob

__all__ = [
    "PRUNE_TASK",
    "RECOVER_TASK",
    "RUN_TASK",
    "enqueue_run",
    "events_for",
    "periodic_jobs",
    "prune_sessions",
    "recover_sessions",
    "register_tasks",
    "runner_for",
]

logger = logging.getLogger(__name__)

RUN_TASK = "lab.run_session"
RECOVER_TASK = "lab.recover"
PRUNE_TASK = "lab.prune"
RECOVER_EVERY_S = 60
PRUNE_EVERY_S = 3600


def events_for(runtime: Runtime) -> SessionEvents:
    """The event streams of this install's sessions."""
    retention = timedelta(days=runtime.settings.lab_retention_days)
    return SessionEvents(runtime.store(CacheRole.LAB), retention)


def runner_for(runtime: Runtime) -> SessionRunner:
    """The session runner of this process, planning with the configured LLMs if any."""
    return SessionRunner(
        sessions=runtime.sessions,
        settings=runtime.settings,
        store=runtime.store(CacheRole.LAB),
        events=events_for(runtime),
        deps=lab_deps(runtime),
    )


def enqueue_run(runtime: Runtime, session_id: str, answer: Any = None) -> None:
    """Queue the next step of a session; CacheError if the queue is unreachable."""
    runtime.queue.enqueue(RUN_TASK, session_id=session_id, answer=answer)


def recover_sessions(runtime: Runtime) -> list[str]:
    """Re-queue running sessions whose worker died; they resume from their checkpoint."""
    stalled = runner_for(runtime).stalled_sessions()
    for session_id in stalled:
        logger.warning(
            "lab session resumed after its worker stopped",
            extra={"session": session_id},
        )
        enqueue_run(runtime, session_id)
    return stalled


def prune_sessions(runtime: Runtime) -> list[str]:
    """Delete sessions that ended before the retention period, with all they left."""
    runner = runner_for(runtime)
    expired = runner.expired_sessions()
    if not expired:
        return []
    events = events_for(runtime)
    with open_checkpointer(runtime.settings) as saver:
        for session_id in expired:
            saver.delete_thread(session_id)
            _remove_artifacts(runtime.settings.artifacts_location, session_id)
            try:
                events.drop(session_id)
            except CacheError as exc:
                logger.warning("lab events not dropped", extra={"error": str(exc)})
            with session_scope(runtime.sessions) as session:
                row = session.get(LabSession, session_id)
                if row is not None:
                    session.delete(row)
    logger.info("lab sessions pruned", extra={"count": len(expired)})
    return expired


def _remove_artifacts(base_url: str, session_id: str) -> None:
    fs, root = fsspec.core.url_to_fs(f"{base_url.rstrip('/')}/{session_id}")
    try:
        if fs.exists(root):
            fs.rm(root, recursive=True)
    except OSError as exc:
        raise OmcError(f"artifacts of session {session_id} not removed: {exc}") from exc


def register_tasks(runtime: Runtime) -> None:
    """Make the Lab's tasks runnable by workers and enqueueable by the API."""
    runner = runner_for(runtime)
    runtime.queue.register(TaskSpec(RUN_TASK, runner.run))
    runtime.queue.register(TaskSpec(RECOVER_TASK, lambda: recover_sessions(runtime)))
    runtime.queue.register(TaskSpec(PRUNE_TASK, lambda: prune_sessions(runtime)))


def periodic_jobs() -> list[PeriodicJob]:
    """Recovery of stalled sessions and pruning of old ones."""
    return [
        PeriodicJob("lab-recover", RECOVER_TASK, RECOVER_EVERY_S),
        PeriodicJob("lab-prune", PRUNE_TASK, PRUNE_EVERY_S),
    ]
