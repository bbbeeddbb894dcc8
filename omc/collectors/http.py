"""The HTTP client every collector uses: retries, backoff, rate ceiling, time budget.

`HttpClient` wraps one `httpx.AsyncClient` for one run of one collector:

- each attempt has a timeout (`HttpPolicy.timeout_s`, cut to what is left of the run);
- timeouts, connection errors and 5xx answers are retried with exponential backoff
  and jitter, up to `max_retries` times;
- a 429 is retried after its `Retry-After` (seconds or an HTTP date), or after the
  backoff delay when the header is missing;
- requests are spaced to stay under `max_requests_per_s`;
- the whole run has a time budget (`run_budget_s`): a wait that would overrun it
  fails the run at once instead.

Other 4xx answers raise `ProviderRejected` without a retry. Tests hand in
`transport=` (an `httpx.MockTransport`) and `sleep=` to observe the delays.
"""

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx

from omc.collectors.errors import (
    MalformedPayload,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from omc.collectors.jsonstream import iter_json_array
from omc.settings import Settings

__all__ = ["HttpClient", "HttpPolicy", "parse_retry_after"]

logger = logging.getLogger(__name__)

USER_AGENT = "omc-collector/0.1 (Oh My Coins market data)"
BODY_EXCERPT_BYTES = 2048

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class HttpPolicy:
    """How patiently one run talks to one provider."""

    timeout_s: float = 20.0
    max_retries: int = 4
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    run_budget_s: float = 600.0
    max_requests_per_s: float | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, max_requests_per_s: float | None = None
    ) -> "HttpPolicy":
        """The operator's policy, plus the provider's own request ceiling."""
        return cls(
            timeout_s=settings.collector_timeout_s,
            max_retries=settings.collector_max_retries,
            backoff_base_s=settings.collector_backoff_base_s,
            backoff_max_s=settings.collector_backoff_max_s,
            run_budget_s=settings.collector_run_budget_s,
            max_requests_per_s=max_requests_per_s,
        )


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class HttpClient:
    """An async HTTP client for one collector run; use it as an async context."""

    def __init__(
        self,
        source: str,
        *,
        base_url: str,
        policy: HttpPolicy,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.source = source
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._deadline = clock() + policy.run_budget_s
        self._next_slot_at = 0.0
        self._slot_lock = asyncio.Lock()
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            transport=transport,
            follow_redirects=True,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request with retries; return the successful, fully read response."""
        return await self._send(method, url, stream=False, **kwargs)

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET a JSON document and return it parsed."""
        response = await self.request("GET", url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise MalformedPayload(
                f"{self.source}: GET {_without_query(url)} answered with invalid "
                f"JSON ({exc})"
            ) from exc

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, **kwargs: Any
    ) -> AsyncIterator[httpx.Response]:
        """Open a response whose body is read as it arrives; retries until it opens."""
        response = await self._send(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    async def iter_json_array(self, url: str, **kwargs: Any) -> AsyncIterator[Any]:
        """GET a JSON array and yield its items one by one, never holding it whole."""
        async with self.stream("GET", url, **kwargs) as response:
            try:
                async for item in iter_json_array(response.aiter_bytes()):
                    yield item
            except httpx.HTTPError as exc:
                raise ProviderUnavailable(
                    f"{self.source}: GET {_without_query(url)} broke off: "
                    f"{type(exc).__name__}"
                ) from exc
            except ValueError as exc:
                raise MalformedPayload(
                    f"{self.source}: GET {_without_query(url)} is not a readable "
                    f"JSON array ({exc})"
                ) from exc

    async def _send(
        self, method: str, url: str, *, stream: bool, **kwargs: Any
    ) -> httpx.Response:
        shown = _without_query(url)
        attempt = 0
        while True:
            await self._wait_for_slot()
            timeout_s = self._attempt_timeout_s(method, shown)
            request = self._client.build_request(
                method, url, timeout=timeout_s, **kwargs
            )
            try:
                response = await self._client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                failure: Exception = ProviderUnavailable(
                    f"{self.source}: {method} {shown} timed out after {timeout_s:g} s"
                )
                cause: Exception | None = exc
                delay_s = self._backoff_s(attempt)
            except httpx.TransportError as exc:
                failure = ProviderUnavailable(
                    f"{self.source}: {method} {shown} failed: {type(exc).__name__}"
                )
                cause, delay_s = exc, self._backoff_s(attempt)
            else:
                if response.is_success:
                    return response
                failure, delay_s = await self._failure_of(response, attempt)
                cause = None
            await self._before_retry(failure, cause, attempt, delay_s, shown)
            attempt += 1

    async def _failure_of(
        self, response: httpx.Response, attempt: int
    ) -> tuple[Exception, float]:
        """Turn an unsuccessful answer into the error it means and the wait it asks."""
        status = response.status_code
        method, url = response.request.method, response.request.url.path
        if status == httpx.codes.TOO_MANY_REQUESTS:
            await response.aclose()
            retry_after_s = parse_retry_after(
                response.headers.get("Retry-After"), now=datetime.now(UTC)
            )
            delay_s = (
                self._backoff_s(attempt) if retry_after_s is None else retry_after_s
            )
            message = f"{self.source}: {method} {url} rate limited (HTTP 429)"
            return ProviderRateLimited(message, retry_after_s=retry_after_s), delay_s
        if status >= httpx.codes.INTERNAL_SERVER_ERROR:
            await response.aclose()
            message = f"{self.source}: {method} {url} answered HTTP {status}"
            return ProviderUnavailable(message), self._backoff_s(attempt)
        body = (await response.aread())[:BODY_EXCERPT_BYTES]
        await response.aclose()
        raise ProviderRejected(
            f"{self.source}: {method} {url} answered HTTP {status}",
            status_code=status,
            body=body,
        )

    async def _before_retry(
        self,
        failure: Exception,
        cause: Exception | None,
        attempt: int,
        delay_s: float,
        url: str,
    ) -> None:
        """Wait before the next attempt, or raise `failure` when none is left."""
        if attempt >= self._policy.max_retries:
            raise failure from cause
        remaining_s = self._deadline - self._clock()
        if delay_s >= remaining_s:
            message = (
                f"{failure}; waiting {delay_s:g} s more would overrun the run "
                f"budget of {self._policy.run_budget_s:g} s"
            )
            if isinstance(failure, ProviderRateLimited):
                raise ProviderRateLimited(
                    message, retry_after_s=failure.retry_after_s
                ) from cause
            raise ProviderUnavailable(message) from cause
        logger.warning(
            "provider request retried",
            extra={
                "source": self.source,
                "url": url,
                "error": str(failure),
                "attempt": attempt + 1,
                "delay_s": round(delay_s, 3),
            },
        )
        await self._sleep(delay_s)

    def _attempt_timeout_s(self, method: str, url: str) -> float:
        remaining_s = self._deadline - self._clock()
        if remaining_s <= 0:
            raise ProviderUnavailable(
                f"{self.source}: {method} {url} not sent: the run budget of "
                f"{self._policy.run_budget_s:g} s is used up"
            )
        return min(self._policy.timeout_s, remaining_s)

    def _backoff_s(self, attempt: int) -> float:
        """Exponential backoff with jitter: half the step fixed, half random."""
        step_s = min(
            self._policy.backoff_max_s, self._policy.backoff_base_s * 2.0**attempt
        )
        return step_s / 2 + step_s / 2 * self._jitter()

    async def _wait_for_slot(self) -> None:
        ceiling = self._policy.max_requests_per_s
        if not ceiling:
            return
        async with self._slot_lock:
            now = self._clock()
            start_at = max(now, self._next_slot_at)
            self._next_slot_at = start_at + 1 / ceiling
        if start_at > now:
            await self._sleep(start_at - now)


def _without_query(url: str) -> str:
    """The URL as errors and logs show it: query strings may carry tokens."""
    return str(httpx.URL(url).copy_with(query=None))
