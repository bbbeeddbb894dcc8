"""The one state model a Lab session's graph reads and writes.

Nodes return partial updates made JSON-ready with `updates()`, so checkpoints hold
plain values; the graph validates them back into these types when a node reads.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from omc.lab.analysis import Analysis
from omc.lab.artifacts import ArtifactManifest
from omc.lab.data import DataQuality, DatasetRef, InsufficientData
from omc.lab.errors import LabError
from omc.lab.evaluation import Evaluation
from omc.lab.plan import Plan, PlanOutcome
from omc.lab.planner import plan_goal
from omc.lab.workspace import Workspace
from omc.settings import Settings

__all__ = [
    "Candidate",
    "LabDeps",
    "LabState",
    "ReportRef",
    "Status",
    "required",
    "updates",
]

T = TypeVar("T")
Status = Literal["planning", "running", "needs_data", "done", "failed"]


class Candidate(BaseModel):
    """One trained candidate: its family, parameters and fit time."""

    name: str
    role: Literal["baseline", "model"]
    params: dict[str, Any] = Field(default_factory=dict)
    fit_s: float = 0.0


class ReportRef(BaseModel):
    """The report of a session and where its artifacts are."""

    markdown: str
    artifacts: ArtifactManifest


class LabState(BaseModel):
    """Goal, plan, data, features, candidates, evaluation, report and progress."""

    session_id: str
    goal: str
    now: datetime = Field(default_factory=lambda: datetime.now(UTC))
    plan: Plan | None = None
    dataset: DatasetRef | None = None
    quality: DataQuality | None = None
    insufficient: InsufficientData | None = None
    analysis: Analysis | None = None
    features: list[str] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    search_approved: bool | None = None
    evaluation: Evaluation | None = None
    verdict: Literal["skill", "no_skill"] | None = None
    report: ReportRef | None = None
    messages: Annotated[list[str], operator.add] = Field(default_factory=list)
    status: Status = "planning"


def required(value: T | None, name: str) -> T:
    """A state field a node needs; its absence means the graph routed too early."""
    if value is None:
        raise LabError(
            f"state field {name!r} is not set yet; this is a bug in the graph"
        )
    return value


def updates(**fields: object) -> dict[str, Any]:
    """A node's update with models turned into JSON-ready values for checkpoints."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, BaseModel):
            out[name] = value.model_dump(mode="json")
        elif isinstance(value, list):
            out[name] = [
                item.model_dump(mode="json") if isinstance(item, BaseModel) else item
                for item in value
            ]
        else:
            out[name] = value
    return out


@dataclass
class LabDeps:
    """Collaborators the nodes use; the edges that run sessions build one."""

    engine: Engine
    settings: Settings
    planner: Callable[[str], PlanOutcome] = plan_goal
    workspace: Workspace = field(default_factory=Workspace)
