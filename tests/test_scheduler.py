import logging
from pathlib import Path

import pytest

from omc.cache import CacheRole, MemoryStore, open_store
from omc.queue import TaskQueue, TaskSpec
from omc.scheduler import PeriodicJob, Scheduler


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def noop() -> None:
    return None


def test_two_schedulers_enqueue_a_job_once_per_interval(
    redis_url: str, tmp_path: Path
) -> None:
    queue = TaskQueue.open(redis_url=redis_url, data_dir=tmp_path)
    queue.register(TaskSpec("test.noop", noop))
    clock = Clock(60.0 * 1000)
    jobs = [PeriodicJob("noop", "test.noop", interval_s=60)]
    schedulers = [
        Scheduler(queue, open_store(redis_url, CacheRole.APP), jobs, clock=clock)
        for _ in range(2)
    ]

    first = [s.tick() for s in schedulers]
    clock.now += 30
    same_slot = [s.tick() for s in schedulers]
    clock.now += 30
    next_slot = [s.tick() for s in schedulers]

    assert first == [["noop"], []]
    assert same_slot == [[], []]
    assert next_slot == [["noop"], []]
    assert queue.depth() == 2


def test_jobs_with_different_intervals_run_on_their_own_cadence(tmp_path: Path) -> None:
    queue = TaskQueue.open(redis_url=None, data_dir=tmp_path)
    queue.register(TaskSpec("test.noop", noop))
    clock = Clock(0.0)
    scheduler = Scheduler(
        queue,
        MemoryStore(CacheRole.APP, clock=clock),
        [PeriodicJob("fast", "test.noop", 10), PeriodicJob("slow", "test.noop", 30)],
        clock=clock,
    )

    runs = []
    for second in range(0, 60, 10):
        clock.now = float(second)
        runs.append(scheduler.tick())

    assert runs == [
        ["fast", "slow"],
        ["fast"],
        ["fast"],
        ["fast", "slow"],
        ["fast"],
        ["fast"],
    ]


def test_an_unreachable_queue_is_logged_and_retried_next_tick(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = TaskQueue.open(redis_url="redis://127.0.0.1:1", data_dir=tmp_path)
    store = MemoryStore(CacheRole.APP)
    scheduler = Scheduler(broken, store, [PeriodicJob("ping", "queue.ping", 60)])

    with caplog.at_level(logging.WARNING, logger="omc.scheduler"):
        assert scheduler.tick() == []

    assert any(r.getMessage() == "job not enqueued" for r in caplog.records)


def test_a_job_that_failed_to_enqueue_is_retried_in_the_same_interval(
    tmp_path: Path,
) -> None:
    clock = Clock(0.0)
    store = MemoryStore(CacheRole.APP, clock=clock)
    jobs = [PeriodicJob("noop", "test.noop", 60)]
    broken = TaskQueue.open(redis_url="redis://127.0.0.1:1", data_dir=tmp_path / "a")
    broken.register(TaskSpec("test.noop", noop))
    working = TaskQueue.open(redis_url=None, data_dir=tmp_path / "b")
    working.register(TaskSpec("test.noop", noop))

    assert Scheduler(broken, store, jobs, clock=clock).tick() == []
    clock.now += 1
    assert Scheduler(working, store, jobs, clock=clock).tick() == ["noop"]
