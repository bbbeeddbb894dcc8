"""Planning: the goal becomes a typed plan, asking the user when it is unclear."""

import logging
from typing import Any

from langgraph.types import interrupt

from omc.lab.plan import Clarification
from omc.lab.state import LabDeps, LabState, updates

__all__ = ["MAX_QUESTIONS", "plan_node"]

logger = logging.getLogger(__name__)

MAX_QUESTIONS = 3


def plan_node(state: LabState, deps: LabDeps) -> dict[str, Any]:
    """Plan the session; interrupt with a question while the coin or target is missing."""
    text = state.goal
    messages: list[str] = []
    outcome = deps.planner(text)
    for _ in range(MAX_QUESTIONS):
        if not isinstance(outcome, Clarification):
            break
        reply = interrupt(
            {
                "kind": "clarification",
                "question": outcome.question,
                "missing": outcome.missing,
            }
        )
        messages += [f"assistant: {outcome.question}", f"user: {reply}"]
        text = f"{text} {reply}"
        outcome = deps.planner(text)
    if isinstance(outcome, Clarification):
        return updates(
            status="failed",
            messages=[
                *messages,
                "assistant: the goal stayed unclear; no plan was made.",
            ],
        )
    logger.info(
        "lab plan made", extra={"session": state.session_id, "coins": outcome.coins}
    )
    return updates(
        plan=outcome,
        status="running",
        messages=[*messages, f"planner: {outcome.model_dump_json()}"],
    )
