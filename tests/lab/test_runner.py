"""Sessions on workers: how they end, stop, recover and are pruned."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pytest
from pydantic import SecretStr

from omc.cache import CacheRole, open_store
from omc.db.engine import session_scope
from omc.db.models import LabSession
from omc.lab import service
from omc.lab.checkpoints import open_checkpointer
from omc.lab.plan import PlanOutcome
from omc.lab.planner import plan_goal
from omc.lab.runner import SessionRunner, heartbeat_key
from omc.lab.sessions import SessionEvents, create_session_row, request_cancel
from omc.lab.state import LabDeps
from omc.metrics import REGISTRY
from omc.queue import QueueWorker
from omc.runtime import Runtime
from omc.settings import Settings
from tests.conftest import PG_URL, TEST_JWT_SECRET
from tests.lab.synth import seed_recent_market

GOAL = "Will BTC go up over the next hour? Use the last 40 days of prices and news."


def new_session(runtime: Runtime, goal: str = GOAL) -> str:
    with session_scope(runtime.sessions) as session:
        return create_session_row(session, 0, goal).id


def row(runtime: Runtime, session_id: str) -> LabSession:
    with session_scope(runtime.sessions) as session:
        found = session.get(LabSession, session_id)
        assert found is not None
        return found


def node_events(runtime: Runtime, session_id: str) -> list[str]:
    events = service.events_for(runtime).read(session_id)
    return [e["node"] for e in events if e["kind"] == "node"]


def runner_with(
    runtime: Runtime,
    *,
    planner: Callable[[str], PlanOutcome] = plan_goal,
    settings: Settings | None = None,
    redis_url: str | None = None,
) -> SessionRunner:
    settings = settings or runtime.settings
    store = (
        open_store(redis_url, CacheRole.LAB)
        if redis_url
        else runtime.store(CacheRole.LAB)
    )
    return SessionRunner(
        sessions=runtime.sessions,
        settings=settings,
        store=store,
        events=SessionEvents(store, timedelta(days=1)),
        deps=LabDeps(engine=runtime.engine, settings=settings, planner=planner),
    )


def test_a_session_runs_to_its_verdict_and_records_the_result(runtime: Runtime) -> None:
    seed_recent_market(runtime, strength=0.8)
    session_id = new_session(runtime)

    status = service.runner_for(runtime).run(session_id)

    ended = row(runtime, session_id)
    assert status == ended.status == "done"
    assert ended.verdict == "skill"
    assert (
        ended.result is not None
        and ended.result["best_model"] != ended.result["baseline"]
    )
    assert ended.plan is not None and ended.plan["coins"] == ["BTC"]
    assert node_events(runtime, session_id)[-1] == "reporting"


def test_a_question_parks_the_session_and_the_answer_resumes_it(
    runtime: Runtime,
) -> None:
    seed_recent_market(runtime)
    session_id = new_session(runtime, "will it go up over the next hour, last 40 days?")
    runner = service.runner_for(runtime)

    first = runner.run(session_id)
    waiting = row(runtime, session_id)
    second = runner.run(session_id, "BTC")

    assert first == "waiting"
    assert waiting.question is not None and waiting.question["kind"] == "clarification"
    assert second == "done"
    assert row(runtime, session_id).question is None
    assert node_events(runtime, session_id).count("planning") == 1


def test_cancel_stops_the_session_after_the_current_node(runtime: Runtime) -> None:
    seed_recent_market(runtime)
    session_id = new_session(runtime)

    def plan_then_cancel(goal: str) -> PlanOutcome:
        with session_scope(runtime.sessions) as session:
            request_cancel(session, session.get(LabSession, session_id))  # type: ignore[arg-type]
        return plan_goal(goal)

    status = runner_with(runtime, planner=plan_then_cancel).run(session_id)

    assert status == row(runtime, session_id).status == "cancelled"
    assert node_events(runtime, session_id) == ["planning"]


def test_an_unreachable_checkpoint_store_fails_the_session_with_the_reason(
    pg_settings: Settings, tmp_path: Path
) -> None:
    runtime = Runtime.build(pg_settings)
    session_id = new_session(runtime)
    closed = pg_settings.model_copy(
        update={
            "database_url": SecretStr("postgresql+psycopg://postgres@127.0.0.1:1/test")
        }
    )
    try:
        status = runner_with(runtime, settings=closed).run(session_id)
        ended = row(runtime, session_id)
    finally:
        runtime.close()

    assert status == ended.status == "failed"
    assert ended.error == "checkpoint store unreachable: OperationalError"


def outcomes(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("omc_lab_sessions_total", {"outcome": outcome}) or 0.0
    )


def test_a_crashing_node_fails_the_session_once_with_the_reason(
    runtime: Runtime,
) -> None:
    def broken_planner(goal: str) -> PlanOutcome:
        raise RuntimeError("planner exploded")

    session_id = new_session(runtime)
    failed = outcomes("failed")

    status = runner_with(runtime, planner=broken_planner).run(session_id)

    assert status == "failed"
    assert row(runtime, session_id).error == "RuntimeError: planner exploded"
    assert outcomes("failed") == failed + 1


def test_every_ending_is_counted_once_by_outcome(runtime: Runtime) -> None:
    seed_recent_market(runtime, strength=0.8)
    session_id = new_session(runtime)
    skill = outcomes("skill")

    service.runner_for(runtime).run(session_id)

    assert outcomes("skill") == skill + 1


def test_unreachable_redis_fails_the_session_with_the_reason(runtime: Runtime) -> None:
    session_id = new_session(runtime)

    status = runner_with(runtime, redis_url="redis://127.0.0.1:1").run(session_id)

    ended = row(runtime, session_id)
    assert status == ended.status == "failed"
    assert ended.error is not None and "Redis db 1 (lab) failed" in ended.error


def test_sessions_older_than_retention_are_pruned_with_all_they_left(
    runtime: Runtime,
) -> None:
    seed_recent_market(runtime)
    old, recent = new_session(runtime), new_session(runtime)
    runner = service.runner_for(runtime)
    runner.run(old)
    runner.run(recent)
    location = row(runtime, old).result["artifacts"]["location"]  # type: ignore[index]
    with session_scope(runtime.sessions) as session:
        expired = session.get(LabSession, old)
        assert expired is not None
        expired.finished_at = datetime.now(UTC) - timedelta(days=31)

    pruned = service.prune_sessions(runtime)

    fs, root = fsspec.core.url_to_fs(location)
    assert pruned == [old]
    with session_scope(runtime.sessions) as session:
        assert session.get(LabSession, old) is None
        assert session.get(LabSession, recent) is not None
    assert not fs.exists(root)
    assert service.events_for(runtime).read(old) == []
    with open_checkpointer(runtime.settings) as saver:
        assert saver.get_tuple({"configurable": {"thread_id": old}}) is None
        assert saver.get_tuple({"configurable": {"thread_id": recent}}) is not None


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "OMC_DATA_DIR": str(settings.data_dir),
        "OMC_DATABASE_URL": PG_URL,
        "OMC_REDIS_URL": settings.redis_url.get_secret_value(),  # type: ignore[union-attr]
        "OMC_JWT_SECRET": TEST_JWT_SECRET,
        "OMC_METRICS_PORT": "0",
        "OMC_LAB_HEARTBEAT_TTL_S": "2",
        "OMC_LOG_LEVEL": "WARNING",
    }


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_session_whose_worker_was_killed_resumes_from_its_checkpoint(
    pg_settings: Settings,
) -> None:
    settings = pg_settings.model_copy(update={"lab_heartbeat_ttl_s": 2})
    runtime = Runtime.build(settings)
    service.register_tasks(runtime)
    seed_recent_market(runtime, days=120, strength=0.8)
    session_id = new_session(runtime)
    worker = subprocess.Popen(
        [sys.executable, "-m", "omc", "worker"], env=worker_env(settings)
    )
    try:
        service.enqueue_run(runtime, session_id)
        wait_for(
            lambda: "data_analysis" in node_events(runtime, session_id),
            120,
            "the worker to finish the analysis",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = node_events(runtime, session_id)
        assert row(runtime, session_id).status == "running"
        wait_for(
            lambda: runtime.store(CacheRole.LAB).get(heartbeat_key(session_id)) is None,
            10,
            "the dead worker's heartbeat to expire",
        )

        assert service.recover_sessions(runtime) == [session_id]
        replacement = QueueWorker(runtime.queue, threads=1)
        replacement.start_background()
        try:
            wait_for(
                lambda: row(runtime, session_id).status == "done",
                180,
                "the session to finish on the second worker",
            )
        finally:
            replacement.stop()
        nodes = node_events(runtime, session_id)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        runtime.close()

    assert "reporting" not in killed_at
    assert nodes.count("planning") == 1 and nodes.count("data_analysis") == 1
    assert nodes[-1] == "reporting"
