"""Shared fixtures: real PostgreSQL and Redis, embedded runtimes, API clients.

Tests that need PostgreSQL or Redis use the servers at OMC_TEST_DATABASE_URL and
OMC_TEST_REDIS_URL and fail with a clear message when one is not reachable: nothing
is skipped. The schemas app, collectors and lab of that database, and Redis
databases 0 to 3, belong to the tests.
"""

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from omc.api import security
from omc.api.accounts import create_user
from omc.api.app import create_app
from omc.cli import main
from omc.db import migrate
from omc.db.base import SCHEMAS
from omc.db.engine import session_scope
from omc.db.models import UserRole
from omc.queue import QUEUE_REDIS_DB
from omc.runtime import Runtime
from omc.settings import Settings

PG_URL = os.environ.get(
    "OMC_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("OMC_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_JWT_SECRET = "test-signing-key-0123456789abcdefghijklmnop"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's OMC_* variables and .env out of every test."""
    for name in list(os.environ):
        if name.startswith("OMC_") and not name.startswith("OMC_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo `configure_logging` calls made by commands run inside the test process."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2id, with parameters cheap enough for hundreds of sign-ins.

    Production keeps argon2's recommended cost; verification reads the parameters
    from each hash, so nothing else changes.
    """
    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """An engine on the test database, migrated to head from an empty state."""
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at OMC_TEST_DATABASE_URL={PG_URL}: {exc.orig}. "
            "Start it (scripts/services.sh) or point the variable at a test server.",
            pytrace=False,
        )
    reset_postgres(engine)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def reset_postgres(engine: Engine) -> None:
    """Drop everything the platform creates in the test database."""
    with engine.begin() as conn:
        for schema in SCHEMAS:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def pg(pg_engine: Engine) -> Iterator[Engine]:
    """The migrated test database, emptied after the test."""
    yield pg_engine
    with pg_engine.begin() as conn:
        tables = conn.execute(
            text(
                "SELECT schemaname || '.' || tablename FROM pg_tables "
                "WHERE schemaname = ANY(:schemas) AND tablename <> 'checkpoint_migrations'"
            ),
            {"schemas": list(SCHEMAS)},
        ).scalars()
        names = ", ".join(tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL for tests, checked once."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at OMC_TEST_REDIS_URL={REDIS_URL}: {exc}. "
            "Start it (scripts/services.sh) or point the variable at a test server.",
            pytrace=False,
        )
    return REDIS_URL


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """A Redis URL whose databases 0 to 3 are empty at the start of the test."""
    for db in range(QUEUE_REDIS_DB + 1):
        redis.Redis.from_url(redis_server, db=db).flushdb()
    yield redis_server


@pytest.fixture
def pg_settings(pg: Engine, redis_url: str, tmp_path: Path) -> Settings:
    """Production-mode settings: PostgreSQL and Redis."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=PG_URL,
        redis_url=redis_url,
        jwt_secret=TEST_JWT_SECRET,
    )


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    """Embedded-mode settings: SQLite and in-process stores, nothing else."""
    return Settings(_env_file=None, data_dir=tmp_path / "data")


@pytest.fixture(params=["postgres", "embedded"])
def settings(request: pytest.FixtureRequest) -> Settings:
    """Both modes in turn, for behaviour that must not differ between them."""
    name = "pg_settings" if request.param == "postgres" else "embedded_settings"
    value: Settings = request.getfixturevalue(name)
    return value


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A migrated runtime in each mode."""
    rt = Runtime.build(settings)
    migrate.upgrade(rt.engine)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """An API client on the runtime, lifespan included."""
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def add_user(runtime: Runtime, email: str, role: UserRole) -> int:
    """Create an account with the shared test password; return its id."""
    with session_scope(runtime.sessions) as session:
        return create_user(session, email=email, password=PASSWORD, role=role).id


def token_for(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the API and return the access token."""
    response = client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def auth_headers(
    runtime: Runtime, client: TestClient
) -> dict[UserRole, dict[str, str]]:
    """Bearer headers for one user of each role."""
    headers = {}
    for role in UserRole:
        email = f"{role.value}@example.com"
        add_user(runtime, email, role)
        headers[role] = {"Authorization": f"Bearer {token_for(client, email)}"}
    return headers


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def omc(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Outcome]:
    """Run `omc ARGS` through `main()` with its own environment and standard input."""

    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str | io.StringIO = ""
    ) -> Outcome:
        with monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            patch.setattr(sys, "argv", ["omc", *args])
            patch.setattr(
                sys, "stdin", io.StringIO(stdin) if isinstance(stdin, str) else stdin
            )
            code: int | str | None = 0
            try:
                main()
            except SystemExit as exc:
                code = exc.code
        captured = capsys.readouterr()
        return Outcome(code if isinstance(code, int) else 1, captured.out, captured.err)

    return run
