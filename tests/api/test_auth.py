from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from omc.db.models import UserRole
from omc.runtime import Runtime
from tests.conftest import PASSWORD, add_user, token_for


def sign(claims: dict[str, object], key: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def test_token_route_issues_a_bearer_token_for_valid_credentials(
    runtime: Runtime, client: TestClient
) -> None:
    add_user(runtime, "ana@example.com", UserRole.ANALYST)

    response = client.post(
        "/api/v1/auth/token", data={"username": "ANA@example.com", "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == runtime.settings.access_token_ttl_s
    me = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["email"] == "ana@example.com"


def test_wrong_password_and_unknown_email_get_the_same_401(
    runtime: Runtime, client: TestClient
) -> None:
    add_user(runtime, "ana@example.com", UserRole.ANALYST)

    wrong = client.post(
        "/api/v1/auth/token",
        data={"username": "ana@example.com", "password": "nope-nope"},
    )
    unknown = client.post(
        "/api/v1/auth/token", data={"username": "bob@example.com", "password": PASSWORD}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "incorrect email or password"}
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_token_route_without_form_fields_is_a_422(client: TestClient) -> None:
    assert client.post("/api/v1/auth/token", data={}).status_code == 422


def test_protected_route_without_a_token_is_a_401(client: TestClient) -> None:
    response = client.get("/api/v1/users/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_expired_token_is_a_401(runtime: Runtime, client: TestClient) -> None:
    user_id = add_user(runtime, "ana@example.com", UserRole.ANALYST)
    past = datetime.now(UTC) - timedelta(hours=2)
    token = sign(
        {
            "sub": str(user_id),
            "iat": past,
            "exp": past + timedelta(minutes=5),
            "typ": "access",
        },
        client.app.state.jwt_secret,  # type: ignore[attr-defined]
    )

    response = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_token_signed_with_another_key_is_a_401(
    runtime: Runtime, client: TestClient
) -> None:
    user_id = add_user(runtime, "ana@example.com", UserRole.ADMIN)
    now = datetime.now(UTC)
    forged = sign(
        {
            "sub": str(user_id),
            "iat": now,
            "exp": now + timedelta(hours=1),
            "typ": "access",
        },
        "an-attacker-key-that-is-long-enough-0000",
    )

    response = client.get(
        "/api/v1/users", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


def test_unsigned_token_is_a_401(runtime: Runtime, client: TestClient) -> None:
    user_id = add_user(runtime, "ana@example.com", UserRole.ADMIN)
    now = datetime.now(UTC)
    unsigned = jwt.encode(
        {
            "sub": str(user_id),
            "iat": now,
            "exp": now + timedelta(hours=1),
            "typ": "access",
        },
        key="",
        algorithm="none",
    )

    response = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {unsigned}"}
    )

    assert response.status_code == 401


def test_garbage_token_is_a_401(client: TestClient) -> None:
    response = client.get(
        "/api/v1/users/me", headers={"Authorization": "Bearer not.a.jwt"}
    )

    assert response.status_code == 401


def test_token_of_a_disabled_user_is_a_401(
    runtime: Runtime, client: TestClient, auth_headers: dict[UserRole, dict[str, str]]
) -> None:
    me = client.get("/api/v1/users/me", headers=auth_headers[UserRole.VIEWER]).json()
    client.patch(
        f"/api/v1/users/{me['id']}",
        json={"is_active": False},
        headers=auth_headers[UserRole.ADMIN],
    )

    response = client.get("/api/v1/users/me", headers=auth_headers[UserRole.VIEWER])

    assert response.status_code == 401


def test_disabled_user_cannot_sign_in(runtime: Runtime, client: TestClient) -> None:
    add_user(runtime, "ana@example.com", UserRole.ANALYST)
    token = token_for(client, "ana@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    admin_id = add_user(runtime, "root@example.com", UserRole.ADMIN)
    admin = {"Authorization": f"Bearer {token_for(client, 'root@example.com')}"}
    me = client.get("/api/v1/users/me", headers=headers).json()
    client.patch(f"/api/v1/users/{me['id']}", json={"is_active": False}, headers=admin)

    response = client.post(
        "/api/v1/auth/token", data={"username": "ana@example.com", "password": PASSWORD}
    )

    assert admin_id != me["id"]
    assert response.status_code == 401
