"""Answers in the OpenAI and Anthropic HTTP formats, for the loopback replay server."""

import json
from typing import Any

from tests.replay import Reply


def openai_reply(content: str) -> Reply:
    """A chat completion whose message is `content`."""
    return Reply.json(
        {
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
    """A message that calls the plan tool with `plan` as its input."""
    return Reply.json(
        {
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
    """A provider error document with that status, optionally late."""
    return Reply.json(
        {"error": {"message": "scripted", "type": "x"}}, status=status, delay_s=delay_s
    )


def payload(body: bytes) -> dict[str, Any]:
    """The JSON a client sent."""
    decoded: dict[str, Any] = json.loads(body or b"{}")
    return decoded
