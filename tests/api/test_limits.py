"""Rate limits, body limits, CORS and bad input: clear 4xx answers, never a 500."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from omc.api.app import create_app
from omc.db import migrate
from omc.db.models import UserRole
from omc.runtime import Runtime
from omc.settings import Settings
from tests.conftest import add_user, token_for


@pytest.fixture
def limited_runtime(settings: Settings) -> Iterator[Runtime]:
    tight = settings.model_copy(
        update={
            "rate_limit_ip_per_min": 5,
            "rate_limit_user_per_min": 3,
            "max_body_bytes": 1024,
        }
    )
    runtime = Runtime.build(tight)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def test_a_client_address_over_its_limit_gets_429_with_retry_after(
    limited_runtime: Runtime,
) -> None:
    with TestClient(create_app(limited_runtime)) as client:
        statuses = [client.get("/api/v1/users/me").status_code for _ in range(6)]
        refused = client.get("/api/v1/users/me")

    assert statuses == [401] * 5 + [429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61


def test_probes_are_never_rate_limited(limited_runtime: Runtime) -> None:
    with TestClient(create_app(limited_runtime)) as client:
        statuses = {client.get("/health").status_code for _ in range(10)}

    assert statuses == {200}


def test_a_user_over_their_limit_gets_429(limited_runtime: Runtime) -> None:
    add_user(limited_runtime, "ana@example.com", UserRole.ANALYST)
    with TestClient(create_app(limited_runtime)) as client:
        headers = {"Authorization": f"Bearer {token_for(client, 'ana@example.com')}"}
        statuses = [
            client.get("/api/v1/users/me", headers=headers).status_code
            for _ in range(4)
        ]

    assert statuses == [200, 200, 200, 429]


def test_limits_are_shared_between_api_processes_through_redis(
    pg_settings: Settings,
) -> None:
    tight = pg_settings.model_copy(update={"rate_limit_ip_per_min": 4})
    first, second = Runtime.build(tight), Runtime.build(tight)
    migrate.upgrade(first.engine)
    try:
        with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
            statuses = [c.get("/api/v1/users/me").status_code for c in (a, b, a, b, a)]
    finally:
        first.close()
        second.close()

    assert statuses == [401, 401, 401, 401, 429]


def test_a_declared_oversized_body_is_a_413(limited_runtime: Runtime) -> None:
    with TestClient(create_app(limited_runtime)) as client:
        response = client.post("/api/v1/users", content=b"x" * 5000)

    assert response.status_code == 413


def test_a_streamed_oversized_body_is_a_413(limited_runtime: Runtime) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 500

    add_user(limited_runtime, "root@example.com", UserRole.ADMIN)
    with TestClient(create_app(limited_runtime)) as client:
        headers = {"Authorization": f"Bearer {token_for(client, 'root@example.com')}"}
        response = client.post("/api/v1/users", content=chunks(), headers=headers)

    assert response.status_code == 413


def test_malformed_json_is_a_422(
    client: TestClient, auth_headers: dict[UserRole, dict[str, str]]
) -> None:
    response = client.post(
        "/api/v1/users",
        content=b'{"email": "a@example.com", ',
        headers={**auth_headers[UserRole.ADMIN], "Content-Type": "application/json"},
    )

    assert response.status_code == 422


def test_unknown_route_is_a_404(client: TestClient) -> None:
    assert client.get("/api/v1/nothing-here").status_code == 404


def test_wrong_method_is_a_405(client: TestClient) -> None:
    assert client.delete("/health").status_code == 405


def test_responses_carry_a_request_id(client: TestClient) -> None:
    generated = client.get("/health")
    echoed = client.get("/health", headers={"X-Request-ID": "abc-123"})
    unsafe = client.get("/health", headers={"X-Request-ID": "bad id\n"})

    assert len(generated.headers["X-Request-ID"]) == 32
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert unsafe.headers["X-Request-ID"] != "bad id\n"


def test_cors_allows_only_configured_origins(embedded_settings: Settings) -> None:
    settings = embedded_settings.model_copy(
        update={"cors_origins": ["https://app.example.com"]}
    )
    runtime = Runtime.build(settings)
    try:
        with TestClient(create_app(runtime)) as client:
            allowed = client.options(
                "/api/v1/users/me",
                headers={
                    "Origin": "https://app.example.com",
                    "Access-Control-Request-Method": "GET",
                },
            )
            denied = client.options(
                "/api/v1/users/me",
                headers={
                    "Origin": "https://evil.example.com",
                    "Access-Control-Request-Method": "GET",
                },
            )
    finally:
        runtime.close()

    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in denied.headers
