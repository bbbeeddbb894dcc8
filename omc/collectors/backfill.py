"""Backfill OHLCV history from an exchange's public candles through ccxt.

`omc backfill ohlcv --exchange binance --symbol BTC/USDT --timeframe 1h` asks for
candles page by page from where the stored series ends (or from `--since`), stores
each page as it arrives, and so resumes after an interruption without refetching.
Only closed candles are stored: the candle still forming is left for a later run.
No API key is used; ccxt's own rate limiter spaces the requests.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ccxt
from sqlalchemy import Engine

from omc.collectors.candles import (
    check_coin,
    last_candle_at,
    store_candles,
    timeframe_delta,
)
from omc.errors import ConfigError, OmcError

__all__ = [
    "DEFAULT_HISTORY",
    "BackfillError",
    "BackfillReport",
    "backfill_ohlcv",
    "open_exchange",
]

logger = logging.getLogger(__name__)

DEFAULT_HISTORY = timedelta(days=365)
PAGE_LIMIT = 1000
# Exchanges whose market list spans derivatives too; spot is all a backfill needs,
# and asking for less keeps start-up to one request.
_SPOT_ONLY_OPTIONS: dict[str, dict[str, Any]] = {
    "binance": {"fetchMarkets": {"types": ["spot"]}},
}

Progress = Callable[[int, int], None]


class BackfillError(OmcError):
    """The exchange refused or failed a request: check the symbol, or retry later."""


@dataclass(frozen=True)
class BackfillReport:
    """What one backfill fetched and stored, and where the series now ends."""

    exchange: str
    coin: str
    timeframe: str
    fetched: int
    stored: int
    requests: int
    started_at: datetime
    last_at: datetime | None


def open_exchange(name: str, *, api_urls: Mapping[str, str] | None = None) -> Any:
    """Build a ccxt client for public data; `api_urls` replaces its API endpoints.

    Raises:
        ConfigError: ccxt knows no exchange of that name.
    """
    exchange_id = name.strip().lower()
    if exchange_id not in ccxt.exchanges:
        raise ConfigError(
            f"unknown exchange {name!r}: use a ccxt exchange id such as binance"
        )
    options = _SPOT_ONLY_OPTIONS.get(exchange_id, {})
    exchange = getattr(ccxt, exchange_id)(
        {"enableRateLimit": True, "timeout": 30_000, "options": options}
    )
    if api_urls:
        exchange.urls["api"] = {**exchange.urls["api"], **api_urls}
    return exchange


def backfill_ohlcv(
    engine: Engine,
    exchange: Any,
    *,
    symbol: str,
    timeframe: str = "1h",
    since: datetime | None = None,
    now: datetime | None = None,
    page_limit: int = PAGE_LIMIT,
    progress: Progress | None = None,
) -> BackfillReport:
    """Fetch and store closed candles of `symbol` from the resume point up to now.

    Raises:
        BackfillError: the exchange failed or does not list the symbol.
        ValueError: the symbol or timeframe is malformed.
    """
    step = timeframe_delta(timeframe)
    coin = check_coin(symbol.split("/", 1)[0])
    source = str(exchange.id)
    now = now or datetime.now(UTC)
    start = _resume_point(engine, source, coin, timeframe, step, since, now)
    _check_market(exchange, symbol, timeframe)
    total = max(0, int((now - start) / step))
    logger.info(
        "ohlcv backfill started",
        extra={"exchange": source, "symbol": symbol, "timeframe": timeframe},
    )
    fetched = stored = requests = 0
    cursor, last_at = start, None
    while cursor + step <= now:
        batch = _fetch_page(exchange, symbol, timeframe, cursor, page_limit)
        requests += 1
        closed = [c for c in batch if _open_time(c) + step <= now]
        rows = [_row(c, source, coin, timeframe) for c in closed]
        rows = [r for r in rows if r["ts"] >= cursor]
        if not rows:
            break
        fetched += len(rows)
        stored += store_candles(engine, rows)
        last_at = max(r["ts"] for r in rows)
        cursor = last_at + step
        if progress is not None:
            progress(min(fetched, total), total)
    report = BackfillReport(
        source, coin, timeframe, fetched, stored, requests, start, last_at
    )
    logger.info(
        "ohlcv backfill finished",
        extra={
            "exchange": source,
            "symbol": symbol,
            "fetched": fetched,
            "stored": stored,
        },
    )
    return report


def _resume_point(
    engine: Engine,
    source: str,
    coin: str,
    timeframe: str,
    step: timedelta,
    since: datetime | None,
    now: datetime,
) -> datetime:
    """After the newest stored candle, or `since`, or a year back, whichever is later."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    start = since or now - DEFAULT_HISTORY
    last = last_candle_at(engine, source=source, coin=coin, timeframe=timeframe)
    if last is not None and last + step > start:
        start = last + step
    return start.astimezone(UTC)


def _check_market(exchange: Any, symbol: str, timeframe: str) -> None:
    try:
        exchange.load_markets()
    except ccxt.BaseError as exc:
        raise BackfillError(
            f"{exchange.id} did not answer its market list: {type(exc).__name__}"
        ) from exc
    if symbol not in exchange.markets:
        raise BackfillError(f"{exchange.id} lists no market {symbol!r}")
    timeframes = getattr(exchange, "timeframes", None) or {}
    if timeframes and timeframe not in timeframes:
        raise BackfillError(
            f"{exchange.id} offers no {timeframe} candles; it offers "
            f"{', '.join(timeframes)}"
        )


def _fetch_page(
    exchange: Any, symbol: str, timeframe: str, since: datetime, limit: int
) -> list[list[Any]]:
    since_ms = int(since.timestamp() * 1000)
    try:
        batch = exchange.fetch_ohlcv(symbol, timeframe, since=since_ms, limit=limit)
    except ccxt.BaseError as exc:
        raise BackfillError(
            f"{exchange.id} failed to send {symbol} {timeframe} candles: "
            f"{type(exc).__name__}"
        ) from exc
    return list(batch or [])


def _open_time(candle: list[Any]) -> datetime:
    return datetime.fromtimestamp(candle[0] / 1000, UTC)


def _row(candle: list[Any], source: str, coin: str, timeframe: str) -> dict[str, Any]:
    _, open_, high, low, close, volume = candle[:6]
    return {
        "source": source,
        "coin": coin,
        "timeframe": timeframe,
        "ts": _open_time(candle),
        "open": float(open_),
        "high": float(high),
        "low": float(low),
        "close": float(close),
        "volume": float(volume or 0.0),
        "collected_at": datetime.now(UTC),
    }
