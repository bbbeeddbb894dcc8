"""Lab sessions: create from a goal, follow, answer, cancel, read the report."""

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
import fsspec
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from omc.api.deps import (
    CurrentUser,
    RuntimeDep,
    SessionDep,
    authenticate_websocket,
    require_roles,
)
from omc.api.schemas import MAX_PAGE_SIZE
from omc.db.engine import session_scope
from omc.db.models import LabSession, User, UserRole
from omc.errors import Conflict, NotFound
from omc.lab import sessions as store
from omc.lab.service import enqueue_run, events_for

__all__ = ["router"]

router = APIRouter(prefix="/lab", tags=["lab"])

# Analysts and admins run sessions; viewers read them.
Creator = Annotated[User, Depends(require_roles(UserRole.ADMIN, UserRole.ANALYST))]
WS_POLL_S = 0.5
ARTIFACT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
}


class SessionCreate(BaseModel):
    """A goal in plain words."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=3, max_length=2000)


class SessionReply(BaseModel):
    """The answer to the session's pending question or approval."""

    model_config = ConfigDict(extra="forbid")

    answer: str | bool = Field(
        description="Text for a question; true or false for an approval."
    )


class SessionPublic(BaseModel):
    """A session as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    owner_id: int
    goal: str
    status: str
    question: dict[str, Any] | None
    plan: dict[str, Any] | None
    verdict: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class SessionsPublic(BaseModel):
    """One page of sessions and the total count."""

    data: list[SessionPublic]
    count: int


@router.post("/sessions", status_code=202)
def create_session(
    user: Creator, runtime: RuntimeDep, session: SessionDep, body: SessionCreate
) -> SessionPublic:
    """Start a session on a goal; it runs on a worker (429 past the per-user limit)."""
    row = store.create_session(
        session, user, body.goal, max_active=runtime.settings.lab_max_active_sessions
    )
    session.commit()
    events_for(runtime).publish(row.id, "status", status="queued")
    enqueue_run(runtime, row.id)
    return SessionPublic.model_validate(row)


@router.get("/sessions")
def list_sessions(
    user: CurrentUser,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> SessionsPublic:
    """Your sessions, newest first (admins and viewers see everyone's)."""
    rows, count = store.list_sessions(session, user, offset=offset, limit=limit)
    return SessionsPublic(
        data=[SessionPublic.model_validate(r) for r in rows], count=count
    )


@router.get("/sessions/{session_id}")
def read_session(
    user: CurrentUser, session: SessionDep, session_id: str
) -> SessionPublic:
    """One session: status, pending question, plan, verdict and result."""
    return SessionPublic.model_validate(store.get_session(session, user, session_id))


@router.post("/sessions/{session_id}/reply", status_code=202)
def reply(
    user: Creator,
    runtime: RuntimeDep,
    session: SessionDep,
    session_id: str,
    body: SessionReply,
) -> SessionPublic:
    """Answer the pending question or approval; the session resumes on a worker."""
    row = store.get_session(session, user, session_id)
    store.check_can_change(user, row)
    if row.status != "waiting":
        raise Conflict(
            f"session {session_id} is {row.status}, not waiting for an answer"
        )
    row.status = "queued"
    session.commit()
    events_for(runtime).publish(row.id, "reply", answer=body.answer)
    enqueue_run(runtime, row.id, body.answer)
    return SessionPublic.model_validate(row)


@router.post("/sessions/{session_id}/cancel", status_code=202)
def cancel(user: Creator, session: SessionDep, session_id: str) -> SessionPublic:
    """Stop a session: at once if queued or waiting, else after its current node."""
    row = store.get_session(session, user, session_id)
    store.check_can_change(user, row)
    store.request_cancel(session, row)
    return SessionPublic.model_validate(row)


@router.get("/sessions/{session_id}/events")
def read_events(
    user: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    session_id: str,
    after: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The session's events from index `after` on."""
    store.get_session(session, user, session_id)
    return events_for(runtime).read(session_id, after)


@router.websocket("/sessions/{session_id}/ws")
async def follow_events(websocket: WebSocket, session_id: str) -> None:
    """Stream a session's events as JSON messages until it ends or the client leaves.

    Authenticate with `?token=...` or an `Authorization: Bearer` header.
    """
    runtime = websocket.app.state.runtime
    user = await authenticate_websocket(websocket)
    if user is None:
        return

    def load() -> LabSession:
        with session_scope(runtime.sessions) as session:
            return store.get_session(session, user, session_id)

    try:
        await anyio.to_thread.run_sync(load)
    except NotFound:
        await websocket.close(code=4404, reason="no such session")
        return
    await websocket.accept()
    events = events_for(runtime)
    sent = 0
    try:
        while True:
            batch = await anyio.to_thread.run_sync(events.read, session_id, sent)
            for event in batch:
                await websocket.send_json(event)
            sent += len(batch)
            row = await anyio.to_thread.run_sync(load)
            if row.status in store.FINISHED_STATUSES and not batch:
                await websocket.close()
                return
            await asyncio.sleep(WS_POLL_S)
    except WebSocketDisconnect:
        return


def _artifact(row: LabSession, name: str) -> bytes:
    manifest = (row.result or {}).get("artifacts") or {}
    if name not in manifest.get("sha256", {}):
        raise NotFound(f"session {row.id} has no artifact {name}")
    fs, root = fsspec.core.url_to_fs(manifest["location"])
    with fs.open(f"{root.rstrip('/')}/{name}", "rb") as handle:
        data: bytes = handle.read()
    return data


@router.get("/sessions/{session_id}/report")
def read_report(
    user: CurrentUser,
    session: SessionDep,
    session_id: str,
    format: Literal["html", "markdown"] = "html",
) -> Response:
    """The session's report, as self-contained HTML or as Markdown."""
    row = store.get_session(session, user, session_id)
    if format == "html":
        return HTMLResponse(_artifact(row, "report.html").decode())
    return PlainTextResponse(
        _artifact(row, "report.md").decode(), media_type=ARTIFACT_TYPES[".md"]
    )


@router.get("/sessions/{session_id}/artifacts")
def list_artifacts(
    user: CurrentUser, session: SessionDep, session_id: str
) -> dict[str, Any]:
    """Where the session's artifacts are and the SHA-256 of each."""
    row = store.get_session(session, user, session_id)
    manifest = (row.result or {}).get("artifacts")
    if not manifest:
        raise NotFound(f"session {session_id} has no artifacts yet")
    return dict(manifest)


@router.get("/sessions/{session_id}/artifacts/{name}")
def download_artifact(
    user: CurrentUser,
    session: SessionDep,
    session_id: str,
    name: str,
) -> Response:
    """One artifact file of the session."""
    row = store.get_session(session, user, session_id)
    data = _artifact(row, name)
    suffix = name[name.rfind(".") :] if "." in name else ""
    return Response(
        data,
        media_type=ARTIFACT_TYPES.get(suffix, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
