"""Run records: one row of `collectors.collector_runs` per run of a collector.

A run row is inserted `running` when the run starts and finished `ok`, `failed` or
`disabled`. A row left `running` by a process that died (or lost the database) is
closed as failed by the next run of the same collector, which holds the lock and
therefore knows no other run is alive.
"""

from datetime import datetime

from sqlalchemy import Connection, insert, update

from omc.db.models import CollectorRun

__all__ = [
    "RUNNING",
    "STALE_RUN_ERROR",
    "STATUSES",
    "close_stale_runs",
    "finish_run",
    "record_disabled",
    "start_run",
]

RUNNING = "running"
STATUSES = ("ok", "failed", "disabled")
STALE_RUN_ERROR = (
    "the run ended without recording its outcome (its process stopped or lost "
    "the database); closed by the next run"
)
MAX_ERROR_CHARS = 2000


def start_run(conn: Connection, collector: str, *, now: datetime) -> int:
    """Insert a `running` row and return its id."""
    run_id = conn.execute(
        insert(CollectorRun)
        .values(
            collector=collector,
            started_at=now,
            status=RUNNING,
            fetched=0,
            stored=0,
            skipped=0,
        )
        .returning(CollectorRun.id)
    ).scalar_one()
    return int(run_id)


def finish_run(
    conn: Connection,
    run_id: int,
    *,
    status: str,
    now: datetime,
    fetched: int = 0,
    stored: int = 0,
    skipped: int = 0,
    error: str | None = None,
) -> None:
    """Record how a run ended."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {STATUSES}")
    conn.execute(
        update(CollectorRun)
        .where(CollectorRun.id == run_id)
        .values(
            status=status,
            finished_at=now,
            fetched=fetched,
            stored=stored,
            skipped=skipped,
            error=None if error is None else error[:MAX_ERROR_CHARS],
        )
    )


def record_disabled(
    conn: Connection, collector: str, *, reason: str, now: datetime
) -> int:
    """Insert a finished `disabled` row for a collector that cannot run."""
    run_id = conn.execute(
        insert(CollectorRun)
        .values(
            collector=collector,
            started_at=now,
            finished_at=now,
            status="disabled",
            fetched=0,
            stored=0,
            skipped=0,
            error=reason,
        )
        .returning(CollectorRun.id)
    ).scalar_one()
    return int(run_id)


def close_stale_runs(conn: Connection, collector: str, *, now: datetime) -> int:
    """Mark the collector's `running` rows failed; call only while holding its lock."""
    result = conn.execute(
        update(CollectorRun)
        .where(CollectorRun.collector == collector, CollectorRun.status == RUNNING)
        .values(status="failed", finished_at=now, error=STALE_RUN_ERROR)
        .execution_options(preserve_rowcount=True)
    )
    return int(result.rowcount)
