"""Alert rules, dashboards and scrape config agree with the code and each other."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from omc import metrics
from omc.settings import Settings
from tests.deploy.conftest import (
    MONITORING,
    ROOT,
    by_kind,
    kustomize,
    load_yaml,
    require_tool,
)

ALERTS = MONITORING / "alerts.yaml"
DASHBOARDS = sorted((MONITORING / "dashboards").glob("*.json"))
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"
RUNBOOK_PREFIX = "https://github.com/oh-my-coins/omc/blob/main/docs/OPERATIONS.md#"
SEVERITIES = {"critical", "warning", "info"}
COLLECTORS = sorted(
    name.removesuffix("_cadence_s")
    for name in Settings.model_fields
    if name.endswith("_cadence_s")
)
# Series each metric type exposes, by the suffix added to the family name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}
_OMC_NAME = re.compile(r"\bomc_[a-zA-Z0-9_]+")


def exposed_metric_names() -> set[str]:
    """Every series name the OMC processes can expose, from omc.metrics."""
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    for name, (kind, _help, _labels) in metrics.COLLECTOR_FAMILIES.items():
        names |= {name + suffix for suffix in SUFFIXES[kind]}
    return names


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def dashboard_panels(path: Path) -> list[dict[str, Any]]:
    board = json.loads(path.read_text(encoding="utf-8"))
    return [p for p in board["panels"] if p["type"] != "row"]


def dashboard_exprs() -> dict[str, str]:
    return {
        f"{path.name}: {panel['title']}": target["expr"]
        for path in DASHBOARDS
        for panel in dashboard_panels(path)
        for target in panel["targets"]
        if panel["datasource"]["type"] == "prometheus"
    }


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_exposed_names_follow_the_client_library_suffixes() -> None:
    names = exposed_metric_names()

    assert "omc_http_requests_total" in names
    assert "omc_http_request_duration_seconds_bucket" in names
    assert "omc_collector_runs_total" in names
    assert "omc_collector_stale" in names
    assert "omc_http_requests" not in names


def test_promtool_accepts_the_rule_file() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run(  # noqa: S603 - fixed tool, repository file
        [promtool, "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_on_its_test_series_and_stays_quiet_otherwise() -> None:
    promtool = require_tool("promtool")
    tests = load_yaml(MONITORING / "alerts.test.yaml")["tests"]
    tested = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if not case.get("exp_alerts")
    }

    result = subprocess.run(  # noqa: S603 - fixed tool, repository file
        [promtool, "test", "rules", "alerts.test.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=MONITORING,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    names = {rule["alert"] for rule in alert_rules()}
    assert tested == names, "every alert needs a test in which it fires"
    assert quiet == names, "every alert needs a test in which it stays quiet"


def test_required_alerts_exist_with_summary_severity_and_runbook() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    anchors = {
        github_anchor(line.lstrip("#"))
        for line in text.splitlines()
        if line.startswith("#")
    }
    rules = alert_rules()
    exprs = " ".join(rule["expr"] for rule in rules)

    for needed in (
        "omc_collector_consecutive_failures",
        "omc_collector_stale",
        'omc_lab_sessions_total{outcome="failed"}',
        "omc_llm_requests_total",
        "omc_llm_request_duration_seconds_bucket",
        "omc_http_requests_total",
        "omc_http_request_duration_seconds_bucket",
        "omc_queue_depth",
        "up{",
    ):
        assert needed in exprs, f"no alert uses {needed}"
    for rule in rules:
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(RUNBOOK_PREFIX), url
        assert url.removeprefix(RUNBOOK_PREFIX) in anchors, (
            f"{rule['alert']}: no heading in docs/OPERATIONS.md for {url}"
        )


def test_prometheus_rule_manifest_is_generated_from_the_rule_file() -> None:
    result = subprocess.run(  # noqa: S603 - repository script
        [sys.executable, str(ROOT / "scripts" / "render-prometheusrule.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_every_metric_in_alerts_and_dashboards_exists_in_omc_metrics() -> None:
    exposed = exposed_metric_names()
    used = {"alerts.yaml: " + r["alert"]: r["expr"] for r in alert_rules()}
    used |= dashboard_exprs()

    unknown = {
        where: sorted(set(_OMC_NAME.findall(expr)) - exposed)
        for where, expr in used.items()
        if set(_OMC_NAME.findall(expr)) - exposed
    }

    assert len(used) > 30
    assert unknown == {}


@pytest.mark.parametrize(
    ("dashboard", "families"),
    [
        ("collectors.json", ["omc_collector_"]),
        ("lab.json", ["omc_lab_sessions", "omc_lab_node_", "omc_llm_"]),
        ("api.json", ["omc_http_requests", "omc_http_request_duration"]),
        (
            "infrastructure.json",
            ["omc_db_query", "omc_cache_requests", "omc_queue_depth"],
        ),
    ],
)
def test_each_dashboard_covers_its_area(dashboard: str, families: list[str]) -> None:
    exprs = " ".join(
        expr for where, expr in dashboard_exprs().items() if where.startswith(dashboard)
    )

    for family in families:
        assert family in exprs, f"{dashboard} shows nothing of {family}"


def test_collectors_dashboard_covers_every_collector_family_and_source() -> None:
    exprs = " ".join(
        expr
        for where, expr in dashboard_exprs().items()
        if where.startswith("collectors.json")
    )
    panels = dashboard_panels(MONITORING / "dashboards" / "collectors.json")

    for family in metrics.COLLECTOR_FAMILIES:
        assert family in exprs, f"no collectors panel uses {family}"
    for name in COLLECTORS:
        assert any(
            f'collector="{name}"' in target["expr"]
            for panel in panels
            for target in panel["targets"]
        ), f"no panel of its own for collector {name}"


def test_dashboards_are_consistent_and_use_provisioned_datasources() -> None:
    sources = load_yaml(
        MONITORING / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
    )
    uids = {source["uid"] for source in sources["datasources"]}
    seen_uids = set()

    assert {p.name for p in DASHBOARDS} == {
        "api.json",
        "collectors.json",
        "infrastructure.json",
        "lab.json",
    }
    for path in DASHBOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        assert board["uid"] not in seen_uids
        seen_uids.add(board["uid"])
        for panel in dashboard_panels(path):
            assert panel["datasource"]["uid"] in uids, (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_dashboards_render_as_configmaps_for_the_grafana_sidecar() -> None:
    config_maps = by_kind(kustomize(MONITORING), "ConfigMap")
    shipped = {
        name: json.loads(content)
        for config_map in config_maps.values()
        for name, content in config_map["data"].items()
    }

    assert set(shipped) == {path.name for path in DASHBOARDS}
    for config_map in config_maps.values():
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    for path in DASHBOARDS:
        assert shipped[path.name] == json.loads(path.read_text(encoding="utf-8"))


def test_compose_prometheus_config_is_valid_and_scrapes_api_and_worker(
    tmp_path: Path,
) -> None:
    promtool = require_tool("promtool")
    config = load_yaml(MONITORING / "prometheus.yaml")
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"]
        for job in config["scrape_configs"]
    }
    # Inside the container the rule file is mounted at /etc/prometheus.
    config["rule_files"] = [str(ALERTS)]
    local = tmp_path / "prometheus.yaml"
    local.write_text(yaml.safe_dump(config), encoding="utf-8")

    result = subprocess.run(  # noqa: S603 - fixed tool, temporary file
        [promtool, "check", "config", str(local)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert targets["omc-api"] == ["api:8000"]
    assert targets["omc-worker"] == ["worker:9100"]
