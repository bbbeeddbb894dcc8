"""Data quality of each collector, read from its run records.

- staleness: an enabled collector with no successful run within
  `STALE_AFTER_CADENCES` cadences (or none ever) is stale;
- completeness: records fetched by the latest finished run over the median fetched
  by the successful runs before it (up to `HISTORY_RUNS`); below 1 means less
  came in than usual;
- malformed share: items skipped as malformed over items fetched in the latest
  finished run; a rising share means the provider's format drifted;
- consecutive failures: failed runs since the last successful one.

A disabled collector is never stale: it is not expected to collect.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from omc.collectors.base import Collector
from omc.collectors.runs import RUNNING, STATUSES
from omc.db.models import CollectorRun

__all__ = ["HISTORY_RUNS", "STALE_AFTER_CADENCES", "CollectorQuality", "assess"]

STALE_AFTER_CADENCES = 3
HISTORY_RUNS = 10


@dataclass(frozen=True)
class CollectorQuality:
    """The state and data quality of one collector at one moment."""

    collector: str
    cadence_s: int
    disabled_reason: str | None
    last_run: CollectorRun | None
    last_finished: CollectorRun | None
    last_success_at: datetime | None
    stale: bool
    consecutive_failures: int
    completeness_ratio: float | None
    malformed_ratio: float | None
    runs_by_status: dict[str, int]

    @property
    def last_run_duration_s(self) -> float | None:
        """How long the latest finished run took."""
        run = self.last_finished
        if run is None or run.finished_at is None:
            return None
        return (run.finished_at - run.started_at).total_seconds()


def assess(
    session: Session, collector: Collector, *, now: datetime
) -> CollectorQuality:
    """Read the collector's run records and judge its freshness and data quality.

    The runs it returns stay usable after the session closes only if the session
    does not expire them (the API's sessions do not).
    """
    name = collector.name
    newest_first = select(CollectorRun).where(CollectorRun.collector == name)
    newest_first = newest_first.order_by(
        CollectorRun.started_at.desc(), CollectorRun.id.desc()
    )
    last_run = session.scalars(newest_first.limit(1)).first()
    last_finished = session.scalars(
        newest_first.where(CollectorRun.status != RUNNING).limit(1)
    ).first()
    last_success = session.scalars(
        newest_first.where(CollectorRun.status == "ok").limit(1)
    ).first()
    history = _fetched_before(session, name, last_finished)
    failures = _failures_since(session, name, last_success)
    counts = dict(
        session.execute(
            select(CollectorRun.status, func.count())
            .where(CollectorRun.collector == name)
            .group_by(CollectorRun.status)
        ).all()
    )

    reason = collector.disabled_reason()
    last_success_at = None if last_success is None else last_success.finished_at
    window = timedelta(seconds=collector.cadence_s * STALE_AFTER_CADENCES)
    stale = reason is None and (
        last_success_at is None or now - last_success_at > window
    )
    return CollectorQuality(
        collector=name,
        cadence_s=collector.cadence_s,
        disabled_reason=reason,
        last_run=last_run,
        last_finished=last_finished,
        last_success_at=last_success_at,
        stale=stale,
        consecutive_failures=failures,
        completeness_ratio=_completeness(last_finished, history),
        malformed_ratio=_malformed(last_finished),
        runs_by_status={status: int(counts.get(status, 0)) for status in STATUSES},
    )


def _fetched_before(session: Session, name: str, run: CollectorRun | None) -> list[int]:
    if run is None:
        return []
    query = (
        select(CollectorRun.fetched)
        .where(
            CollectorRun.collector == name,
            CollectorRun.status == "ok",
            CollectorRun.id != run.id,
            CollectorRun.started_at <= run.started_at,
        )
        .order_by(CollectorRun.started_at.desc(), CollectorRun.id.desc())
        .limit(HISTORY_RUNS)
    )
    return list(session.scalars(query))


def _failures_since(session: Session, name: str, success: CollectorRun | None) -> int:
    query = select(func.count()).where(
        CollectorRun.collector == name, CollectorRun.status == "failed"
    )
    if success is not None:
        query = query.where(CollectorRun.started_at > success.started_at)
    return int(session.scalar(query) or 0)


def _completeness(run: CollectorRun | None, history: list[int]) -> float | None:
    if run is None or not history:
        return None
    usual = statistics.median(history)
    if usual == 0:
        return 1.0 if run.fetched == 0 else None
    return run.fetched / usual


def _malformed(run: CollectorRun | None) -> float | None:
    if run is None or run.fetched == 0:
        return None
    return run.skipped / run.fetched
