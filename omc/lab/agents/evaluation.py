"""Model evaluation agent: out-of-sample metrics, skill test, backtest, importance."""

from typing import Any

from omc.lab.agents.training import trained
from omc.lab.evaluation import evaluate
from omc.lab.state import LabDeps, LabState, updates

__all__ = ["evaluation_node"]


def evaluation_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Evaluate the candidates and give the verdict."""
    assert state.plan is not None and state.dataset is not None  # noqa: S101
    result = trained(state, deps)
    found = evaluate(
        result,
        state.plan,
        bar_minutes=state.dataset.bar_minutes,
        horizon_bars=state.dataset.horizon_bars,
    )
    return updates(
        evaluation=found,
        verdict=found.verdict,
        messages=[f"evaluation: {found.verdict}: {found.reason}"],
    )
