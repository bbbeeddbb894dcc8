"""Shared helpers of the deployment tests: repository paths, tools, rendered manifests.

The tools (promtool, prometheus, kustomize) are installed by scripts/ops-tools.sh.
When one is missing the first test that needs it runs that script once; if the tool
is still missing the test fails with a message naming the script.
"""

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
MONITORING = DEPLOY / "monitoring"
OVERLAYS = ("staging", "production")
OPS_TOOLS = ROOT / "scripts" / "ops-tools.sh"


@cache
def _run_ops_tools() -> str:
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run(  # noqa: S603 - fixed script of this repository
        [bash, str(OPS_TOOLS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return result.stdout + result.stderr


def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def require_tool(name: str) -> str:
    """Return the path of a command-line tool, installing it with ops-tools.sh."""
    path = shutil.which(name)
    if path is None:
        output = _run_ops_tools()
        path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed and scripts/ops-tools.sh could not install it: "
            f"run scripts/ops-tools.sh as root. Its output:\n{output}",
            pytrace=False,
        )
    return path


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """Render a kustomization and return its objects."""
    command = _kustomize_command()
    if command is None:
        _run_ops_tools()
        command = _kustomize_command()
    if command is None:
        pytest.fail(
            "neither kustomize nor kubectl is installed: run scripts/ops-tools.sh",
            pytrace=False,
        )
    result = subprocess.run(  # noqa: S603 - fixed tool, repository path
        [*command, str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"kustomize failed on {directory}:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@cache
def _rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize(K8S / "overlays" / overlay))


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    """Each environment overlay in turn."""
    return str(request.param)


@pytest.fixture
def rendered(overlay: str) -> list[dict[str, Any]]:
    """The objects of the overlay, rendered once per test session."""
    return list(_rendered(overlay))


def render_overlay(overlay: str) -> list[dict[str, Any]]:
    """The objects of one overlay, rendered once per test session."""
    return list(_rendered(overlay))


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Objects of one kind, by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def load_yaml(path: Path) -> Any:
    """Parse one YAML document."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
