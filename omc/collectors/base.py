"""The base of every collector: configuration, one fetch, parsed rows and counts.

A collector subclass says where its provider is and how to read it; the runner
(`omc.collectors.runner`) does everything around it: the lock, the run record, the
bulk upsert, the cache and the metrics. A new source needs only this:

    class ExampleCollector(Collector):
        name = "example"

        @property
        def cadence_s(self) -> int:
            return self.settings.example_cadence_s

        @property
        def base_url(self) -> str:
            return self.settings.example_base_url

        def disabled_reason(self) -> str | None:
            if self.settings.example_token is None:
                return "OMC_EXAMPLE_TOKEN is not set"
            return None

        async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
            result = CollectResult()
            payload = await http.get_json("/api/items", params={"page": 1})
            self.parse_items(
                result,
                NewsPost,
                ((str(item.get("id")), item) for item in payload["results"]),
                lambda item: {...row of NewsPost...},
            )
            return result

`parse_items` (or `parse_item`, one at a time) counts every item as fetched; an
item whose parser raises `MalformedItem` (or KeyError, TypeError, ValueError) is
skipped, counted and logged with its key, and the others are kept. A problem with
the answer as a whole raises a `CollectorError` (`MalformedPayload`,
`ProviderErrorBody`...), failing the run.
Rows are dicts of column values, grouped by table model; the runner upserts them by
primary key, and a change of `collected_at` alone never counts as a change.
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from omc.collectors.errors import MalformedItem
from omc.collectors.http import HttpClient, HttpPolicy, Sleep
from omc.db.base import Base
from omc.settings import Settings

__all__ = ["CollectResult", "Collector", "Row"]

logger = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass
class CollectResult:
    """What one fetch produced: rows by table, counts, and latest values to cache."""

    rows: dict[type[Base], list[Row]] = field(default_factory=dict)
    fetched: int = 0
    skipped: int = 0
    latest: dict[str, Any] = field(default_factory=dict)

    def add(self, model: type[Base], row: Row) -> None:
        """Keep one parsed row for `model`'s table."""
        self.rows.setdefault(model, []).append(row)

    def skip(self, source: str, key: str, reason: str) -> None:
        """Count one malformed item and log it with its key."""
        self.skipped += 1
        logger.warning(
            "malformed item skipped",
            extra={"collector": source, "item": key, "reason": reason},
        )

    @property
    def row_count(self) -> int:
        """Rows parsed, over every table."""
        return sum(len(rows) for rows in self.rows.values())


class Collector(ABC):
    """One source: where it is, how often to ask, and how to read its answers."""

    name: ClassVar[str]
    # The provider's own request ceiling (e.g. SEC's 10 a second); None: no ceiling.
    max_requests_per_s: ClassVar[float | None] = None

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._sleep = sleep

    @property
    @abstractmethod
    def cadence_s(self) -> int:
        """Seconds between two scheduled runs."""

    @property
    @abstractmethod
    def base_url(self) -> str:
        """The provider's base URL, from the settings."""

    def headers(self) -> dict[str, str]:
        """Headers every request of this collector carries (e.g. a User-Agent)."""
        return {}

    def disabled_reason(self) -> str | None:
        """Why the collector cannot run (e.g. a missing token), or None if it can."""
        return None

    @abstractmethod
    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        """Fetch every page needed and parse it into rows; `now` is the run's time."""

    async def fetch(self, *, now: datetime) -> CollectResult:
        """Open an HTTP client with the configured policy and run `collect`."""
        policy = HttpPolicy.from_settings(
            self.settings, max_requests_per_s=self.max_requests_per_s
        )
        async with HttpClient(
            self.name,
            base_url=self.base_url,
            policy=policy,
            headers=self.headers(),
            transport=self._transport,
            sleep=self._sleep,
        ) as http:
            return await self.collect(http, now=now)

    def parse_items(
        self,
        result: CollectResult,
        model: type[Base],
        items: Iterable[tuple[str, Any]],
        parse: Callable[[Any], Row],
    ) -> None:
        """Parse `(key, item)` pairs into rows of `model`, skipping malformed ones."""
        for key, item in items:
            self.parse_item(result, model, key, item, parse)

    def parse_item(
        self,
        result: CollectResult,
        model: type[Base],
        key: str,
        item: Any,
        parse: Callable[[Any], Row],
    ) -> None:
        """Count one fetched item and keep its row, or skip and log it by `key`."""
        result.fetched += 1
        try:
            row = parse(item)
        except MalformedItem as exc:
            result.skip(self.name, key, str(exc))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.skip(self.name, key, f"{type(exc).__name__}: {exc}")
        else:
            result.add(model, row)
