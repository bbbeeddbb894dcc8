import asyncio
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from omc.collectors.errors import (
    MalformedPayload,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from omc.collectors.http import HttpClient, HttpPolicy, parse_retry_after
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
POLICY = HttpPolicy(timeout_s=1.0, max_retries=3, backoff_base_s=0.5, backoff_max_s=4.0)


class Script:
    """A MockTransport handler answering with scripted responses, in order."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def run_get(script: Script, policy: HttpPolicy = POLICY, **kwargs):
    """GET /data through a client on the script; return (result, sleeps)."""
    sleeps: list[float] = []

    async def sleep(delay_s: float) -> None:
        sleeps.append(delay_s)

    async def go():
        async with HttpClient(
            "test",
            base_url="http://provider.test",
            policy=policy,
            transport=httpx.MockTransport(script),
            sleep=sleep,
            **{"jitter": lambda: 1.0, **kwargs},
        ) as http:
            return await http.get_json("/data")

    return asyncio.run(go()), sleeps


def test_get_json_returns_the_parsed_document() -> None:
    script = Script(httpx.Response(200, json={"a": [1, 2]}))

    result, sleeps = run_get(script)

    assert result == {"a": [1, 2]}
    assert sleeps == []
    assert script.requests[0].headers["user-agent"].startswith("omc-collector/")


def test_server_errors_are_retried_with_exponential_backoff() -> None:
    script = Script(
        httpx.Response(500), httpx.Response(502), httpx.Response(200, json=[])
    )

    result, sleeps = run_get(script)

    assert result == []
    assert sleeps == [0.5, 1.0]


def test_backoff_jitter_keeps_at_least_half_the_step() -> None:
    script = Script(httpx.Response(503), httpx.Response(200, json=[]))

    _, sleeps = run_get(script, jitter=lambda: 0.0)

    assert sleeps == [0.25]


def test_retries_stop_after_the_limit_with_provider_unavailable() -> None:
    script = Script(httpx.Response(503))

    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        run_get(script)

    assert len(script.requests) == POLICY.max_retries + 1


def test_timeouts_and_connection_errors_are_retried() -> None:
    script = Script(
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"ok": True}),
    )

    result, sleeps = run_get(script)

    assert result == {"ok": True}
    assert len(sleeps) == 2


def test_429_waits_the_seconds_of_retry_after() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, json=[]),
    )

    _, sleeps = run_get(script)

    assert sleeps == [7.0]


def test_429_without_retry_after_backs_off() -> None:
    script = Script(httpx.Response(429), httpx.Response(200, json=[]))

    _, sleeps = run_get(script)

    assert sleeps == [0.5]


def test_429_beyond_the_retries_raises_rate_limited() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "1"}))

    with pytest.raises(ProviderRateLimited) as caught:
        run_get(script)

    assert caught.value.retry_after_s == 1.0


def test_a_wait_longer_than_the_run_budget_fails_at_once() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(200, json=[]),
    )
    policy = HttpPolicy(max_retries=3, run_budget_s=60)

    with pytest.raises(ProviderRateLimited, match="run budget"):
        run_get(script, policy)

    assert len(script.requests) == 1


def test_other_client_errors_are_not_retried() -> None:
    script = Script(httpx.Response(401, json={"error": "bad token"}))

    with pytest.raises(ProviderRejected) as caught:
        run_get(script)

    assert caught.value.status_code == 401
    assert b"bad token" in caught.value.body
    assert len(script.requests) == 1


def test_invalid_json_raises_malformed_payload() -> None:
    script = Script(httpx.Response(200, content=b"<html>oops"))

    with pytest.raises(MalformedPayload, match="invalid JSON"):
        run_get(script)


def test_requests_are_spaced_under_the_rate_ceiling() -> None:
    clock = [100.0]
    sleeps: list[float] = []

    async def sleep(delay_s: float) -> None:
        sleeps.append(delay_s)
        clock[0] += delay_s

    async def go() -> None:
        async with HttpClient(
            "test",
            base_url="http://provider.test",
            policy=HttpPolicy(max_requests_per_s=4),
            transport=httpx.MockTransport(lambda _r: httpx.Response(200, json=1)),
            sleep=sleep,
            clock=lambda: clock[0],
        ) as http:
            for _ in range(3):
                await http.get_json("/x")

    asyncio.run(go())

    assert sleeps == [0.25, 0.25]


def test_retries_are_logged_as_warnings(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(httpx.Response(500), httpx.Response(200, json=[]))

    with caplog.at_level(logging.WARNING, logger="omc.collectors.http"):
        run_get(script)

    [record] = caplog.records
    assert record.getMessage() == "provider request retried"
    assert record.__dict__["attempt"] == 1


def test_parse_retry_after_reads_seconds_and_http_dates() -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)

    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after(later, now=NOW) == 90.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_a_real_slow_server_times_out_and_the_retry_succeeds(
    replay_server: ReplayServer,
) -> None:
    replay_server.add(
        "/slow", Reply.json({"late": True}, delay_s=0.5), Reply.json({"late": False})
    )

    async def go():
        async with HttpClient(
            "test",
            base_url=replay_server.url,
            policy=HttpPolicy(timeout_s=0.2, backoff_base_s=0.01),
        ) as http:
            return await http.get_json("/slow")

    assert asyncio.run(go()) == {"late": False}
    assert len(replay_server.requests_to("/slow")) == 2


def test_stream_of_a_json_array_yields_items(replay_server: ReplayServer) -> None:
    replay_server.add("/items", Reply.json([{"n": n} for n in range(1000)]))

    async def go():
        async with HttpClient(
            "test", base_url=replay_server.url, policy=HttpPolicy()
        ) as http:
            return [item["n"] async for item in http.iter_json_array("/items")]

    assert asyncio.run(go()) == list(range(1000))


def test_errors_never_show_the_query_string_where_tokens_travel() -> None:
    script = Script(httpx.ReadTimeout("slow"))

    async def go():
        async with HttpClient(
            "test",
            base_url="http://provider.test",
            policy=HttpPolicy(max_retries=0),
            transport=httpx.MockTransport(script),
        ) as http:
            await http.get_json("/posts/?auth_token=s3cret&page=2")

    with pytest.raises(ProviderUnavailable) as caught:
        asyncio.run(go())

    assert str(caught.value) == "test: GET /posts/ timed out after 20 s"
