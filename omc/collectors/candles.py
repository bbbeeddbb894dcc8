"""OHLCV candles: timeframes, storage and the newest stored candle.

Shared by the file import and the exchange backfill. A candle is keyed by source,
coin, timeframe and open time, so storing the same candles again changes nothing.
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from omc.db.bulk import upsert_rows
from omc.db.models.collectors import Ohlcv
from omc.errors import StorageError

__all__ = [
    "PRICE_COLUMNS",
    "check_coin",
    "check_source",
    "last_candle_at",
    "store_candles",
    "timeframe_delta",
]

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
CHUNK_ROWS = 50_000
_TIMEFRAME = re.compile(r"^([1-9][0-9]{0,3})([smhdwM])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_COIN = re.compile(r"^[A-Z0-9]{1,32}$")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,31}$")


def timeframe_delta(timeframe: str) -> timedelta:
    """Length of one candle, e.g. `1h` -> one hour; `1M` counts as 30 days.

    Raises:
        ValueError: the timeframe is not a count and a unit (s, m, h, d, w, M).
    """
    match = _TIMEFRAME.match(timeframe)
    if match is None:
        raise ValueError(
            f"timeframe {timeframe!r} must be a count and a unit, e.g. 1m, 1h, 1d"
        )
    count, unit = int(match.group(1)), match.group(2)
    # Limitation: a month is taken as 30 days; only used to size progress and resume.
    seconds = 30 * 86_400 if unit == "M" else _UNIT_SECONDS[unit]
    return timedelta(seconds=count * seconds)


def check_coin(coin: str) -> str:
    """Return the coin symbol upper-cased; raise ValueError when it is not one."""
    symbol = coin.strip().upper()
    if not _COIN.match(symbol):
        raise ValueError(f"coin {coin!r} must be 1 to 32 letters or digits, e.g. BTC")
    return symbol


def check_source(source: str) -> str:
    """Return the source name lower-cased; raise ValueError when it is not one."""
    name = source.strip().lower()
    if not _SOURCE.match(name):
        raise ValueError(
            f"source {source!r} must be 1 to 32 letters, digits, '.', '_' or '-'"
        )
    return name


def store_candles(engine: Engine, rows: Iterable[Mapping[str, Any]]) -> int:
    """Upsert candles in one transaction; return how many were new or changed.

    Rows are built and written a chunk at a time, so a file of millions of candles
    never holds them all as dicts at once; one transaction keeps it all-or-nothing.
    """
    stored = 0
    try:
        with engine.begin() as conn:
            for chunk in _chunks(rows, CHUNK_ROWS):
                stored += upsert_rows(conn, Ohlcv, chunk, compare_columns=PRICE_COLUMNS)
    except SQLAlchemyError as exc:
        raise StorageError(f"storing candles failed: {type(exc).__name__}") from exc
    return stored


def _chunks(
    rows: Iterable[Mapping[str, Any]], size: int
) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def last_candle_at(
    engine: Engine, *, source: str, coin: str, timeframe: str
) -> datetime | None:
    """Open time of the newest stored candle of one series, or None."""
    stmt = select(func.max(Ohlcv.ts)).where(
        Ohlcv.source == source, Ohlcv.coin == coin, Ohlcv.timeframe == timeframe
    )
    try:
        with engine.connect() as conn:
            value: datetime | None = conn.execute(stmt).scalar()
    except SQLAlchemyError as exc:
        raise StorageError(f"reading candles failed: {type(exc).__name__}") from exc
    return value
