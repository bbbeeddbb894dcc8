"""A loopback HTTP server that speaks enough of the OpenAI and Anthropic APIs for tests."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0


@dataclass
class Script:
    """Replies served in order per path; the requests seen, for assertions."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = field(
        default_factory=list
    )

    def add(self, path: str, *replies: Reply) -> None:
        self.replies.setdefault(path, []).extend(replies)


def openai_reply(content: str) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    )


def anthropic_reply(plan: dict[str, Any]) -> Reply:
    return Reply(
        body={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "test-model",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "submit_plan",
                    "input": plan,
                }
            ],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 13, "output_tokens": 9},
        }
    )


def error_reply(status: int, delay_s: float = 0.0) -> Reply:
    return Reply(
        status=status,
        body={"error": {"message": "scripted", "type": "x"}},
        delay_s=delay_s,
    )


@contextmanager
def serve(script: Script) -> Iterator[str]:
    """Run the server on a free loopback port; yield its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            payload = json.loads(self.rfile.read(length) or b"{}")
            script.requests.append(
                (self.path, payload, {k.lower(): v for k, v in self.headers.items()})
            )
            queue = script.replies.get(self.path, [])
            reply = queue.pop(0) if queue else error_reply(404)
            time.sleep(reply.delay_s)
            data = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
