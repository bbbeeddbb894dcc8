from fastapi.testclient import TestClient
from pydantic import SecretStr

from omc.api.app import create_app
from omc.db import migrate
from omc.runtime import Runtime
from omc.settings import Settings

CLOSED_PG = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def ready(
    settings: Settings, *, migrated: bool = True
) -> tuple[int, dict[str, object]]:
    runtime = Runtime.build(settings)
    if migrated:
        migrate.upgrade(runtime.engine)
    try:
        with TestClient(create_app(runtime)) as client:
            response = client.get("/ready")
    finally:
        runtime.close()
    return response.status_code, response.json()


def test_ready_is_503_naming_the_database_when_it_is_unreachable(
    pg_settings: Settings,
) -> None:
    down = pg_settings.model_copy(update={"database_url": SecretStr(CLOSED_PG)})

    status, body = ready(down, migrated=False)

    assert status == 503
    assert body["failing"] == ["database", "migrations"]
    assert "database unreachable" in str(body["checks"])


def test_ready_is_503_naming_redis_when_it_is_unreachable(
    pg_settings: Settings,
) -> None:
    down = pg_settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1")}
    )

    status, body = ready(down)

    assert status == 503
    assert body["failing"] == ["redis"]


def test_ready_is_503_when_migrations_are_not_at_head(
    embedded_settings: Settings,
) -> None:
    status, body = ready(embedded_settings, migrated=False)

    assert status == 503
    assert body["failing"] == ["migrations"]
    assert "run omc migrate" in str(body["checks"])


def test_health_answers_even_when_the_database_is_down(pg_settings: Settings) -> None:
    down = pg_settings.model_copy(update={"database_url": SecretStr(CLOSED_PG)})
    runtime = Runtime.build(down)
    try:
        with TestClient(create_app(runtime)) as client:
            assert client.get("/health").status_code == 200
    finally:
        runtime.close()
