"""`omc up` as a new user starts it: a real process answering on a real port."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG_URL, TEST_JWT_SECRET

STARTUP_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_up(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603  (our own command)
        [sys.executable, "-m", "omc", "up", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(process: subprocess.Popen[str], client: httpx.Client) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    pytest.fail(f"omc up did not answer /health within {STARTUP_TIMEOUT_S} s")


@pytest.fixture
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def test_up_with_no_settings_serves_health_ready_and_a_worker(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    port = free_port()
    env = {"OMC_DATA_DIR": str(tmp_path / "data")}
    process = start_up(env, port)
    stop.append(process)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        wait_healthy(process, client)
        ready = client.get("/ready").json()

    assert ready["status"] == "ready"
    assert (tmp_path / "data" / "omc.db").exists()
    ping = subprocess.run(
        [sys.executable, "-m", "omc", "queue", "ping"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ping.returncode == 0, ping.stderr


def test_up_on_postgres_and_redis_reports_readiness_truthfully(
    tmp_path: Path, stop: list[subprocess.Popen[str]], pg: object, redis_url: str
) -> None:
    port = free_port()
    redis_port = free_port()
    redis_server = subprocess.Popen(  # noqa: S603  (a throwaway Redis to stop mid-test)
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    stop.append(redis_server)  # type: ignore[arg-type]
    env = {
        "OMC_DATA_DIR": str(tmp_path / "data"),
        "OMC_DATABASE_URL": PG_URL,
        "OMC_REDIS_URL": f"redis://127.0.0.1:{redis_port}",
        "OMC_JWT_SECRET": TEST_JWT_SECRET,
    }
    process = start_up(env, port)
    stop.append(process)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        wait_healthy(process, client)
        ready_before = client.get("/ready")
        redis_server.terminate()
        redis_server.wait(timeout=10)
        ready_after = client.get("/ready")

    assert ready_before.status_code == 200
    assert ready_after.status_code == 503
    assert ready_after.json()["failing"] == ["redis"]
    assert not (tmp_path / "data" / "omc.db").exists()
