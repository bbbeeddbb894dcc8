"""Page parsing for the text sources (CryptoPanic, Reddit, SEC EDGAR).

Complements `omc.collectors.parsing` with what text sources need: HTML entities
decoded, integers checked against the column's range, ISO-8601 and epoch times.
The parsers are pure functions from a decoded payload to a `ParsedPage` of typed
records; `parse_items` turns a malformed item into one skipped, counted and logged
item, never a failed run, and `add_page` hands a page to the runner's result.
"""

import html
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from omc.collectors.base import CollectResult
from omc.collectors.errors import MalformedItem
from omc.db.base import Base

__all__ = [
    "INT32_MAX",
    "ParsedPage",
    "add_page",
    "as_float",
    "as_int",
    "as_text",
    "from_epoch",
    "parse_items",
    "parse_utc",
    "reaches_back",
    "require",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")

INT32_MAX = 2**31 - 1
# Epoch values above this are milliseconds (1e11 s is the year 5138).
_EPOCH_MS_THRESHOLD = 100_000_000_000

# Besides MalformedItem, what a parser may raise on an item of an unexpected shape.
_ITEM_FAULTS = (MalformedItem, KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class ParsedPage(Generic[R]):
    """The records of one page, how many items were skipped, and the next cursor."""

    records: list[R]
    skipped: int = 0
    cursor: str | None = None


class _Dated(Protocol):
    @property
    def published_at(self) -> datetime: ...


D = TypeVar("D", bound=_Dated)


def require(item: Mapping[str, Any], key: str) -> Any:
    """Return `item[key]`, raising ItemError when it is absent or null."""
    value = item.get(key)
    if value is None:
        raise MalformedItem(f"{key} is missing")
    return value


def as_text(value: Any, name: str, *, unescape: bool = True) -> str:
    """Return a string field without surrounding space, HTML entities decoded."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedItem(f"{name} is not text: {type(value).__name__}")
    text = str(value).strip()
    return html.unescape(text) if unescape else text


def as_float(value: Any, name: str) -> float:
    """Return a finite float from a number or a numeric string."""
    if isinstance(value, bool):
        raise MalformedItem(f"{name} is a boolean, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MalformedItem(f"{name} is not a number: {value!r:.40}") from None
    if not math.isfinite(number):
        raise MalformedItem(f"{name} is not finite: {value!r:.40}")
    return number


def as_int(value: Any, name: str, *, maximum: int = INT32_MAX) -> int:
    """Return an int from an integer, an integral float or a numeric string."""
    number = as_float(value, name)
    if not number.is_integer():
        raise MalformedItem(f"{name} is not a whole number: {value!r:.40}")
    if abs(number) > maximum:
        raise MalformedItem(f"{name} is out of range: {value!r:.40}")
    return int(number)


def parse_utc(value: Any, name: str) -> datetime:
    """Return an aware UTC datetime from ISO-8601 text; no offset means UTC."""
    text = as_text(value, name, unescape=False)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedItem(f"{name} is not an ISO-8601 time: {text!r:.40}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_epoch(value: Any, name: str) -> datetime:
    """Return an aware UTC datetime from epoch seconds or milliseconds."""
    seconds = as_float(value, name)
    if abs(seconds) >= _EPOCH_MS_THRESHOLD:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedItem(f"{name} is out of range: {value!r:.40}") from None


def parse_items(
    items: Iterable[Any],
    parse: Callable[[Mapping[str, Any]], R],
    *,
    source: str,
    key_of: Callable[[Mapping[str, Any]], Any],
    cursor: str | None = None,
) -> ParsedPage[R]:
    """Parse every item; skip, count and log by its key those that are malformed."""
    records: list[R] = []
    skipped = 0
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise MalformedItem(f"item is {type(item).__name__}, not an object")
            records.append(parse(item))
        except _ITEM_FAULTS as exc:
            skipped += 1
            logger.warning(
                "malformed item skipped",
                extra={
                    "collector": source,
                    "item": _key(item, key_of, index),
                    "reason": f"{type(exc).__name__}: {exc}",
                },
            )
    return ParsedPage(records, skipped=skipped, cursor=cursor)


def _key(item: Any, key_of: Callable[[Mapping[str, Any]], Any], index: int) -> str:
    """The item's own identifier where it has one, else its position on the page."""
    try:
        key = key_of(item) if isinstance(item, Mapping) else None
    except _ITEM_FAULTS:
        key = None
    return str(key)[:80] if key not in (None, "") else f"#{index}"


def reaches_back(page: ParsedPage[D], horizon: datetime) -> bool:
    """Whether the page holds a record published before `horizon`."""
    return any(record.published_at < horizon for record in page.records)


def add_page(result: CollectResult, model: type[Base], page: ParsedPage[Any]) -> None:
    """Add a page's records as rows of `model`, and count its items."""
    result.fetched += len(page.records) + page.skipped
    result.skipped += page.skipped
    for record in page.records:
        result.add(model, asdict(record))
