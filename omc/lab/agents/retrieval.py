"""Data retrieval agent: load the plan's window with a quality summary."""

from typing import Any

from omc.lab.data import InsufficientData, LoadedData, load_frame, retrieve
from omc.lab.state import LabDeps, LabState, required, updates

__all__ = ["loaded_data", "retrieval_node"]


def retrieval_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Load the data, or stop the session saying how much more is needed."""
    outcome = retrieve(deps.engine, required(state.plan, "plan"), state.now)
    if isinstance(outcome, InsufficientData):
        return updates(
            insufficient=outcome,
            status="needs_data",
            messages=[f"data: {outcome.message}"],
        )
    deps.workspace.put(state.session_id, "loaded", outcome)
    quality = outcome.quality
    note = (
        f"data: {quality.price_rows} priced bars over {quality.span_days} days, "
        f"{quality.gaps} gaps, sources {', '.join(quality.sources_present)}"
    )
    return updates(dataset=outcome.ref, quality=quality, messages=[note])


def loaded_data(state: LabState, deps: LabDeps) -> LoadedData:
    """The session's data from the workspace, or read again from its pinned window."""
    ref, quality = (
        required(state.dataset, "dataset"),
        required(state.quality, "quality"),
    )

    def reload() -> LoadedData:
        return LoadedData(load_frame(deps.engine, ref), ref, quality)

    return deps.workspace.get_or_compute(state.session_id, "loaded", reload)
