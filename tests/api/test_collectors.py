from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from omc.db.models import CollectorRun, UserRole
from omc.runtime import Runtime
from tests.conftest import add_user, token_for

NOW = datetime.now(UTC).replace(microsecond=0)


def add_runs(runtime: Runtime, collector: str, count: int) -> None:
    with runtime.engine.begin() as conn:
        for index in range(count):
            started = NOW - timedelta(minutes=5 * (count - index))
            conn.execute(
                insert(CollectorRun).values(
                    collector=collector,
                    started_at=started,
                    finished_at=started + timedelta(seconds=2),
                    status="ok",
                    fetched=10 + index,
                    stored=10,
                    skipped=index,
                )
            )


@pytest.fixture
def auth_headers(runtime: Runtime, client: TestClient):
    """Bearer headers for a user of a role, created on first use (hashing is slow)."""
    made: dict[UserRole, dict[str, str]] = {}

    class Headers:
        def __getitem__(self, role: UserRole) -> dict[str, str]:
            if role not in made:
                email = f"{role.value}@example.com"
                add_user(runtime, email, role)
                made[role] = {"Authorization": f"Bearer {token_for(client, email)}"}
            return made[role]

    return Headers()


def test_collectors_need_a_signed_in_user(client: TestClient) -> None:
    assert client.get("/api/v1/collectors").status_code == 401


def test_collectors_show_last_run_freshness_and_quality(
    client: TestClient, runtime: Runtime, auth_headers
) -> None:
    add_runs(runtime, "coinspot", 3)

    response = client.get("/api/v1/collectors", headers=auth_headers[UserRole.VIEWER])

    assert response.status_code == 200
    by_name = {item["name"]: item for item in response.json()["data"]}
    assert {"coinspot", "defillama"} <= set(by_name)
    coinspot = by_name["coinspot"]
    assert coinspot["enabled"] is True
    assert coinspot["cadence_s"] == 300
    assert coinspot["stale"] is False
    assert coinspot["last_run"]["fetched"] == 12
    assert coinspot["last_run"]["duration_s"] == 2.0
    assert coinspot["quality"] == {
        "completeness_ratio": 12 / 10.5,
        "malformed_ratio": 2 / 12,
        "consecutive_failures": 0,
    }
    assert by_name["defillama"]["last_run"] is None
    assert by_name["defillama"]["stale"] is True


def test_runs_come_newest_first_a_page_at_a_time(
    client: TestClient, runtime: Runtime, auth_headers
) -> None:
    add_runs(runtime, "coinspot", 5)
    headers = auth_headers[UserRole.VIEWER]

    page = client.get(
        "/api/v1/collectors/coinspot/runs?offset=1&limit=2", headers=headers
    ).json()

    assert page["count"] == 5
    assert [run["fetched"] for run in page["data"]] == [13, 12]


def test_runs_page_size_is_capped(client: TestClient, auth_headers) -> None:
    response = client.get(
        "/api/v1/collectors/coinspot/runs?limit=101",
        headers=auth_headers[UserRole.VIEWER],
    )

    assert response.status_code == 422


def test_runs_of_an_unknown_collector_are_not_found(
    client: TestClient, auth_headers
) -> None:
    response = client.get(
        "/api/v1/collectors/nope/runs", headers=auth_headers[UserRole.VIEWER]
    )

    assert response.status_code == 404
    assert "no collector named 'nope'" in response.json()["detail"]


def test_an_admin_can_queue_a_run(
    client: TestClient, runtime: Runtime, auth_headers
) -> None:
    response = client.post(
        "/api/v1/collectors/coinspot/run", headers=auth_headers[UserRole.ADMIN]
    )

    assert response.status_code == 202
    body = response.json()
    assert (body["collector"], body["status"]) == ("coinspot", "queued")
    assert body["task_id"]
    assert runtime.queue.depth() == 1


def test_only_admins_may_queue_a_run(client: TestClient, auth_headers) -> None:
    response = client.post(
        "/api/v1/collectors/coinspot/run", headers=auth_headers[UserRole.ANALYST]
    )

    assert response.status_code == 403


def test_queueing_an_unknown_collector_is_not_found(
    client: TestClient, auth_headers
) -> None:
    response = client.post(
        "/api/v1/collectors/nope/run", headers=auth_headers[UserRole.ADMIN]
    )

    assert response.status_code == 404


def test_metrics_carry_the_collector_families_from_run_records(
    client: TestClient, runtime: Runtime
) -> None:
    add_runs(runtime, "coinspot", 2)

    text = client.get("/metrics").text

    assert 'omc_collector_runs_total{collector="coinspot",status="ok"} 2.0' in text
    assert 'omc_collector_stale{collector="coinspot"} 0.0' in text
    assert 'omc_collector_stale{collector="defillama"} 1.0' in text
    assert "omc_collector_malformed_ratio" in text
