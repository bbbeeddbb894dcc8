"""The typed plan of a Lab session, and the question asked when a goal is unclear.

A goal in plain words is only ever parsed into a `Plan`; nothing in the goal is run.
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "Clarification",
    "Metric",
    "ModelFamily",
    "Plan",
    "PlanOutcome",
    "Source",
    "TargetKind",
    "horizon_minutes",
]

TargetKind = Literal["direction", "return", "volatility"]
ModelFamily = Literal["linear", "random_forest", "gradient_boosting"]
Source = Literal["prices", "news", "social", "tvl", "filings"]
Metric = Literal["accuracy", "balanced_accuracy", "roc_auc", "log_loss", "mae", "rmse"]

CLASSIFICATION_METRICS = frozenset(
    {"accuracy", "balanced_accuracy", "roc_auc", "log_loss"}
)
REGRESSION_METRICS = frozenset({"mae", "rmse"})
ALL_SOURCES: tuple[Source, ...] = ("prices", "news", "social", "tvl", "filings")
ALL_FAMILIES: tuple[ModelFamily, ...] = ("linear", "random_forest", "gradient_boosting")
_HORIZON = re.compile(r"^(\d+)(m|h|d)$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
MAX_HORIZON_MINUTES = 30 * 1440


def horizon_minutes(horizon: str) -> int:
    """Minutes in a horizon written like `5m`, `1h` or `7d`."""
    match = _HORIZON.match(horizon)
    if match is None:
        raise ValueError(f"horizon {horizon!r} is not like 5m, 1h or 7d")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]


class Plan(BaseModel):
    """What to predict, from which data, with which models, judged how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coins: list[str] = Field(min_length=1, max_length=5)
    target: TargetKind
    horizon: str = Field(default="1h", pattern=r"^\d+(m|h|d)$")
    window_days: int = Field(default=90, ge=1, le=3650)
    sources: list[Source] = Field(default_factory=lambda: list(ALL_SOURCES))
    families: list[ModelFamily] = Field(default_factory=lambda: list(ALL_FAMILIES))
    metric: Metric | None = None
    search: bool = False
    search_budget_s: float = Field(default=60.0, gt=0, le=86_400)
    seed: int = Field(default=7, ge=0)

    @model_validator(mode="after")
    def _check(self) -> "Plan":
        minutes = horizon_minutes(self.horizon)
        if not 1 <= minutes <= MAX_HORIZON_MINUTES:
            raise ValueError(f"horizon {self.horizon} must be between 1m and 30d")
        if any(not re.fullmatch(r"[A-Z0-9]{2,10}", coin) for coin in self.coins):
            raise ValueError("coins must be ticker symbols such as BTC")
        if "prices" not in self.sources:
            raise ValueError("sources must include prices")
        if not self.families:
            raise ValueError("at least one model family is needed")
        if self.metric is not None:
            allowed = (
                CLASSIFICATION_METRICS
                if self.target == "direction"
                else REGRESSION_METRICS
            )
            if self.metric not in allowed:
                raise ValueError(
                    f"metric {self.metric} does not fit target {self.target}; "
                    f"use one of {sorted(allowed)}"
                )
        return self

    @property
    def horizon_min(self) -> int:
        """The horizon in minutes."""
        return horizon_minutes(self.horizon)

    @property
    def main_metric(self) -> str:
        """The metric models are ranked by: the chosen one or the target's default."""
        if self.metric is not None:
            return self.metric
        return "balanced_accuracy" if self.target == "direction" else "mae"

    @property
    def is_classification(self) -> bool:
        """Whether the target is a class (up or not) rather than a number."""
        return self.target == "direction"


class Clarification(BaseModel):
    """A question for the user when the goal lacks something the plan needs."""

    model_config = ConfigDict(frozen=True)

    question: str
    missing: list[Literal["coin", "target"]]


PlanOutcome = Plan | Clarification
