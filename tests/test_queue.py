from collections.abc import Iterator
from pathlib import Path

import pytest

from omc.errors import CacheError
from omc.queue import QueueWorker, TaskQueue, TaskSpec


@pytest.fixture(params=["redis", "sqlite"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> TaskQueue:
    """A queue on real Redis and on the embedded SQLite file."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return TaskQueue.open(redis_url=url, data_dir=tmp_path)


@pytest.fixture
def running_worker(queue: TaskQueue) -> Iterator[QueueWorker]:
    worker = QueueWorker(queue, threads=1)
    worker.start_background()
    yield worker
    worker.stop()


def add(a: int, b: int) -> int:
    return a + b


def test_a_worker_answers_a_ping(queue: TaskQueue, running_worker: QueueWorker) -> None:
    assert queue.ping(timeout_s=10) is True


def test_a_registered_task_runs_on_the_worker_with_its_arguments(
    queue: TaskQueue, running_worker: QueueWorker
) -> None:
    queue.register(TaskSpec("test.add", add))

    result = queue.enqueue("test.add", a=2, b=3)

    assert result.get(blocking=True, timeout=10) == 5


def test_ping_without_a_worker_times_out_false(queue: TaskQueue) -> None:
    assert queue.ping(timeout_s=0.5) is False


def test_depth_counts_waiting_tasks(queue: TaskQueue) -> None:
    queue.register(TaskSpec("test.add", add))
    queue.enqueue("test.add", a=1, b=1)
    queue.enqueue("test.add", a=1, b=2)

    assert queue.depth() == 2


def test_registering_a_name_twice_is_refused(queue: TaskQueue) -> None:
    queue.register(TaskSpec("test.add", add))

    with pytest.raises(ValueError, match="registered twice"):
        queue.register(TaskSpec("test.add", add))


def test_enqueueing_an_unknown_task_is_refused(queue: TaskQueue) -> None:
    with pytest.raises(ValueError, match="unknown task"):
        queue.enqueue("test.nothing")


def test_an_unreachable_redis_queue_raises_cache_error(tmp_path: Path) -> None:
    queue = TaskQueue.open(redis_url="redis://127.0.0.1:1", data_dir=tmp_path)

    with pytest.raises(CacheError, match="task queue unreachable"):
        queue.enqueue("queue.ping")
    with pytest.raises(CacheError):
        queue.depth()
