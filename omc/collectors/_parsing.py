"""Helpers shared by the source parsers: lenient reading of untidy provider JSON.

Providers send numbers as strings, nulls where a value is expected, HTML entities
in titles, and now and then an item that makes no sense. The helpers here accept
the harmless variants and raise `ItemError` for the rest; each parser turns an
`ItemError` into one skipped, counted and logged item, never a failed run.
"""

import html
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from omc.errors import OmcError

__all__ = [
    "INT32_MAX",
    "ItemError",
    "ParsedPage",
    "PayloadError",
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


class PayloadError(OmcError):
    """A provider answered with a payload of an unexpected shape.

    The run fails and is recorded; check the provider's status or the configured
    base URL (a proxy's error page is a common cause).
    """


class ItemError(ValueError):
    """One item of a payload is malformed; the parser skips and counts it."""


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
        except ItemError as exc:
            errors.append(str(exc))
            logger.warning(
                "malformed item skipped",
                extra={"source": source, "index": index, "reason": str(exc)},
            )
    return ParsedPage(records, skipped=len(errors), cursor=cursor, errors=errors)
