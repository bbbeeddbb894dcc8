"""A lock per collector in the database, so that two runs never overlap.

The lock is a row of `collectors.collector_locks`. `acquire_lock` inserts it, or
takes over an existing row only if it has expired, in one atomic upsert; the row
count says whether this holder got it. Any process on any machine that shares the
database sees the same lock, and a holder that died frees it when it expires.
"""

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from omc.db.models import CollectorLock

__all__ = ["acquire_lock", "new_holder_id", "release_lock"]


def new_holder_id() -> str:
    """A holder name unique to this run: host, process and a random part."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire_lock(
    conn: Connection, collector: str, *, holder: str, ttl_s: float, now: datetime
) -> bool:
    """Take the collector's lock until `now + ttl_s`; False if someone else holds it."""
    insert = (
        postgresql.insert(CollectorLock)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(CollectorLock)
    )
    values = {
        "collector": collector,
        "holder": holder,
        "acquired_at": now,
        "expires_at": now + timedelta(seconds=ttl_s),
    }
    statement = (
        insert.values(values)
        .on_conflict_do_update(
            index_elements=[CollectorLock.collector],
            set_={
                "holder": insert.excluded.holder,
                "acquired_at": insert.excluded.acquired_at,
                "expires_at": insert.excluded.expires_at,
            },
            where=CollectorLock.expires_at <= now,
        )
        .execution_options(preserve_rowcount=True)
    )
    return conn.execute(statement).rowcount == 1


def release_lock(conn: Connection, collector: str, *, holder: str) -> bool:
    """Free the lock if `holder` still holds it; return whether it did."""
    result = conn.execute(
        delete(CollectorLock)
        .where(CollectorLock.collector == collector, CollectorLock.holder == holder)
        .execution_options(preserve_rowcount=True)
    )
    return result.rowcount == 1
