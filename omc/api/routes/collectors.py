"""Collectors: status and data quality, run history, and runs on demand."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy import func, select

from omc.api.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep
from omc.api.schemas import MAX_PAGE_SIZE
from omc.collectors.quality import CollectorQuality, assess
from omc.collectors.registry import build_collector, collector_class, collector_names
from omc.collectors.service import RUN_TASK
from omc.db.models import CollectorRun

__all__ = ["router"]

router = APIRouter(prefix="/collectors", tags=["collectors"])


class RunPublic(BaseModel):
    """One run of a collector."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    collector: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    stored: int
    skipped: int
    error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_s(self) -> float | None:
        """Seconds the run took, once finished."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class RunsPublic(BaseModel):
    """One page of runs, newest first, and the total count."""

    data: list[RunPublic]
    count: int


class QualityPublic(BaseModel):
    """Data quality of the latest finished run against recent history."""

    completeness_ratio: float | None
    malformed_ratio: float | None
    consecutive_failures: int


class CollectorPublic(BaseModel):
    """A collector's configuration, latest run, freshness and data quality."""

    name: str
    cadence_s: int
    enabled: bool
    disabled_reason: str | None
    last_run: RunPublic | None
    last_success_at: datetime | None
    stale: bool
    quality: QualityPublic

    @classmethod
    def from_quality(cls, quality: CollectorQuality) -> "CollectorPublic":
        """Build the public view of an assessment."""
        last_run = quality.last_run
        return cls(
            name=quality.collector,
            cadence_s=quality.cadence_s,
            enabled=quality.disabled_reason is None,
            disabled_reason=quality.disabled_reason,
            last_run=None if last_run is None else RunPublic.model_validate(last_run),
            last_success_at=quality.last_success_at,
            stale=quality.stale,
            quality=QualityPublic(
                completeness_ratio=quality.completeness_ratio,
                malformed_ratio=quality.malformed_ratio,
                consecutive_failures=quality.consecutive_failures,
            ),
        )


class CollectorsPublic(BaseModel):
    """Every collector."""

    data: list[CollectorPublic]


class RunQueued(BaseModel):
    """A run handed to the workers."""

    collector: str
    task_id: str
    status: str = "queued"


@router.get("")
def list_collectors(
    _user: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> CollectorsPublic:
    """Every collector with its latest run, last success, staleness and quality."""
    now = datetime.now(UTC)
    qualities = [
        assess(session, build_collector(name, runtime.settings), now=now)
        for name in collector_names()
    ]
    return CollectorsPublic(data=[CollectorPublic.from_quality(q) for q in qualities])


@router.get("/{name}/runs")
def list_runs(
    _user: CurrentUser,
    session: SessionDep,
    name: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> RunsPublic:
    """One page of the collector's runs, newest first."""
    collector_class(name)
    count = session.scalar(select(func.count()).where(CollectorRun.collector == name))
    runs = session.scalars(
        select(CollectorRun)
        .where(CollectorRun.collector == name)
        .order_by(CollectorRun.started_at.desc(), CollectorRun.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return RunsPublic(
        data=[RunPublic.model_validate(run) for run in runs], count=count or 0
    )


@router.post("/{name}/run", status_code=202)
def trigger_run(_admin: AdminUser, runtime: RuntimeDep, name: str) -> RunQueued:
    """Queue a run of the collector now; a worker runs it."""
    collector_class(name)
    result = runtime.queue.enqueue(RUN_TASK, collector=name)
    return RunQueued(collector=name, task_id=str(result.id))
