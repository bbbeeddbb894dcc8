"""Lab sessions as the API and the workers see them: rows, limits and events.

A session row (`lab.sessions`) is the record of truth: owner, goal, status, the
pending question, plan, verdict, result and error. Its live event stream is a list in
Redis db 1 (`omc:lab:events:<id>`) that expires with the retention period; the API
replays it to clients and the WebSocket follows it.

Statuses: `queued` → `running` → `waiting` (a question or an approval is pending)
→ `running` ... → one of `done`, `needs_data`, `failed`, `cancelled`.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omc.cache import Store, cache_key
from omc.db.models import LabSession, User, UserRole
from omc.errors import Conflict, NotFound, PermissionDenied, RateLimited

__all__ = [
    "ACTIVE_STATUSES",
    "FINISHED_STATUSES",
    "SessionEvents",
    "create_session",
    "create_session_row",
    "get_session",
    "list_sessions",
    "request_cancel",
]

ACTIVE_STATUSES = frozenset({"queued", "running", "waiting"})
FINISHED_STATUSES = frozenset({"done", "needs_data", "failed", "cancelled"})
MAX_EVENTS = 2000
# A user over the limit waits for one of their sessions to end; a minute is a guess.
LIMIT_RETRY_AFTER_S = 60


def _now() -> datetime:
    return datetime.now(UTC)


def create_session(
    session: Session, owner: User, goal: str, *, max_active: int
) -> LabSession:
    """Add a queued session for `owner`, unless they have `max_active` running already."""
    active = session.scalar(
        select(func.count())
        .select_from(LabSession)
        .where(LabSession.owner_id == owner.id, LabSession.status.in_(ACTIVE_STATUSES))
    )
    if (active or 0) >= max_active:
        raise RateLimited(
            f"you have {active} Lab sessions in progress, the most allowed at once; "
            "wait for one to finish or cancel one",
            retry_after_s=LIMIT_RETRY_AFTER_S,
        )
    return create_session_row(session, owner.id, goal)


def create_session_row(session: Session, owner_id: int, goal: str) -> LabSession:
    """Add a queued session row, without the per-user limit (the CLI's own sessions)."""
    now = _now()
    row = LabSession(
        id=uuid.uuid4().hex,
        owner_id=owner_id,
        goal=goal,
        status="queued",
        cancel_requested=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _can_read_all(user: User) -> bool:
    # Admins manage every session; viewers may read every session but change none.
    return user.role in {UserRole.ADMIN, UserRole.VIEWER}


def list_sessions(
    session: Session, user: User, *, offset: int, limit: int
) -> tuple[list[LabSession], int]:
    """One page of the sessions `user` may see, newest first, and their total."""
    query = select(LabSession)
    if not _can_read_all(user):
        query = query.where(LabSession.owner_id == user.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(LabSession.created_at.desc(), LabSession.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total


def get_session(session: Session, user: User, session_id: str) -> LabSession:
    """A session `user` may see; another user's session is reported as not found."""
    row = session.get(LabSession, session_id)
    if row is None or not (_can_read_all(user) or row.owner_id == user.id):
        raise NotFound(f"no Lab session {session_id}")
    return row


def check_can_change(user: User, row: LabSession) -> None:
    """Only the owner or an admin may answer or cancel a session."""
    if user.role is not UserRole.ADMIN and row.owner_id != user.id:
        raise PermissionDenied("only the owner of a session or an admin may change it")


def request_cancel(session: Session, row: LabSession) -> None:
    """Ask the session to stop; a queued or waiting one stops at once."""
    if row.status in FINISHED_STATUSES:
        raise Conflict(f"session {row.id} has already ended ({row.status})")
    row.cancel_requested = True
    row.updated_at = _now()
    if row.status in {"queued", "waiting"}:
        row.status = "cancelled"
        row.question = None
        row.finished_at = row.updated_at
    session.flush()


@dataclass(frozen=True)
class SessionEvents:
    """The event stream of sessions, in Redis db 1, each list expiring with retention."""

    store: Store
    retention: timedelta

    def key(self, session_id: str) -> str:
        """The Redis key of one session's events."""
        return cache_key("lab", "events", session_id)

    def publish(self, session_id: str, kind: str, **data: Any) -> None:
        """Append one event: its kind, the time and its data."""
        event = {"kind": kind, "time": _now().isoformat(), **data}
        self.store.append(
            self.key(session_id),
            json.dumps(event, default=str),
            ttl_s=int(self.retention.total_seconds()),
            max_items=MAX_EVENTS,
        )

    def read(self, session_id: str, after: int = 0) -> list[dict[str, Any]]:
        """Events from index `after` on, each with its index as `seq`."""
        items = self.store.read_list(self.key(session_id), start=after)
        return [{"seq": after + n, **json.loads(item)} for n, item in enumerate(items)]

    def drop(self, session_id: str) -> None:
        """Forget a session's events."""
        self.store.delete(self.key(session_id))
