"""A real HTTP server on 127.0.0.1 that answers with scripted responses.

Collector tests point a collector's base URL at `ReplayServer.url` and script what
each path answers, in order:

    replay_server.add("/pubapi/v2/latest", Reply(status=429, headers={"Retry-After": "1"}))
    replay_server.add("/pubapi/v2/latest", Reply.json({"status": "ok", "prices": {...}}))

Each request to a path takes the next reply of that path; the last reply repeats
for every later request, so a rerun sees the same answer. A path without replies
answers 404. `Reply(delay_s=...)` answers late (to provoke client timeouts) and
`Reply(drop=True)` closes the connection without answering. Every request is
recorded (`requests`, `requests_to(path)`) with its method, path, query,
headers and body, for assertions on what the collector sent.
"""

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["RecordedRequest", "Reply", "ReplayServer"]


class _QuietServer(ThreadingHTTPServer):
    """Daemon handler threads; a client that hung up early is no error here."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return None


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200, **kwargs: Any) -> "Reply":
        """Answer with a JSON document."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        body = json.dumps(payload).encode()
        return cls(status=status, body=body, headers=headers, **kwargs)

    @classmethod
    def file(cls, path: Path, status: int = 200, **kwargs: Any) -> "Reply":
        """Answer with the bytes of a fixture file, as JSON."""
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return cls(status=status, body=path.read_bytes(), headers=headers, **kwargs)


@dataclass(frozen=True)
class RecordedRequest:
    """What the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


class ReplayServer:
    """Serve scripted replies on an ephemeral loopback port, from a thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, list[Reply]] = defaultdict(list)
        self.requests: list[RecordedRequest] = []
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="replay-server",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:40123`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add(self, path: str, *replies: Reply) -> None:
        """Queue replies for a path (without query string)."""
        with self._lock:
            self._replies[path].extend(replies)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The requests received for one path, in order."""
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self._replies.get(request.path)
            if not queue:
                return Reply(status=404, body=b'{"detail": "no reply scripted"}')
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = server._next_reply(
                    RecordedRequest(
                        method=self.command,
                        path=parts.path,
                        query=parse_qs(parts.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def __enter__(self) -> "ReplayServer":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
