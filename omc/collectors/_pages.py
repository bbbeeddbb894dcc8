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
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from omc.collectors.base import CollectResult
from omc.collectors.errors import MalformedItem, MalformedPayload
from omc.db.base import Base

__all__ = [
    "INT32_MAX",
    "ItemError",
    "ParsedPage",
    "PayloadError",
    "add_page",
    "as_float",
    "as_int",
    "as_text",
    "from_epoch",
    "parse_items",
    "parse_utc",
    "require",
]

logger = logging.getLogger(__name__)

R = TypeVar("R")

INT32_MAX = 2**31 - 1
# Epoch values above this are milliseconds (1e11 s is the year 5138).
_EPOCH_MS_THRESHOLD = 100_000_000_000


# The framework's names for a broken answer and a broken item, under short aliases.
PayloadError = MalformedPayload
ItemError = MalformedItem
# Besides MalformedItem, what a parser may raise on an item of an unexpected shape.
_ITEM_FAULTS = (MalformedItem, KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class ParsedPage(Generic[R]):
    """The records of one page, how many items were skipped, and the next cursor."""

    records: list[R]
    skipped: int = 0
    cursor: str | None = None
    errors: list[str] = field(default_factory=list)


def require(item: Mapping[str, Any], key: str) -> Any:
    """Return `item[key]`, raising ItemError when it is absent or null."""
    value = item.get(key)
    if value is None:
        raise ItemError(f"{key} is missing")
    return value


def as_text(value: Any, name: str, *, unescape: bool = True) -> str:
    """Return a string field without surrounding space, HTML entities decoded."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ItemError(f"{name} is not text: {type(value).__name__}")
    text = str(value).strip()
    return html.unescape(text) if unescape else text


def as_float(value: Any, name: str) -> float:
    """Return a finite float from a number or a numeric string."""
    if isinstance(value, bool):
        raise ItemError(f"{name} is a boolean, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ItemError(f"{name} is not a number: {value!r:.40}") from None
    if not math.isfinite(number):
        raise ItemError(f"{name} is not finite: {value!r:.40}")
    return number


def as_int(value: Any, name: str, *, maximum: int = INT32_MAX) -> int:
    """Return an int from an integer, an integral float or a numeric string."""
    number = as_float(value, name)
    if not number.is_integer():
        raise ItemError(f"{name} is not a whole number: {value!r:.40}")
    if abs(number) > maximum:
        raise ItemError(f"{name} is out of range: {value!r:.40}")
    return int(number)


def parse_utc(value: Any, name: str) -> datetime:
    """Return an aware UTC datetime from ISO-8601 text; no offset means UTC."""
    text = as_text(value, name, unescape=False)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ItemError(f"{name} is not an ISO-8601 time: {text!r:.40}") from None
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
        raise ItemError(f"{name} is out of range: {value!r:.40}") from None


def parse_items(
    items: Iterable[Any],
    parse: Callable[[Mapping[str, Any]], R],
    *,
    source: str,
    cursor: str | None = None,
) -> ParsedPage[R]:
    """Parse every item; skip, count and log those that are malformed."""
    records: list[R] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, Mapping):
                raise ItemError(f"item is {type(item).__name__}, not an object")
            records.append(parse(item))
        except _ITEM_FAULTS as exc:
            errors.append(str(exc))
            logger.warning(
                "malformed item skipped",
                extra={"source": source, "index": index, "reason": str(exc)},
            )
    return ParsedPage(records, skipped=len(errors), cursor=cursor, errors=errors)


def add_page(result: CollectResult, model: type[Base], page: ParsedPage[Any]) -> None:
    """Add a page's records as rows of `model`, and count its items."""
    result.fetched += len(page.records) + page.skipped
    result.skipped += page.skipped
    for record in page.records:
        result.add(model, asdict(record))
