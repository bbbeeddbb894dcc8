"""ASGI middleware: request context and metrics, body size limit, per-client limit."""

import json
import logging
import re
import time
import uuid
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omc.api.ratelimit import enforce_limit
from omc.cache import Store
from omc.errors import RateLimited
from omc.logs import bind_context
from omc.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

__all__ = [
    "BodyLimitMiddleware",
    "ClientRateLimitMiddleware",
    "RequestContextMiddleware",
]

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# Probes and scrapes are frequent and cheap; limiting them would fail health checks.
UNLIMITED_PATHS = frozenset({"/health", "/ready", "/metrics"})
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Give each request an id, log one line for it and record its metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = (
            incoming
            if incoming and _SAFE_REQUEST_ID.match(incoming)
            else uuid.uuid4().hex
        )
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        with bind_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status, time.perf_counter() - start)

    @staticmethod
    def _record(scope: Scope, status: int, duration_s: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "WS")
        HTTP_REQUESTS.labels(method=method, route=template, status=str(status)).inc()
        HTTP_REQUEST_SECONDS.labels(method=method, route=template).observe(duration_s)
        if template in UNLIMITED_PATHS:
            return
        logger.info(
            "request finished",
            extra={
                "method": method,
                "path": scope.get("path"),
                "status": status,
                "duration_ms": round(duration_s * 1000, 1),
            },
        )


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, declared or streamed.

    The body is read up to the limit before the app sees it, so an oversized
    stream is refused before any handler runs and the app gets the body in one piece.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self._refuse(send)
            return
        body = bytearray()
        first: Message | None = None
        while first is None:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                first = {
                    "type": "http.request",
                    "body": bytes(body),
                    "more_body": False,
                }
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await _send_json(
            send, 413, {"detail": f"request body larger than {self.max_bytes} bytes"}
        )


class ClientRateLimitMiddleware:
    """Limit requests per client address; signed-in users have their own limit too."""

    def __init__(self, app: ASGIApp, *, store: Store, limit_per_min: int) -> None:
        self.app = app
        self.store = store
        self.limit_per_min = limit_per_min

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ident = client[0] if client else "unknown"
        try:
            # The limiter talks to Redis; keep that blocking call off the event loop.
            await anyio.to_thread.run_sync(
                lambda: enforce_limit(
                    self.store,
                    scope="ip",
                    ident=ident,
                    limit_per_window=self.limit_per_min,
                )
            )
        except RateLimited as exc:
            await _send_json(
                send,
                429,
                {"detail": str(exc)},
                [(b"retry-after", str(exc.retry_after_s).encode())],
            )
            return
        await self.app(scope, receive, send)
