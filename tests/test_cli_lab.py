"""`omc lab run` as a user runs it, on the embedded install."""

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from omc.db import migrate
from omc.runtime import Runtime
from omc.settings import Settings
from tests.conftest import Outcome
from tests.lab.synth import seed_recent_market

SUMMARY_KEYS = {
    "session_id",
    "status",
    "plan",
    "verdict",
    "best_model",
    "baseline",
    "metrics",
    "report_path",
    "artifacts",
}
UNCLEAR = "will it go up over the next hour? use the last 40 days"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def lab_env(tmp_path: Path) -> dict[str, str]:
    """An embedded install with forty days of BTC candles and news up to now."""
    data_dir = tmp_path / "data"
    runtime = Runtime.build(Settings(_env_file=None, data_dir=data_dir))
    migrate.upgrade(runtime.engine)
    seed_recent_market(runtime, strength=0.8)
    runtime.close()
    return {"OMC_DATA_DIR": str(data_dir), "OMC_LOG_LEVEL": "WARNING"}


def test_lab_run_json_prints_the_summary_with_its_exact_keys(
    omc: Callable[..., Outcome], lab_env: dict[str, str]
) -> None:
    goal = "Will BTC go up over the next hour? Use the last 40 days of prices and news."

    result = omc("lab", "run", goal, "--json", env=lab_env)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert (summary["status"], summary["verdict"]) == ("done", "skill")
    report = Path(summary["report_path"]).read_text(encoding="utf-8")
    assert report.lower().startswith("<!doctype html>")
    assert "model_evaluation" in result.stderr.replace(" ", "_")


def test_a_question_without_a_terminal_or_yes_fails_clearly(
    omc: Callable[..., Outcome], lab_env: dict[str, str]
) -> None:
    result = omc("lab", "run", UNCLEAR, env=lab_env)

    assert result.returncode == 1
    assert "the session asks:" in result.stderr and "--yes" in result.stderr


def test_yes_takes_the_default_answers(
    omc: Callable[..., Outcome], lab_env: dict[str, str]
) -> None:
    result = omc("lab", "run", UNCLEAR, "--yes", "--json", env=lab_env)

    summary = json.loads(result.stdout)
    assert summary["status"] == "done"
    assert summary["plan"]["coins"] == ["BTC"]


def test_a_question_is_asked_on_the_terminal(
    omc: Callable[..., Outcome], lab_env: dict[str, str]
) -> None:
    result = omc("lab", "run", UNCLEAR, "--json", env=lab_env, stdin=Terminal("BTC\n"))

    assert "Which coin" in result.stderr
    assert json.loads(result.stdout)["plan"]["coins"] == ["BTC"]


def test_yes_approves_a_search_over_its_budget(
    omc: Callable[..., Outcome], lab_env: dict[str, str]
) -> None:
    goal = (
        "Will BTC go up over the next hour? Use the last 40 days. "
        "Tune hyperparameters with a 1 second search budget."
    )

    result = omc("lab", "run", goal, "--yes", "--json", env=lab_env)

    summary = json.loads(result.stdout)
    assert summary["status"] == "done", result.stderr
    assert summary["plan"]["search"] is True
