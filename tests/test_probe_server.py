from collections.abc import Iterator

import httpx
import pytest

from omc.db import migrate
from omc.metrics import HTTP_REQUESTS
from omc.probe_server import ProbeServer
from omc.readiness import failing, run_checks
from omc.runtime import Runtime
from omc.settings import Settings


def serve(settings: Settings) -> Iterator[tuple[ProbeServer, Runtime]]:
    runtime = Runtime.build(settings)
    server = ProbeServer("127.0.0.1", 0, ready=lambda: failing(run_checks(runtime)))
    server.start()
    yield server, runtime
    server.stop()
    runtime.close()


@pytest.fixture
def probe(settings: Settings) -> Iterator[tuple[ProbeServer, Runtime]]:
    yield from serve(settings)


@pytest.fixture
def embedded_probe(
    embedded_settings: Settings,
) -> Iterator[tuple[ProbeServer, Runtime]]:
    """On a new embedded database, not migrated yet."""
    yield from serve(embedded_settings)


def get(server: ProbeServer, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=10)


def test_probe_server_answers_health(probe: tuple[ProbeServer, Runtime]) -> None:
    server, _ = probe

    assert get(server, "/health").json() == {"status": "ok"}


def test_probe_server_reports_not_ready_until_migrated(
    embedded_probe: tuple[ProbeServer, Runtime],
) -> None:
    server, runtime = embedded_probe

    before = get(server, "/ready")
    migrate.upgrade(runtime.engine)
    after = get(server, "/ready")

    assert (before.status_code, before.json()["failing"]) == (503, ["migrations"])
    assert (after.status_code, after.json()) == (
        200,
        {"status": "ready", "failing": []},
    )


def test_probe_server_serves_the_process_metrics(
    probe: tuple[ProbeServer, Runtime],
) -> None:
    server, _ = probe
    HTTP_REQUESTS.labels(method="GET", route="/probe-test", status="200").inc()

    body = get(server, "/metrics").text

    assert (
        'omc_http_requests_total{method="GET",route="/probe-test",status="200"}' in body
    )


def test_probe_server_answers_404_elsewhere(probe: tuple[ProbeServer, Runtime]) -> None:
    server, _ = probe

    assert get(server, "/nothing").status_code == 404
