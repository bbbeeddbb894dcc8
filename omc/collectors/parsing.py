"""Helpers that turn provider values into column values, or raise MalformedItem.

Providers send numbers as JSON numbers or as strings, omit keys, send nulls and
now and then a value no float can hold. Every helper names the field in its error
so the skipped item's log line says what was wrong.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from omc.collectors.errors import MalformedItem

__all__ = [
    "bucket_start",
    "from_unix_s",
    "optional_float",
    "optional_str",
    "require_float",
    "require_str",
]


def optional_float(item: Mapping[str, Any], field: str) -> float | None:
    """A finite float from a number or numeric string; None if absent or null."""
    value = item.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedItem(f"{field} is a boolean, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MalformedItem(f"{field}={value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise MalformedItem(f"{field}={value!r} is not a finite number")
    return number


def require_float(item: Mapping[str, Any], field: str) -> float:
    """Like `optional_float`, but a missing or null value is malformed."""
    number = optional_float(item, field)
    if number is None:
        raise MalformedItem(f"{field} is missing")
    return number


def optional_str(
    item: Mapping[str, Any], field: str, *, max_chars: int | None = None
) -> str | None:
    """A non-empty string of at most `max_chars`, or None if absent, null or empty.

    The limit matches the column's: PostgreSQL refuses a longer value and would
    fail the whole batch, so the item is rejected alone instead.
    """
    value = item.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedItem(f"{field}={value!r} is not a string")
    if max_chars is not None and len(value) > max_chars:
        raise MalformedItem(f"{field} is longer than {max_chars} characters")
    return value


def require_str(
    item: Mapping[str, Any], field: str, *, max_chars: int | None = None
) -> str:
    """Like `optional_str`, but a missing, null or empty value is malformed."""
    value = optional_str(item, field, max_chars=max_chars)
    if value is None:
        raise MalformedItem(f"{field} is missing")
    return value


def from_unix_s(value: Any, field: str) -> datetime:
    """An aware UTC time from Unix seconds (a number or numeric string)."""
    seconds = require_float({field: value}, field)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedItem(f"{field}={value!r} is not a Unix time") from None


def bucket_start(at: datetime, cadence_s: int) -> datetime:
    """The start of the cadence slot `at` falls in: Unix time floored to `cadence_s`."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware UTC time")
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % cadence_s, UTC)
