import uuid

import pytest

from omc.lab.artifacts import load_model, read_manifest
from omc.lab.checkpoints import open_checkpointer
from omc.lab.errors import LabError
from omc.lab.graph import (
    build_lab_graph,
    lab_deps,
    read_state,
    resume_session,
    start_session,
)
from omc.lab.planner import plan_goal
from omc.lab.state import LabDeps
from omc.metrics import REGISTRY
from tests.lab.synth import NOW, candles, insert_candles, insert_news_driver

GOAL = "Will BTC go up over the next hour? Use the last 40 days of prices and news."


def _seed_market(runtime, *, strength):
    frame = candles(40 * 24, seed=21, driver_strength=strength)
    insert_candles(runtime, frame)
    insert_news_driver(runtime, frame)


def _run(graph, goal, answers=()):
    session_id = str(uuid.uuid4())
    events = list(start_session(graph, session_id, goal, now=NOW))
    questions = []
    for answer in answers:
        questions.append(events[-1]["__interrupt__"][0].value)
        events = list(resume_session(graph, session_id, answer))
    return session_id, questions, events


def _node_count(node):
    value = REGISTRY.get_sample_value(
        "omc_lab_node_duration_seconds_count", {"node": node}
    )
    return value or 0.0


def test_random_walk_session_ends_without_skill(runtime, lab_graph):
    _seed_market(runtime, strength=0.0)
    before = _node_count("model_training")

    session_id, _, _ = _run(lab_graph, GOAL)

    state = read_state(lab_graph, session_id)
    assert state.status == "done"
    assert state.verdict == "no_skill"
    assert state.report is not None
    assert "Verdict: no_skill" in state.report.markdown
    assert _node_count("model_training") == before + 1
    assert state.quality is not None and "news" in state.quality.sources_present


def test_planted_driver_session_ends_with_skill_and_saved_artifacts(runtime, lab_graph):
    _seed_market(runtime, strength=0.8)

    session_id, _, _ = _run(lab_graph, GOAL)

    state = read_state(lab_graph, session_id)
    assert state.verdict == "skill", state.messages
    assert state.evaluation is not None
    top = [item.feature for item in state.evaluation.importance[:3]]
    assert any(name.startswith("news_sent") for name in top)
    base = runtime.settings.artifacts_location
    manifest = read_manifest(base, session_id)
    assert set(manifest.sha256) == {
        "model.skops",
        "metadata.json",
        "report.md",
        "report.html",
    }
    model = load_model(base, session_id)
    assert hasattr(model, "predict")


def test_goal_without_coin_asks_and_resumes_on_the_reply(runtime, lab_graph):
    _seed_market(runtime, strength=0.0)

    session_id, questions, _ = _run(
        lab_graph,
        "Will it go up over the next hour, last 40 days?",
        answers=["bitcoin"],
    )

    assert questions[0]["kind"] == "clarification"
    assert "coin" in questions[0]["question"]
    state = read_state(lab_graph, session_id)
    assert state.plan is not None and state.plan.coins == ["BTC"]
    assert state.status == "done"
    assert any(message == "user: bitcoin" for message in state.messages)


def test_search_over_budget_waits_for_approval(runtime, lab_graph):
    _seed_market(runtime, strength=0.0)
    goal = GOAL + " Tune hyperparameters with a 1 second search budget."

    session_id, questions, _ = _run(lab_graph, goal, answers=["no"])

    assert questions[0]["kind"] == "approval"
    assert questions[0]["estimated_s"] > questions[0]["budget_s"] == 1.0
    state = read_state(lab_graph, session_id)
    assert state.search_approved is False
    assert state.plan is not None and state.plan.search is False
    assert state.status == "done"


def test_too_little_data_stops_the_session_with_backfill_advice(runtime, lab_graph):
    insert_candles(runtime, candles(30, seed=3))

    session_id, _, _ = _run(lab_graph, GOAL)

    state = read_state(lab_graph, session_id)
    assert state.status == "needs_data"
    assert state.insufficient is not None
    assert (
        "omc backfill ohlcv --exchange binance --symbol BTC/USDT"
        in state.insufficient.message
    )


@pytest.mark.parametrize("stop_after", ["data_analysis", "model_training"])
def test_session_resumes_from_checkpoint_on_a_fresh_graph(
    runtime, lab_graph, stop_after
):
    _seed_market(runtime, strength=0.8)
    session_id = str(uuid.uuid4())
    stream = start_session(lab_graph, session_id, GOAL, now=NOW)
    for event in stream:
        if stop_after in event:
            break
    stream.close()

    with open_checkpointer(runtime.settings) as saver:
        deps = LabDeps(engine=runtime.engine, settings=runtime.settings)
        fresh = build_lab_graph(deps, saver)
        assert read_state(fresh, session_id).status == "running"
        events = list(resume_session(fresh, session_id))
        state = read_state(fresh, session_id)

    assert stop_after not in {name for event in events for name in event}
    assert "reporting" in {name for event in events for name in event}
    assert state.status == "done"
    assert state.verdict == "skill"


def test_a_failing_node_raises_and_leaves_no_session_active(runtime):
    def broken_planner(goal):
        raise RuntimeError("planner exploded")

    active = REGISTRY.get_sample_value("omc_lab_sessions_active") or 0
    with open_checkpointer(runtime.settings) as saver:
        deps = LabDeps(
            engine=runtime.engine, settings=runtime.settings, planner=broken_planner
        )
        graph = build_lab_graph(deps, saver)
        with pytest.raises(RuntimeError, match="exploded"):
            list(start_session(graph, str(uuid.uuid4()), GOAL))

    assert REGISTRY.get_sample_value("omc_lab_sessions_active") == active


def test_runtime_deps_use_the_rule_planner_without_llm_settings(runtime):
    deps = lab_deps(runtime)

    assert deps.planner("Will BTC go up next hour?") == plan_goal(
        "Will BTC go up next hour?"
    )


def test_resuming_a_waiting_session_without_an_answer_is_refused(runtime, lab_graph):
    session_id = str(uuid.uuid4())
    list(start_session(lab_graph, session_id, "Will it go up next hour?"))

    with pytest.raises(LabError, match="waiting for the user's answer"):
        list(resume_session(lab_graph, session_id))


def test_approved_search_runs_and_records_the_chosen_parameters(runtime, lab_graph):
    _seed_market(runtime, strength=0.0)
    goal = GOAL + " Tune hyperparameters with a 1 second search budget."

    session_id, questions, _ = _run(lab_graph, goal, answers=[True])

    state = read_state(lab_graph, session_id)
    assert state.search_approved is True
    assert (
        state.plan is not None
        and state.plan.search_budget_s == questions[0]["estimated_s"]
    )
    tuned = {c.name: c.params for c in state.candidates if c.role == "model"}
    assert tuned["random_forest"].keys() == {"max_depth", "min_samples_leaf"}
    assert state.status == "done"
