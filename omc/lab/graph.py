"""The Lab graph: planning, then retrieval, analysis, training, evaluation, reporting.

`build_lab_graph` compiles the graph around collaborators (`lab_deps(runtime)` builds
them) and a checkpointer chosen by the caller (PostgreSQL in production, SQLite when
embedded). `start_session` and
`resume_session` stream its events; a session whose process died resumes from its
last checkpoint by calling `resume_session` with no answer on a fresh graph.
"""

import logging
import time
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from omc.cache import CacheRole
from omc.lab.agents.analysis import analysis_node
from omc.lab.agents.evaluation import evaluation_node
from omc.lab.agents.planning import plan_node
from omc.lab.agents.reporting import reporting_node
from omc.lab.agents.retrieval import retrieval_node
from omc.lab.agents.training import training_node
from omc.lab.errors import LabError
from omc.lab.llm import make_planner
from omc.lab.state import LabDeps, LabState
from omc.logs import bind_context
from omc.metrics import LAB_NODE_SECONDS, LAB_SESSIONS_ACTIVE
from omc.runtime import Runtime

__all__ = [
    "LabGraph",
    "build_lab_graph",
    "lab_deps",
    "read_state",
    "resume_session",
    "session_config",
    "start_session",
]

logger = logging.getLogger(__name__)

LabGraph = CompiledStateGraph[LabState, None, LabState, LabState]
NodeFn = Callable[[LabState, LabDeps], dict[str, Any]]
NODES: tuple[tuple[str, NodeFn], ...] = (
    ("planning", plan_node),
    ("data_retrieval", retrieval_node),
    ("data_analysis", analysis_node),
    ("model_training", training_node),
    ("model_evaluation", evaluation_node),
    ("reporting", reporting_node),
)


class _BoundNode(Protocol):
    def __call__(self, state: LabState) -> dict[str, Any]: ...


def _timed(name: str, node: NodeFn, deps: LabDeps) -> _BoundNode:
    def run(state: LabState) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            with bind_context(lab_session=state.session_id, lab_node=name):
                return node(state, deps)
        finally:
            duration_s = time.perf_counter() - started
            LAB_NODE_SECONDS.labels(node=name).observe(duration_s)
            logger.info(
                "lab node finished",
                extra={
                    "node": name,
                    "session": state.session_id,
                    "duration_s": duration_s,
                },
            )

    run.__name__ = name
    return run


def _after_planning(state: LabState) -> str:
    return "data_retrieval" if state.plan is not None else END


def _after_retrieval(state: LabState) -> str:
    return "data_analysis" if state.insufficient is None else END


def lab_deps(runtime: Runtime) -> LabDeps:
    """Collaborators from a process runtime: its engine, settings and LLM cache."""
    settings = runtime.settings
    return LabDeps(
        engine=runtime.engine,
        settings=settings,
        planner=make_planner(settings, runtime.store(CacheRole.APP)),
    )


def build_lab_graph(deps: LabDeps, checkpointer: BaseCheckpointSaver[Any]) -> LabGraph:
    """Compile the Lab graph around its collaborators and a checkpointer."""
    graph = StateGraph(LabState)
    for name, node in NODES:
        graph.add_node(name, _timed(name, node, deps))
    graph.add_edge(START, "planning")
    graph.add_conditional_edges("planning", _after_planning, ["data_retrieval", END])
    graph.add_conditional_edges(
        "data_retrieval", _after_retrieval, ["data_analysis", END]
    )
    graph.add_edge("data_analysis", "model_training")
    graph.add_edge("model_training", "model_evaluation")
    graph.add_edge("model_evaluation", "reporting")
    graph.add_edge("reporting", END)
    return graph.compile(checkpointer=checkpointer)


def session_config(session_id: str) -> RunnableConfig:
    """The run configuration that ties graph checkpoints to one session."""
    return {"configurable": {"thread_id": session_id}}


def _stream(graph: LabGraph, value: Any, session_id: str) -> Generator[dict[str, Any]]:
    LAB_SESSIONS_ACTIVE.inc()
    try:
        # Sync durability: each checkpoint is written before the next node starts, so
        # a killed worker loses at most the node it was running.
        yield from graph.stream(
            value, session_config(session_id), stream_mode="updates", durability="sync"
        )
    finally:
        LAB_SESSIONS_ACTIVE.dec()


def start_session(
    graph: LabGraph, session_id: str, goal: str, *, now: datetime | None = None
) -> Generator[dict[str, Any]]:
    """Run a new session; yields each node's update, or `__interrupt__` with a question.

    Args:
        now: the end of the data window; the current time when not given.
    """
    initial = LabState(session_id=session_id, goal=goal)
    if now is not None:
        initial = initial.model_copy(update={"now": now})
    return _stream(graph, initial.model_dump(mode="json"), session_id)


def resume_session(
    graph: LabGraph, session_id: str, answer: object = None
) -> Generator[dict[str, Any]]:
    """Continue a session from its last checkpoint.

    Args:
        answer: the user's reply when the session waits at a question; None to go on
            after the worker running it stopped.

    Raises:
        LabError: the session waits for an answer and none was given.
    """
    waiting = _is_waiting(graph, session_id)
    if waiting and answer is None:
        raise LabError(
            f"session {session_id} is waiting for the user's answer; resume it with one"
        )
    value: Any = Command(resume=answer) if waiting else None
    return _stream(graph, value, session_id)


def _is_waiting(graph: LabGraph, session_id: str) -> bool:
    snapshot = graph.get_state(session_config(session_id))
    return any(task.interrupts for task in snapshot.tasks)


def read_state(graph: LabGraph, session_id: str) -> LabState:
    """The session's latest checkpointed state as the typed model."""
    snapshot = graph.get_state(session_config(session_id))
    return LabState.model_validate(snapshot.values)
