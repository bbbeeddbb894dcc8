"""Data analysis agent: features, statistics, stationarity, correlations."""

from typing import Any

from omc.lab.agents.retrieval import loaded_data
from omc.lab.analysis import analyze
from omc.lab.state import LabDeps, LabState, required, updates
from omc.lab.training import ModelData, prepare

__all__ = ["analysis_node", "model_data"]


def model_data(state: LabState, deps: LabDeps) -> ModelData:
    """Features and target of the session, from the workspace or rebuilt."""
    plan, ref = required(state.plan, "plan"), required(state.dataset, "dataset")

    def build() -> ModelData:
        return prepare(loaded_data(state, deps).frame, plan, ref.horizon_bars)

    return deps.workspace.get_or_compute(state.session_id, "model_data", build)


def analysis_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Describe the data and build the leak-free feature table."""
    data = model_data(state, deps)
    close = loaded_data(state, deps).frame["close"].astype(float)
    found = analyze(data, close)
    return updates(
        analysis=found,
        features=data.feature_names,
        messages=[f"analysis: {note}" for note in found.notes],
    )
