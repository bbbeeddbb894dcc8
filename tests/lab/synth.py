"""Generated market data for Lab tests: a random walk, or one with a planted driver."""

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert

from omc.db.engine import session_scope
from omc.db.models.collectors import ChainTvl, Filing, NewsPost, Ohlcv
from omc.runtime import Runtime

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def candles(n: int, *, seed: int, driver_strength: float = 0.0, bar_minutes: int = 60):
    """Hourly candles ending at NOW, and a news driver (sentiment per bar).

    With a driver strength, the return of bar t+1 follows the sentiment of bar t.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(
        end=NOW - timedelta(minutes=bar_minutes), periods=n, freq=f"{bar_minutes}min"
    )
    driver = rng.normal(0.0, 1.0, n)
    noise = rng.normal(0.0, 0.004, n)
    steps = noise.copy()
    steps[1:] += driver_strength * 0.004 * driver[:-1]
    close = 100.0 * np.exp(np.cumsum(steps))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0.0, 0.002, n))
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread),
            "low": np.minimum(open_, close) * (1 - spread),
            "close": close,
            "volume": rng.lognormal(3.0, 0.3, n),
            "driver": driver,
        },
        index=index,
    )
    return frame


def insert_candles(
    runtime: Runtime, frame: pd.DataFrame, *, coin: str = "BTC", timeframe: str = "1h"
):
    prices = frame[["open", "high", "low", "close", "volume"]].astype(float)
    rows: list[dict[str, Any]] = [
        {
            "source": "test",
            "coin": coin,
            "timeframe": timeframe,
            "ts": ts.to_pydatetime(),
            "collected_at": NOW,
            **{str(key): value for key, value in values.items()},
        }
        for ts, values in zip(
            pd.DatetimeIndex(frame.index), prices.to_dict("records"), strict=True
        )
    ]
    with session_scope(runtime.sessions) as session:
        session.execute(insert(Ohlcv), rows)


def insert_news_driver(runtime: Runtime, frame: pd.DataFrame, *, coin: str = "BTC"):
    """One news post per bar, published inside the bar, carrying the driver as sentiment."""
    rows = [
        {
            "source": "test",
            "post_id": f"p{i}",
            "url": f"https://news.example/{i}",
            "title": "headline",
            "kind": "news",
            "domain": "news.example",
            "published_at": ts.to_pydatetime() + timedelta(minutes=10),
            "currencies": [coin],
            "votes": {},
            "sentiment": float(np.tanh(value)),
            "collected_at": NOW,
        }
        for i, (ts, value) in enumerate(
            zip(pd.DatetimeIndex(frame.index), frame["driver"], strict=True)
        )
    ]
    with session_scope(runtime.sessions) as session:
        session.execute(insert(NewsPost), rows)


def insert_context(runtime: Runtime, frame: pd.DataFrame):
    """A TVL sample every six bars and one filing, for the join tests."""
    with session_scope(runtime.sessions) as session:
        session.execute(
            insert(ChainTvl),
            [
                {
                    "chain": "Bitcoin",
                    "bucket_at": ts.to_pydatetime(),
                    "token_symbol": "BTC",
                    "tvl_usd": 1e9 + i * 1e6,
                    "collected_at": NOW,
                }
                for i, ts in enumerate(frame.index[::6])
            ],
        )
        filed = frame.index[len(frame) // 2].to_pydatetime() + timedelta(minutes=5)
        session.add(
            Filing(
                accession_number="0001-26-000001",
                cik="1679788",
                company="Coinbase",
                form="8-K",
                filed_at=filed,
                accepted_at=filed,
                url="https://sec.example/f",
                collected_at=NOW,
            )
        )


def ending_now(frame: pd.DataFrame) -> pd.DataFrame:
    """The same bars moved so that the last one closes at the start of this hour."""
    end = pd.Timestamp.now(tz="UTC").floor("h")
    return frame.set_axis(frame.index + (end - pd.Timestamp(NOW)))


def seed_recent_market(
    runtime: Runtime, *, days: int = 40, strength: float = 0.0
) -> None:
    """Hourly BTC candles and news up to now, for sessions that plan from today."""
    frame = ending_now(candles(days * 24, seed=21, driver_strength=strength))
    insert_candles(runtime, frame)
    insert_news_driver(runtime, frame)
