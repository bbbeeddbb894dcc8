import pytest
from fastapi.testclient import TestClient

from omc.db.models import UserRole
from omc.settings import Settings

Headers = dict[UserRole, dict[str, str]]


def test_me_returns_the_signed_in_account_without_its_hash(
    client: TestClient, auth_headers: Headers
) -> None:
    body = client.get("/api/v1/users/me", headers=auth_headers[UserRole.VIEWER]).json()

    assert body["email"] == "viewer@example.com"
    assert body["role"] == "viewer"
    assert "password_hash" not in body


def test_admin_creates_a_user_who_can_then_sign_in(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post(
        "/api/v1/users",
        json={
            "email": "new@example.com",
            "password": "long enough pw",
            "role": "analyst",
        },
        headers=auth_headers[UserRole.ADMIN],
    )
    token = client.post(
        "/api/v1/auth/token",
        data={"username": "new@example.com", "password": "long enough pw"},
    )

    assert response.status_code == 201
    assert response.json()["role"] == "analyst"
    assert token.status_code == 200


@pytest.mark.parametrize("role", [UserRole.ANALYST, UserRole.VIEWER])
def test_non_admins_may_not_manage_users(
    client: TestClient, auth_headers: Headers, role: UserRole
) -> None:
    headers = auth_headers[role]

    listing = client.get("/api/v1/users", headers=headers)
    creating = client.post(
        "/api/v1/users",
        json={"email": "x@example.com", "password": "long enough pw"},
        headers=headers,
    )
    patching = client.patch("/api/v1/users/1", json={"role": "admin"}, headers=headers)

    assert listing.status_code == creating.status_code == patching.status_code == 403


def test_creating_a_user_with_a_taken_email_is_a_409(
    client: TestClient, auth_headers: Headers
) -> None:
    response = client.post(
        "/api/v1/users",
        json={"email": "Viewer@Example.com", "password": "long enough pw"},
        headers=auth_headers[UserRole.ADMIN],
    )

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "long enough pw"},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "long enough pw", "role": "god"},
        {"email": "a@example.com", "password": "long enough pw", "extra": 1},
    ],
)
def test_invalid_user_bodies_are_a_422(
    client: TestClient, auth_headers: Headers, body: dict[str, object]
) -> None:
    response = client.post(
        "/api/v1/users", json=body, headers=auth_headers[UserRole.ADMIN]
    )

    assert response.status_code == 422


def test_user_list_is_paginated_with_a_maximum_page_size(
    client: TestClient, auth_headers: Headers
) -> None:
    admin = auth_headers[UserRole.ADMIN]

    page = client.get("/api/v1/users?offset=1&limit=1", headers=admin).json()
    too_big = client.get("/api/v1/users?limit=101", headers=admin)

    assert page["count"] == 3
    assert [u["email"] for u in page["data"]] == ["analyst@example.com"]
    assert too_big.status_code == 422


def test_admin_changes_a_role(client: TestClient, auth_headers: Headers) -> None:
    viewer = client.get(
        "/api/v1/users/me", headers=auth_headers[UserRole.VIEWER]
    ).json()

    response = client.patch(
        f"/api/v1/users/{viewer['id']}",
        json={"role": "analyst"},
        headers=auth_headers[UserRole.ADMIN],
    )

    assert response.json()["role"] == "analyst"


def test_unknown_user_id_is_a_404(client: TestClient, auth_headers: Headers) -> None:
    response = client.get("/api/v1/users/9999", headers=auth_headers[UserRole.ADMIN])

    assert response.status_code == 404
    assert response.json() == {"detail": "no user with id 9999"}


def test_the_first_admin_comes_from_settings_when_no_user_exists(
    embedded_settings: Settings,
) -> None:
    from pydantic import SecretStr

    from omc.api.app import create_app
    from omc.db import migrate
    from omc.runtime import Runtime

    settings = embedded_settings.model_copy(
        update={
            "first_admin_email": "Boss@Example.com",
            "first_admin_password": SecretStr("first admin pw"),
        }
    )
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    try:
        with TestClient(create_app(runtime)) as client:
            token = client.post(
                "/api/v1/auth/token",
                data={"username": "boss@example.com", "password": "first admin pw"},
            ).json()["access_token"]
            me = client.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
            )
        with TestClient(create_app(runtime)) as client:
            again = client.get(
                "/api/v1/users", headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        runtime.close()

    assert me.json()["role"] == "admin"
    assert again.json()["count"] == 1
