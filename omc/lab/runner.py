"""Run Lab sessions on workers: drive the graph, record progress, honour cancel.

`SessionRunner.run(session_id, answer=...)` is what the queue task calls. It opens the
checkpoint store, builds the graph and streams it:

- each node's update becomes an event in Redis db 1;
- an interrupt (a question or an approval) parks the session as `waiting`; the user's
  reply enqueues the task again with `answer`, which resumes the graph;
- a cancel request is checked after every node, so a session stops at the next node;
- while a session runs, a heartbeat key in Redis db 1 says so; `recover_sessions`
  re-enqueues `running` sessions whose heartbeat expired (their worker died), and they
  resume from their last checkpoint;
- any failure (the checkpoint store or Redis unreachable included) ends the session
  `failed` with the reason recorded. Nothing falls back to an in-memory store.
"""

import logging
import threading
import uuid
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from omc.cache import Store, cache_key
from omc.db.engine import session_scope
from omc.db.models import LabSession
from omc.errors import OmcError
from omc.lab.checkpoints import open_checkpointer
from omc.lab.graph import (
    LabGraph,
    build_lab_graph,
    read_state,
    resume_session,
    session_config,
    start_session,
)
from omc.lab.sessions import FINISHED_STATUSES, SessionEvents
from omc.lab.state import LabDeps, LabState
from omc.logs import bind_context
from omc.metrics import LAB_SESSIONS
from omc.settings import Settings

__all__ = ["SessionRunner", "heartbeat_key", "result_of"]

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def heartbeat_key(session_id: str) -> str:
    """The Redis key that is present while a worker runs the session."""
    return cache_key("lab", "heartbeat", session_id)


def has_checkpoint(graph: LabGraph, session_id: str) -> bool:
    """Whether the graph saved any state for the session yet."""
    return bool(graph.get_state(session_config(session_id)).values)


def result_of(state: LabState) -> dict[str, Any]:
    """The summary a finished session keeps in its row and `omc lab run --json` prints."""
    evaluation = state.evaluation
    report = state.report
    return {
        "best_model": evaluation.best_model if evaluation else None,
        "baseline": evaluation.best_baseline if evaluation else None,
        "metrics": evaluation.metrics if evaluation else {},
        "skill_test": evaluation.test.model_dump(mode="json") if evaluation else None,
        "reason": evaluation.reason if evaluation else None,
        "artifacts": report.artifacts.model_dump(mode="json") if report else None,
        "insufficient": state.insufficient.model_dump(mode="json")
        if state.insufficient
        else None,
        "messages": state.messages[-20:],
    }


class _Cancelled(Exception):
    pass


@dataclass
class SessionRunner:
    """Runs sessions of one install; built by the worker from its runtime."""

    sessions: sessionmaker[Session]
    settings: Settings
    store: Store
    events: SessionEvents
    deps: LabDeps

    def run(self, session_id: str, answer: Any = None) -> str:
        """Advance a session as far as it goes; return its status afterwards."""
        with bind_context(lab_session=session_id):
            row = self._load(session_id)
            if row is None or row.status in FINISHED_STATUSES:
                return row.status if row else "missing"
            try:
                # The heartbeat starts first, so recovery never sees a running
                # session without one.
                with (
                    self._heartbeat(session_id),
                    open_checkpointer(self.settings) as saver,
                ):
                    self._mark(session_id, status="running", question=None)
                    graph = build_lab_graph(self.deps, saver)
                    if not has_checkpoint(graph, session_id):
                        stream = start_session(graph, session_id, row.goal)
                    else:
                        stream = resume_session(graph, session_id, answer)
                    # A stream left open (a cancel) must end before its saver closes.
                    with closing(stream):
                        return self._drive(graph, session_id, stream)
            except _Cancelled:
                return self._end(session_id, "cancelled", outcome="cancelled")
            except (OmcError, OSError) as exc:
                logger.error("lab session failed", extra={"error": str(exc)})
                return self._end(session_id, "failed", outcome="failed", error=str(exc))
            except Exception as exc:
                logger.exception("lab session crashed")
                reason = f"{type(exc).__name__}: {exc}"
                return self._end(session_id, "failed", outcome="failed", error=reason)

    def _drive(
        self, graph: LabGraph, session_id: str, stream: Generator[dict[str, Any]]
    ) -> str:
        question: dict[str, Any] | None = None
        # The stream is always read to its end: a graph that stops at an interrupt
        # saves its pending writes only when its stream finishes.
        for update in stream:
            if "__interrupt__" in update:
                question = dict(update["__interrupt__"][0].value)
                continue
            for node, change in update.items():
                messages = (
                    change.get("messages", []) if isinstance(change, dict) else []
                )
                self.events.publish(session_id, "node", node=node, messages=messages)
            if self._cancel_requested(session_id):
                raise _Cancelled
        if question is not None:
            self._mark(session_id, status="waiting", question=question)
            self.events.publish(session_id, "question", question=question)
            return "waiting"
        state = read_state(graph, session_id)
        status = {"needs_data": "needs_data", "failed": "failed"}.get(
            state.status, "done"
        )
        error = state.messages[-1] if status == "failed" and state.messages else None
        return self._end(
            session_id,
            status,
            outcome=state.verdict if status == "done" else status,
            error=error,
            plan=state.plan.model_dump(mode="json") if state.plan else None,
            verdict=state.verdict,
            result=result_of(state),
        )

    def _load(self, session_id: str) -> LabSession | None:
        with session_scope(self.sessions) as session:
            return session.get(LabSession, session_id)

    def _cancel_requested(self, session_id: str) -> bool:
        with session_scope(self.sessions) as session:
            return bool(
                session.scalar(
                    select(LabSession.cancel_requested).where(
                        LabSession.id == session_id
                    )
                )
            )

    def _mark(self, session_id: str, **fields: Any) -> None:
        with session_scope(self.sessions) as session:
            row = session.get(LabSession, session_id)
            if row is None:
                return
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = _now()
        if "status" in fields:
            self.events.publish(session_id, "status", status=fields["status"])

    def _end(
        self,
        session_id: str,
        status: str,
        *,
        outcome: str | None,
        **fields: Any,
    ) -> str:
        if outcome:
            LAB_SESSIONS.labels(outcome=outcome).inc()
        try:
            self._mark(
                session_id, status=status, finished_at=_now(), question=None, **fields
            )
        except OmcError as exc:
            logger.error("lab session end not recorded", extra={"error": str(exc)})
        logger.info("lab session ended", extra={"status": status})
        return status

    @contextmanager
    def _heartbeat(self, session_id: str) -> Iterator[None]:
        key, token = heartbeat_key(session_id), uuid.uuid4().hex
        ttl_s = self.settings.lab_heartbeat_ttl_s
        stop = threading.Event()
        self.store.set(key, token, ttl_s=ttl_s)

        def beat() -> None:
            # Four beats per TTL: a slow beat or two never looks like a dead worker.
            while not stop.wait(ttl_s / 4):
                try:
                    self.store.set(key, token, ttl_s=ttl_s)
                except OmcError as exc:
                    logger.warning("lab heartbeat missed", extra={"error": str(exc)})

        thread = threading.Thread(
            target=beat, name=f"heartbeat-{session_id}", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.store.delete_if_equal(key, token)

    def stalled_sessions(self) -> list[str]:
        """Running sessions whose worker stopped beating: their worker died."""
        with session_scope(self.sessions) as session:
            running = session.scalars(
                select(LabSession.id).where(LabSession.status == "running")
            ).all()
        return [sid for sid in running if self.store.get(heartbeat_key(sid)) is None]

    def expired_sessions(self, now: datetime | None = None) -> list[str]:
        """Sessions that ended longer ago than the retention period."""
        cutoff = (now or _now()) - timedelta(days=self.settings.lab_retention_days)
        with session_scope(self.sessions) as session:
            return list(
                session.scalars(
                    select(LabSession.id).where(
                        LabSession.status.in_(FINISHED_STATUSES),
                        LabSession.finished_at < cutoff,
                    )
                )
            )
