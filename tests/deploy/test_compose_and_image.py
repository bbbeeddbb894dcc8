"""The compose file and the Dockerfile hold what the stack needs.

No Docker engine is available where these tests run, so the image is checked by
reading the Dockerfile and the compose file by parsing it; see docs/OPERATIONS.md.
"""

import re
import subprocess
from typing import Any

import yaml

from omc.settings import Settings
from tests.deploy.conftest import DEPLOY, ROOT

COMPOSE = DEPLOY / "compose.yaml"
OMC_SERVICES = {"migrate", "api", "worker", "scheduler"}
STACK_SERVICES = OMC_SERVICES | {
    "postgres",
    "redis",
    "prometheus",
    "grafana",
    "loki",
    "promtail",
}


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def _stages(dockerfile: str) -> list[list[str]]:
    """Instructions of each build stage, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    stages: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_compose_names_every_service_the_stack_needs() -> None:
    services = _compose()["services"]

    assert set(services) == STACK_SERVICES


def test_omc_services_wait_for_migrations_and_read_the_env_file() -> None:
    services = _compose()["services"]

    for name in OMC_SERVICES - {"migrate"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in OMC_SERVICES:
        assert services[name]["env_file"] == [{"path": ".env", "required": True}]
        assert services[name]["command"] == [name]
        assert services[name]["read_only"] is True


def test_mounted_monitoring_files_exist() -> None:
    services = _compose()["services"]
    mounts = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]

    assert len(mounts) >= 6
    for mount in mounts:
        assert (DEPLOY / mount).exists(), f"compose mounts missing {mount}"


def test_env_example_covers_the_compose_variables_and_names_real_settings() -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    keys = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in example.splitlines()
        if "=" in line and re.match(r"#? ?[A-Z_]+=", line)
    }
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text("utf-8")))
    unknown = {
        key
        for key in keys
        if key.startswith("OMC_")
        and key != "OMC_IMAGE"
        and key.removeprefix("OMC_").lower() not in Settings.model_fields
    }

    assert required <= keys
    assert {"OMC_DATABASE_URL", "OMC_REDIS_URL", "OMC_JWT_SECRET"} <= keys
    assert unknown == set()


def test_env_file_with_secrets_is_ignored_by_git() -> None:
    result = subprocess.run(  # noqa: S603 - fixed command, repository path
        ["git", "check-ignore", "-q", str(DEPLOY / ".env")],  # noqa: S607
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, "deploy/.env must be git-ignored"


def test_dockerfile_builds_from_the_lock_and_runs_slim_as_non_root() -> None:
    stages = _stages((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    builder, final = " ".join(stages[0]), stages[-1]
    final_text = " ".join(final)

    assert len(stages) >= 2
    assert "uv sync --frozen --no-dev" in builder
    assert final[0].startswith("FROM ${PYTHON_IMAGE}")
    assert "COPY --from=builder" in final_text
    for build_tool in ("uv ", "pip install", "apt-get", "gcc", "build-essential"):
        assert build_tool not in final_text, f"final stage contains {build_tool}"
    user = next(i for i in final if i.startswith("USER "))
    assert user.split()[1].split(":")[0] not in {"0", "root"}
    healthcheck = next(i for i in final if i.startswith("HEALTHCHECK "))
    assert "/health" in healthcheck
    assert 'ENTRYPOINT ["omc"]' in final


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())

    assert {".git", ".venv", ".env", "**/.env", "tests"} <= ignored
