"""A real Prometheus server scrapes a running `omc api` and sees what it serves.

Both run as subprocesses on loopback: the API in embedded mode (SQLite and an
in-process cache in a temporary folder), Prometheus with a one-second scrape
interval and the compose stack's job name.
"""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.conftest import require_tool

START_TIMEOUT_S = 30.0
SCRAPE_TIMEOUT_S = 20.0
OMC = Path(sys.executable).with_name("omc")


@dataclass(frozen=True)
class Api:
    """A running `omc api`: its URL and the environment it was started with."""

    url: str
    env: dict[str, str]


@dataclass(frozen=True)
class Series:
    """One series to compare between the app's /metrics and Prometheus."""

    name: str
    labels: dict[str, str]
    prepare: Callable[[Api], None] = field(default=lambda _api: None)


def _hit_health(api: Api) -> None:
    for _ in range(5):
        httpx.get(f"{api.url}/health").raise_for_status()


def _collect_cryptopanic(api: Api) -> None:
    # Without a token the collector records a `disabled` run: no network needed.
    subprocess.run(  # noqa: S603 - the project's own command
        [str(OMC), "collect", "cryptopanic"],
        env=api.env,
        check=True,
        capture_output=True,
    )


# Each entry: the app is prepared (requests made, runs recorded), then the value
# the app serves must be the value Prometheus returns. Collector metrics come from
# the run records, so a run made by another process (`omc collect`) shows up too.
SERIES = [
    Series(
        "omc_http_requests_total",
        {"method": "GET", "route": "/health", "status": "200"},
        prepare=_hit_health,
    ),
    Series(
        "omc_http_request_duration_seconds_count",
        {"method": "GET", "route": "/health"},
        prepare=_hit_health,
    ),
    Series(
        "omc_collector_runs_total",
        {"collector": "cryptopanic", "status": "disabled"},
        prepare=_collect_cryptopanic,
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(check: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `check` until it holds; False when the time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """Base URL of an `omc api` process in embedded mode."""
    port = _free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("OMC_")
    }
    env |= {
        "OMC_DATA_DIR": str(tmp_path / "omc"),
        "OMC_API_HOST": "127.0.0.1",
        "OMC_API_PORT": str(port),
        "OMC_LOG_FORMAT": "json",
    }
    log = (tmp_path / "api.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - the project's own command
        [str(OMC), "api"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not _wait_until(
            lambda: httpx.get(f"{url}/health").status_code == 200, START_TIMEOUT_S
        ):
            pytest.fail(
                f"omc api did not answer /health within {START_TIMEOUT_S:g} s:\n"
                + _log_tail(tmp_path / "api.log"),
                pytrace=False,
            )
        yield Api(url=url, env=env)
    finally:
        _stop(process, log)


@pytest.fixture
def prometheus_url(tmp_path: Path, api: Api) -> Iterator[str]:
    """Base URL of a Prometheus server scraping the API every second."""
    prometheus = require_tool("prometheus")
    port = _free_port()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {
                "job_name": "omc-api",
                "static_configs": [{"targets": [api.url.removeprefix("http://")]}],
            }
        ],
    }
    config_path = tmp_path / "prometheus.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    log = (tmp_path / "prometheus.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed tool, temporary files
        [
            prometheus,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not _wait_until(
            lambda: httpx.get(f"{url}/-/ready").status_code == 200, START_TIMEOUT_S
        ):
            pytest.fail(
                f"prometheus was not ready within {START_TIMEOUT_S:g} s:\n"
                + _log_tail(tmp_path / "prometheus.log"),
                pytrace=False,
            )
        yield url
    finally:
        _stop(process, log)


def _app_value(api_url: str, series: Series) -> float:
    text = httpx.get(f"{api_url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == series.name and sample.labels == series.labels:
                return float(sample.value)
    pytest.fail(f"{series.name}{series.labels} not in the app's /metrics")


def _prometheus_values(prometheus_url: str, series: Series) -> list[float]:
    matchers = ",".join(f'{key}="{value}"' for key, value in series.labels.items())
    response = httpx.get(
        f"{prometheus_url}/api/v1/query",
        params={"query": f'{series.name}{{job="omc-api",{matchers}}}'},
    )
    response.raise_for_status()
    return [float(r["value"][1]) for r in response.json()["data"]["result"]]


def test_prometheus_stores_what_the_api_serves(api: Api, prometheus_url: str) -> None:
    for series in SERIES:
        series.prepare(api)
    expected = {series.name: _app_value(api.url, series) for series in SERIES}
    seen: dict[str, list[float]] = {}

    def scraped_all() -> bool:
        for series in SERIES:
            seen[series.name] = _prometheus_values(prometheus_url, series)
        return all(seen[name] == [value] for name, value in expected.items())

    assert _wait_until(scraped_all, SCRAPE_TIMEOUT_S), (
        f"the app served {expected}; prometheus had {seen}"
    )
    assert expected["omc_http_requests_total"] >= 5
    assert expected["omc_collector_runs_total"] == 1
