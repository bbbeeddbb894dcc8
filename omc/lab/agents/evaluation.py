"""Model evaluation agent: out-of-sample metrics, skill test, backtest, importance."""

from typing import Any

from omc.lab.agents.training import trained
from omc.lab.evaluation import evaluate
from omc.lab.state import LabDeps, LabState, required, updates

__all__ = ["evaluation_node"]


def evaluation_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Evaluate the candidates and give the verdict."""
    plan, ref = required(state.plan, "plan"), required(state.dataset, "dataset")
    result = trained(state, deps)
    found = evaluate(
        result, plan, bar_minutes=ref.bar_minutes, horizon_bars=ref.horizon_bars
    )
    return updates(
        evaluation=found,
        verdict=found.verdict,
        messages=[f"evaluation: {found.verdict}: {found.reason}"],
    )
