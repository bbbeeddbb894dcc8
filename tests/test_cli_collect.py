import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omc.cli import app
from omc.collectors.coinspot import LATEST_PATH
from omc.collectors.defillama import CHAINS_PATH, PROTOCOLS_PATH
from tests.collectors.conftest import FIXTURES
from tests.conftest import PG_URL
from tests.replay import ReplayServer, Reply

SUMMARY_KEYS = {
    "collector",
    "status",
    "fetched",
    "stored",
    "skipped",
    "duration_s",
    "error",
}


class Services:
    """The environment of one `omc` process against the test services."""

    def __init__(self, server: ReplayServer, redis_url: str, data_dir: Path) -> None:
        self.server = server
        self.env = {
            "OMC_DATA_DIR": str(data_dir),
            "OMC_DATABASE_URL": PG_URL,
            "OMC_REDIS_URL": redis_url,
            "OMC_COINSPOT_BASE_URL": server.url,
            "OMC_DEFILLAMA_BASE_URL": server.url,
            "OMC_COLLECTOR_MAX_RETRIES": "1",
            "OMC_COLLECTOR_BACKOFF_BASE_S": "0.01",
            "OMC_LOG_FORMAT": "json",
        }


@pytest.fixture
def services(pg, redis_url: str, tmp_path: Path) -> Iterator[Services]:
    with ReplayServer() as server:
        yield Services(server, redis_url, tmp_path / "data")


@contextmanager
def restored_logging() -> Iterator[None]:
    """Put back the root logger that `omc` commands reconfigure."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def cli(services: Services) -> Iterator[CliRunner]:
    """A CLI runner against the test services."""
    with restored_logging():
        yield CliRunner(env=services.env)


def summaries(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_collect_json_prints_exactly_the_summary_keys(
    services: Services, cli: CliRunner
) -> None:
    services.server.add(LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "latest.json"))

    result = cli.invoke(app, ["collect", "coinspot", "--json"])

    assert result.exit_code == 0, result.stderr
    [line] = summaries(result.stdout)
    assert set(line) == SUMMARY_KEYS
    assert line | {"duration_s": 0} == {
        "collector": "coinspot",
        "status": "ok",
        "fetched": 10,
        "stored": 8,
        "skipped": 2,
        "duration_s": 0,
        "error": None,
    }
    assert isinstance(line["duration_s"], float)


def test_collect_exits_one_when_a_run_failed(
    services: Services, cli: CliRunner
) -> None:
    services.server.add(LATEST_PATH, Reply(status=503))

    result = cli.invoke(app, ["collect", "coinspot", "--json"])

    assert result.exit_code == 1
    [line] = summaries(result.stdout)
    assert (line["status"], line["stored"]) == ("failed", 0)
    assert "HTTP 503" in str(line["error"])


def test_collect_without_json_prints_a_line_per_collector(
    services: Services, cli: CliRunner
) -> None:
    services.server.add(LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "empty.json"))

    result = cli.invoke(app, ["collect", "coinspot"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("coinspot: ok, fetched 0, stored 0, skipped 0 in ")


def test_omc_collect_all_runs_every_collector_in_its_own_process(
    services: Services,
) -> None:
    services.server.add(LATEST_PATH, Reply(status=503))
    services.server.add(CHAINS_PATH, Reply.file(FIXTURES / "defillama" / "chains.json"))
    services.server.add(
        PROTOCOLS_PATH, Reply.file(FIXTURES / "defillama" / "protocols.json")
    )

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from omc.cli import main; main()",
            "collect",
            "all",
            "--json",
        ],
        env={"PATH": os.environ.get("PATH", ""), **services.env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 1
    lines = summaries(result.stdout)
    statuses = {line["collector"]: line["status"] for line in lines}
    assert (statuses["coinspot"], statuses["defillama"]) == ("failed", "ok")
    assert all(set(line) == SUMMARY_KEYS for line in lines)
    assert '"event": "collector run failed"' in result.stderr


def test_collect_of_an_unknown_collector_names_the_known_ones(
    services: Services, cli: CliRunner
) -> None:
    result = cli.invoke(app, ["collect", "nope"])

    assert result.exit_code == 1
    message = str(result.exception)
    assert message.startswith("no collector named 'nope'; known: coinspot, ")


def test_collect_on_a_fresh_embedded_install_creates_the_tables(
    tmp_path: Path,
) -> None:
    with ReplayServer() as server:
        server.add(LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "latest.json"))
        env = {
            "OMC_DATA_DIR": str(tmp_path / "fresh"),
            "OMC_COINSPOT_BASE_URL": server.url,
        }
        with restored_logging():
            result = CliRunner(env=env).invoke(app, ["collect", "coinspot", "--json"])

    assert result.exit_code == 0, result.stderr
    [line] = summaries(result.stdout)
    assert (line["status"], line["stored"]) == ("ok", 8)
