"""Model training agent: baselines and model families, with an approval gate."""

import logging
from typing import Any

from langgraph.types import interrupt

from omc.lab.agents.analysis import model_data
from omc.lab.state import Candidate, LabDeps, LabState, required, updates
from omc.lab.training import TrainingResult, estimate_search_s, train

__all__ = ["trained", "training_node"]

logger = logging.getLogger(__name__)


def training_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Train every candidate; ask first when the search would exceed its budget."""
    plan = required(state.plan, "plan")
    data = model_data(state, deps)
    estimate_s = estimate_search_s(plan, len(data.target))
    approved: bool | None = None
    messages: list[str] = []
    if plan.search and estimate_s > plan.search_budget_s:
        reply = interrupt(
            {
                "kind": "approval",
                "question": f"The search needs about {estimate_s:.0f} s, more than its "
                f"budget of {plan.search_budget_s:.0f} s. Run it anyway?",
                "estimated_s": estimate_s,
                "budget_s": plan.search_budget_s,
            }
        )
        approved = reply is True or str(reply).strip().lower() in {
            "yes",
            "y",
            "true",
            "ok",
        }
        messages.append(f"user: {'approved' if approved else 'declined'} the search")
        plan = (
            plan.model_copy(update={"search_budget_s": estimate_s})
            if approved
            else plan.model_copy(update={"search": False})
        )
    result = train(data, plan, threads=deps.settings.lab_threads)
    deps.workspace.put(state.session_id, "training", result)
    candidates = [
        Candidate(name=name, role=p.role, params=p.params, fit_s=round(p.fit_s, 4))
        for name, p in result.predictions.items()
    ]
    messages.append(
        f"training: {len(candidates)} candidates on {len(result.y_true)} test rows"
    )
    return updates(
        plan=plan, candidates=candidates, search_approved=approved, messages=messages
    )


def trained(state: LabState, deps: LabDeps) -> TrainingResult:
    """The training result from the workspace, or refitted with the chosen parameters."""
    plan = required(state.plan, "plan").model_copy(update={"search": False})
    chosen = {c.name: c.params for c in state.candidates if c.role == "model"}

    def refit() -> TrainingResult:
        logger.info("lab refitting after restart", extra={"session": state.session_id})
        data = model_data(state, deps)
        return train(
            data, plan, threads=deps.settings.lab_threads, chosen_params=chosen
        )

    return deps.workspace.get_or_compute(state.session_id, "training", refit)
