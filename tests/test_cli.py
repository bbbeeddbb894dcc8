"""The `omc` command as a user runs it: exit codes and what it prints.

Most tests call the real entry point `main()` inside the test process (starting a
Python process per test costs seconds); a few run `python -m omc` for real.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from omc.db.models import UserRole
from tests.conftest import PG_URL, Outcome


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    return {"OMC_DATA_DIR": str(tmp_path / "data"), "OMC_LOG_FORMAT": "json"}


def run_process(*args: str, env: dict[str, str], cwd: Path | None = None) -> Outcome:
    result = subprocess.run(  # noqa: S603  (our own command with fixed arguments)
        [sys.executable, "-m", "omc", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=cwd,
        check=False,
    )
    return Outcome(result.returncode, result.stdout, result.stderr)


def test_version_prints_the_package_version(data_env: dict[str, str]) -> None:
    result = run_process("version", env=data_env)

    assert result.returncode == 0
    assert result.stdout.strip() == "0.1.0"


@pytest.mark.parametrize(
    "command",
    [
        ["up"],
        ["api"],
        ["worker"],
        ["scheduler"],
        ["migrate"],
        ["db", "roles"],
        ["users", "create"],
        ["version"],
        ["queue", "ping"],
        ["settings", "docs"],
    ],
)
def test_every_command_has_help(omc, command: list[str]) -> None:
    result = omc(*command, "--help")

    assert result.returncode == 0
    assert "Usage:" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OMC_API_PORT", "eighty", "OMC_API_PORT: Input should be a valid integer"),
        (
            "OMC_API_PORT",
            "70000",
            "OMC_API_PORT: Input should be less than or equal to 65535",
        ),
        ("OMC_JWT_SECRET", "short", "OMC_JWT_SECRET: must be at least 32 characters"),
        ("OMC_DATABASE_URL", "mysql://x@y/z", "OMC_DATABASE_URL: must be a postgresql"),
        ("OMC_LOG_LEVEL", "LOUD", "OMC_LOG_LEVEL: Input should be"),
    ],
)
def test_a_wrong_setting_exits_2_with_one_line_naming_it(
    omc,
    data_env: dict[str, str],
    variable: str,
    value: str,
    message: str,
) -> None:
    result = omc("migrate", env={**data_env, variable: value})

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: invalid settings: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_are_read_from_a_dotenv_file(
    tmp_path: Path, data_env: dict[str, str]
) -> None:
    (tmp_path / ".env").write_text("OMC_API_PORT=not-a-port\n")

    result = run_process("migrate", env=data_env, cwd=tmp_path)

    assert result.returncode == 2
    assert "OMC_API_PORT" in result.stderr


def test_migrate_is_idempotent_on_the_embedded_database(
    omc, data_env: dict[str, str]
) -> None:
    first = omc("migrate", env=data_env)
    second = omc("migrate", env=data_env)

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert "database at revision" in first.stdout


def test_users_create_reads_the_password_from_stdin(
    omc, data_env: dict[str, str]
) -> None:
    omc("migrate", env=data_env)

    result = omc(
        "users",
        "create",
        "Ops@Example.com",
        "--role",
        "admin",
        "--password-stdin",
        env=data_env,
        stdin="a long password\n",
    )

    assert result.returncode == 0, result.stderr
    assert "created user ops@example.com (admin)" in result.stdout
    assert "a long password" not in result.stdout + result.stderr


def test_users_create_with_a_taken_email_fails_with_one_line(
    omc, data_env: dict[str, str]
) -> None:
    omc("migrate", env=data_env)
    args = ("users", "create", "a@example.com", "--password-stdin")
    omc(*args, env=data_env, stdin="a long password\n")

    result = omc(*args, env=data_env, stdin="a long password\n")

    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: a user with email a@example.com already exists"
    )


def test_users_create_rejects_an_unknown_role(omc, data_env: dict[str, str]) -> None:
    result = omc(
        "users",
        "create",
        "a@example.com",
        "--role",
        "god",
        "--password-stdin",
        env=data_env,
        stdin="a long password\n",
    )

    assert result.returncode == 2
    assert "god" in result.stderr


def test_users_create_with_a_short_password_fails(
    omc, data_env: dict[str, str]
) -> None:
    omc("migrate", env=data_env)

    result = omc(
        "users",
        "create",
        "a@example.com",
        "--password-stdin",
        env=data_env,
        stdin="short\n",
    )

    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr


def test_debug_shows_the_traceback(data_env: dict[str, str]) -> None:
    result = run_process("--debug", "db", "roles", env=data_env)

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ConfigError" in result.stderr


def test_db_roles_on_the_embedded_database_explains_it_needs_postgres(
    omc,
    data_env: dict[str, str],
) -> None:
    result = omc("db", "roles", env=data_env)

    assert result.returncode == 2
    assert "need PostgreSQL" in result.stderr


def test_api_without_a_jwt_secret_on_postgres_exits_2(
    omc, pg: object, data_env: dict[str, str]
) -> None:
    result = omc("api", "--port", "1", env={**data_env, "OMC_DATABASE_URL": PG_URL})

    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: OMC_JWT_SECRET: required")


def test_queue_ping_without_a_worker_fails_clearly(
    omc, data_env: dict[str, str]
) -> None:
    result = omc("queue", "ping", "--timeout-s", "0.5", env=data_env)

    assert result.returncode == 1
    assert "no worker answered" in result.stderr


def test_role_names_match_the_cli_choices(omc) -> None:
    result = omc("users", "create", "--help")

    for role in UserRole:
        assert role.value in result.stdout
