"""A small HTTP server for processes without the API: /metrics, /health, /ready.

`omc worker` and `omc scheduler` serve it on `OMC_METRICS_PORT`, so Prometheus can
scrape them and Kubernetes can probe them like the API.
"""

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omc.metrics import REGISTRY

__all__ = ["ProbeServer"]

logger = logging.getLogger(__name__)

ReadyCheck = Callable[[], list[str]]


class ProbeServer:
    """Serve metrics and probes from a daemon thread."""

    def __init__(self, host: str, port: int, ready: ReadyCheck | None = None) -> None:
        self._server = ThreadingHTTPServer((host, port), self._handler(ready))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="probe-server", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start answering in the background."""
        self._thread.start()
        logger.info("probe server listening", extra={"port": self.port})

    def stop(self) -> None:
        """Stop answering and free the port."""
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def _handler(ready: ReadyCheck | None) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
                elif path == "/health":
                    self._json(200, {"status": "ok"})
                elif path == "/ready" and ready is not None:
                    names = ready()
                    status = 503 if names else 200
                    self._json(
                        status,
                        {
                            "status": "unavailable" if names else "ready",
                            "failing": names,
                        },
                    )
                else:
                    self._json(404, {"detail": "not found"})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                self._send(status, json.dumps(body).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002  (silenced)
                return None

        return Handler
