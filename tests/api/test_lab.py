"""The Lab through the API: sessions run on a real worker, followed over WebSocket."""

import hashlib
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from omc.db.models import UserRole
from omc.queue import QueueWorker
from omc.runtime import Runtime
from tests.lab.synth import seed_recent_market

Headers = dict[UserRole, dict[str, str]]
SESSIONS = "/api/v1/lab/sessions"
UNCLEAR_GOAL = "will it go up over the next hour? use the last 40 days"


@pytest.fixture
def worker(runtime: Runtime, client: TestClient) -> Iterator[QueueWorker]:
    """A worker thread consuming the runtime's queue (the app registered the tasks)."""
    consumer = QueueWorker(runtime.queue, threads=1)
    consumer.start_background()
    yield consumer
    consumer.stop()


def wait_status(
    client: TestClient,
    session_id: str,
    headers: dict[str, str],
    statuses: set[str],
    timeout_s: float = 120,
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(
            f"{SESSIONS}/{session_id}", headers=headers
        ).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.2)
    pytest.fail(f"session {session_id} never reached {statuses}")


def test_a_session_asks_is_answered_and_reports_through_the_api(
    runtime: Runtime, client: TestClient, auth_headers: Headers, worker: QueueWorker
) -> None:
    seed_recent_market(runtime, strength=0.8)
    analyst = auth_headers[UserRole.ANALYST]

    created = client.post(SESSIONS, json={"goal": UNCLEAR_GOAL}, headers=analyst)
    session_id = created.json()["id"]
    waiting = wait_status(client, session_id, analyst, {"waiting", "failed"})
    replied = client.post(
        f"{SESSIONS}/{session_id}/reply", json={"answer": "BTC"}, headers=analyst
    )
    done = wait_status(client, session_id, analyst, {"done", "failed"})

    assert created.status_code == 202 and created.json()["status"] == "queued"
    assert waiting["status"] == "waiting"
    assert waiting["question"]["kind"] == "clarification"  # type: ignore[index]
    assert replied.status_code == 202
    assert done["status"] == "done", done["error"]
    assert done["verdict"] == "skill"
    assert done["plan"]["coins"] == ["BTC"]  # type: ignore[index]

    events = client.get(f"{SESSIONS}/{session_id}/events", headers=analyst).json()
    kinds = [event["kind"] for event in events]
    assert kinds[0] == "status" and "question" in kinds and "reply" in kinds
    assert [e["node"] for e in events if e["kind"] == "node"][-1] == "reporting"

    token = analyst["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"{SESSIONS}/{session_id}/ws?token={token}") as ws:
        streamed = [ws.receive_json() for _ in events]
    assert [e["seq"] for e in streamed] == list(range(len(events)))

    html = client.get(f"{SESSIONS}/{session_id}/report", headers=analyst)
    markdown = client.get(
        f"{SESSIONS}/{session_id}/report?format=markdown", headers=analyst
    )
    assert html.headers["content-type"].startswith("text/html") and "<html" in html.text
    assert "Verdict: skill" in markdown.text

    manifest = client.get(f"{SESSIONS}/{session_id}/artifacts", headers=analyst).json()
    name = "metadata.json"
    download = client.get(f"{SESSIONS}/{session_id}/artifacts/{name}", headers=analyst)
    assert hashlib.sha256(download.content).hexdigest() == manifest["sha256"][name]
    missing = client.get(
        f"{SESSIONS}/{session_id}/artifacts/../../etc/passwd", headers=analyst
    )
    assert missing.status_code == 404


def test_viewers_read_but_may_not_create_sessions(
    client: TestClient, auth_headers: Headers
) -> None:
    created = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=auth_headers[UserRole.ANALYST]
    )
    refused = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=auth_headers[UserRole.VIEWER]
    )
    seen = client.get(SESSIONS, headers=auth_headers[UserRole.VIEWER]).json()

    assert created.status_code == 202
    assert refused.status_code == 403
    assert seen["count"] == 1


def test_another_analysts_session_is_not_found(
    runtime: Runtime, client: TestClient, auth_headers: Headers
) -> None:
    from tests.conftest import add_user, token_for

    session_id = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=auth_headers[UserRole.ANALYST]
    ).json()["id"]
    add_user(runtime, "other@example.com", UserRole.ANALYST)
    other = {"Authorization": f"Bearer {token_for(client, 'other@example.com')}"}

    assert client.get(f"{SESSIONS}/{session_id}", headers=other).status_code == 404
    assert (
        client.post(f"{SESSIONS}/{session_id}/cancel", headers=other).status_code == 404
    )
    assert client.get(SESSIONS, headers=other).json()["count"] == 0


def test_too_many_active_sessions_is_a_429(
    client: TestClient, auth_headers: Headers
) -> None:
    analyst = auth_headers[UserRole.ANALYST]

    statuses = [
        client.post(
            SESSIONS, json={"goal": f"btc up? {n}"}, headers=analyst
        ).status_code
        for n in range(3)
    ]

    assert statuses == [202, 202, 429]


def test_cancel_a_queued_session_and_then_a_conflict(
    client: TestClient, auth_headers: Headers
) -> None:
    analyst = auth_headers[UserRole.ANALYST]
    session_id = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=analyst
    ).json()["id"]

    first = client.post(f"{SESSIONS}/{session_id}/cancel", headers=analyst)
    second = client.post(f"{SESSIONS}/{session_id}/cancel", headers=analyst)
    reply = client.post(
        f"{SESSIONS}/{session_id}/reply", json={"answer": "x"}, headers=analyst
    )

    assert first.json()["status"] == "cancelled"
    assert second.status_code == reply.status_code == 409


@pytest.mark.parametrize(
    "body", [{}, {"goal": ""}, {"goal": "x" * 2001}, {"goal": "ok goal", "x": 1}]
)
def test_invalid_session_bodies_are_a_422(
    client: TestClient, auth_headers: Headers, body: dict[str, object]
) -> None:
    response = client.post(SESSIONS, json=body, headers=auth_headers[UserRole.ANALYST])

    assert response.status_code == 422


def test_the_websocket_refuses_a_missing_or_forged_token(
    client: TestClient, auth_headers: Headers
) -> None:
    session_id = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=auth_headers[UserRole.ANALYST]
    ).json()["id"]

    for suffix in ("", "?token=not.a.token"):
        with pytest.raises(WebSocketDisconnect) as closed:
            with client.websocket_connect(f"{SESSIONS}/{session_id}/ws{suffix}") as ws:
                ws.receive_json()
        assert closed.value.code == 1008


def test_a_report_before_the_session_ends_is_a_404(
    client: TestClient, auth_headers: Headers
) -> None:
    analyst = auth_headers[UserRole.ANALYST]
    session_id = client.post(
        SESSIONS, json={"goal": "btc up?"}, headers=analyst
    ).json()["id"]

    assert (
        client.get(f"{SESSIONS}/{session_id}/report", headers=analyst).status_code
        == 404
    )
    assert (
        client.get(f"{SESSIONS}/{session_id}/artifacts", headers=analyst).status_code
        == 404
    )


def test_an_approval_is_asked_and_answered_through_the_api(
    runtime: Runtime, client: TestClient, auth_headers: Headers, worker: QueueWorker
) -> None:
    seed_recent_market(runtime)
    analyst = auth_headers[UserRole.ANALYST]
    goal = (
        "Will BTC go up over the next hour? Use the last 40 days. "
        "Tune hyperparameters with a 1 second search budget."
    )

    session_id = client.post(SESSIONS, json={"goal": goal}, headers=analyst).json()[
        "id"
    ]
    waiting = wait_status(client, session_id, analyst, {"waiting", "failed"})
    client.post(
        f"{SESSIONS}/{session_id}/reply", json={"answer": False}, headers=analyst
    )
    done = wait_status(client, session_id, analyst, {"done", "failed"})

    assert waiting["question"]["kind"] == "approval"  # type: ignore[index]
    assert done["status"] == "done", done["error"]
    assert done["plan"]["search"] is False  # type: ignore[index]
