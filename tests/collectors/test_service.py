from omc.cache import CacheRole
from omc.collectors.coinspot import LATEST_PATH
from omc.collectors.registry import collector_names
from omc.collectors.service import RUN_TASK, periodic_jobs
from omc.runtime import Runtime
from omc.scheduler import Scheduler
from omc.settings import Settings
from omc.tasks import register_tasks
from tests.collectors.conftest import FIXTURES, runs_of
from tests.replay import ReplayServer, Reply


def test_every_collector_has_a_periodic_job_on_its_cadence(
    embedded_settings: Settings,
) -> None:
    settings = embedded_settings.model_copy(update={"coinspot_cadence_s": 60})

    jobs = {job.name: job for job in periodic_jobs(settings)}

    assert set(jobs) == {f"collect-{name}" for name in collector_names()}
    coinspot = jobs["collect-coinspot"]
    assert (coinspot.task, coinspot.interval_s, coinspot.kwargs) == (
        RUN_TASK,
        60,
        {"collector": "coinspot"},
    )
    assert jobs["collect-defillama"].interval_s == 3600


def test_the_scheduler_enqueues_one_run_per_collector_per_slot(
    collector_runtime: Runtime,
) -> None:
    register_tasks(collector_runtime)
    scheduler = Scheduler(
        collector_runtime.queue,
        collector_runtime.store(CacheRole.APP),
        periodic_jobs(collector_runtime.settings),
        clock=lambda: 1_000_000.0,
    )

    first = scheduler.tick()
    again = scheduler.tick()

    assert sorted(first) == sorted(f"collect-{name}" for name in collector_names())
    assert again == []
    assert collector_runtime.queue.depth() == len(first)


def test_the_queued_task_runs_the_named_collector(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "latest.json"))
    register_tasks(collector_runtime)
    register_tasks(collector_runtime)
    collector_runtime.queue.huey.immediate = True

    result = collector_runtime.queue.enqueue(RUN_TASK, collector="coinspot")

    summary = result.get()
    assert (summary["collector"], summary["status"], summary["stored"]) == (
        "coinspot",
        "ok",
        8,
    )
    [run] = runs_of(collector_runtime.engine, "coinspot")
    assert run.status == "ok"
