"""Data retrieval: the plan's window from the collectors tables on one time grid.

Rows are bars labelled by their open time; every value in a row is known at the
bar's close (prices close then, posts published and TVL sampled within the bar).
The grid step is the horizon when the horizon is an hour or less, else the largest
step up to an hour that divides it, so that long horizons still get enough rows;
overlapping targets are handled by the gap in the splits and the block bootstrap.
"""

import logging
import math
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select

from omc.db.models.collectors import (
    Ohlcv,
    PriceSnapshot,
)
from omc.lab._sources import filing_bars, news_bars, social_bars, tvl_bars
from omc.lab.plan import Plan, Source, horizon_minutes

__all__ = [
    "MIN_TRAIN_ROWS",
    "DataQuality",
    "DatasetRef",
    "InsufficientData",
    "LoadedData",
    "dataset_ref_for",
    "load_frame",
    "retrieve",
    "summarize_quality",
]

logger = logging.getLogger(__name__)

MIN_TRAIN_ROWS = 200
WARMUP_BARS = 24
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
COIN_CHAINS = {
    "ETH": "Ethereum",
    "SOL": "Solana",
    "BTC": "Bitcoin",
    "AVAX": "Avalanche",
}
COIN_NAMES = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "XRP": "ripple"}


class DatasetRef(BaseModel):
    """An absolute, reproducible description of the data a session used."""

    model_config = ConfigDict(frozen=True)

    coins: list[str]
    sources: list[Source]
    bar_minutes: int
    horizon_bars: int
    start: datetime
    end: datetime

    @property
    def coin(self) -> str:
        """The coin whose price is the target; the others are inputs."""
        return self.coins[0]


class DataQuality(BaseModel):
    """How complete the loaded data is."""

    rows: int
    price_rows: int
    gaps: int
    span_days: float
    first_at: datetime | None
    last_at: datetime | None
    sources_present: list[str]
    source_rows: dict[str, int]


class InsufficientData(BaseModel):
    """Too little data to train honestly, with how much is needed and how to get it."""

    message: str
    rows: int
    rows_needed: int
    commands: list[str]


class LoadedData:
    """The frame on its grid, with its reference and quality summary."""

    def __init__(self, frame: pd.DataFrame, ref: DatasetRef, quality: DataQuality):
        self.frame = frame
        self.ref = ref
        self.quality = quality


def bar_minutes_for(horizon_min: int) -> int:
    """The grid step for a horizon: itself up to an hour, else a divisor up to 60."""
    return horizon_min if horizon_min <= 60 else math.gcd(horizon_min, 60)


def dataset_ref_for(plan: Plan, now: datetime) -> DatasetRef:
    """Pin the plan's relative window to absolute times on the bar grid."""
    bar = bar_minutes_for(plan.horizon_min)
    end = _floor(now.astimezone(UTC), bar)
    return DatasetRef(
        coins=plan.coins,
        sources=plan.sources,
        bar_minutes=bar,
        horizon_bars=plan.horizon_min // bar,
        start=end - timedelta(days=plan.window_days),
        end=end,
    )


def _floor(moment: datetime, bar_minutes: int) -> datetime:
    step_s = bar_minutes * 60
    return datetime.fromtimestamp(
        int(moment.timestamp()) // step_s * step_s, tz=moment.tzinfo
    )


def retrieve(
    engine: Engine, plan: Plan, now: datetime
) -> LoadedData | InsufficientData:
    """Load the plan's window, or say how much data is missing and how to get it."""
    ref = dataset_ref_for(plan, now)
    frame = load_frame(engine, ref)
    quality = summarize_quality(frame)
    needed = MIN_TRAIN_ROWS + WARMUP_BARS + 3 * ref.horizon_bars
    logger.info(
        "lab data loaded",
        extra={"coin": ref.coin, "rows": quality.price_rows, "gaps": quality.gaps},
    )
    if quality.price_rows < needed:
        return _insufficient(ref, quality.price_rows, needed)
    return LoadedData(frame, ref, quality)


def _insufficient(ref: DatasetRef, rows: int, needed: int) -> InsufficientData:
    timeframe = _timeframe_name(ref.bar_minutes)
    days = math.ceil(needed * ref.bar_minutes / 1440) + 1
    since = (ref.end - timedelta(days=days)).date().isoformat()
    commands = [
        f"omc backfill ohlcv --exchange binance --symbol {ref.coin}/USDT "
        f"--timeframe {timeframe} --since {since}",
        f"omc import ohlcv FILE.csv --coin {ref.coin} --timeframe {timeframe}",
    ]
    message = (
        f"Only {rows} bars of {ref.coin} at {timeframe} between "
        f"{ref.start:%Y-%m-%d %H:%M} and {ref.end:%Y-%m-%d %H:%M} UTC; at least "
        f"{needed} are needed (about {days} days). Backfill candles with "
        f"`{commands[0]}` or import a file with `{commands[1]}`, then run again."
    )
    return InsufficientData(
        message=message, rows=rows, rows_needed=needed, commands=commands
    )


def _timeframe_name(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def load_frame(engine: Engine, ref: DatasetRef) -> pd.DataFrame:
    """Read every requested source for the window and align it on the bar grid."""
    grid = pd.date_range(
        pd.Timestamp(ref.start).tz_convert("UTC"),
        pd.Timestamp(ref.end).tz_convert("UTC"),
        freq=f"{ref.bar_minutes}min",
        inclusive="left",
    )
    frame = _prices(engine, ref, ref.coin, grid)
    for other in ref.coins[1:]:
        frame[f"close_{other}"] = _prices(engine, ref, other, grid)["close"]
    if "news" in ref.sources:
        frame = frame.join(news_bars(engine, ref, grid))
    if "social" in ref.sources:
        frame = frame.join(social_bars(engine, ref, grid))
    if "tvl" in ref.sources:
        frame = frame.join(tvl_bars(engine, ref, grid))
    if "filings" in ref.sources:
        frame = frame.join(filing_bars(engine, ref, grid))
    return frame


def _prices(
    engine: Engine, ref: DatasetRef, coin: str, grid: pd.DatetimeIndex
) -> pd.DataFrame:
    rule = f"{ref.bar_minutes}min"
    candles = _candles(engine, ref, coin)
    if candles.empty:
        candles = _snapshots(engine, ref, coin)
    if candles.empty:
        bars = pd.DataFrame(index=grid, columns=list(PRICE_COLUMNS), dtype=float)
    else:
        bars = candles.resample(rule, label="left", closed="left").agg(
            {
                "open": "first",
                "high": "max",
                "low": "min",
                "close": "last",
                "volume": "sum",
            }
        )
        bars = bars.reindex(grid)
    bars["has_price"] = bars["close"].notna()
    # A missing bar keeps the last close and trades nothing, so returns there are 0.
    bars["close"] = bars["close"].ffill()
    for column in ("open", "high", "low"):
        bars[column] = bars[column].fillna(bars["close"])
    bars["volume"] = bars["volume"].fillna(0.0)
    return bars


def _candles(engine: Engine, ref: DatasetRef, coin: str) -> pd.DataFrame:
    with engine.connect() as conn:
        timeframes = conn.execute(
            select(Ohlcv.timeframe)
            .where(
                func.upper(Ohlcv.coin) == coin,
                Ohlcv.ts >= ref.start,
                Ohlcv.ts < ref.end,
            )
            .distinct()
        ).scalars()
        usable = [tf for tf in timeframes if _fits(tf, ref.bar_minutes)]
        if not usable:
            return pd.DataFrame()
        # The coarsest timeframe that still fits the grid is the fewest rows to read.
        timeframe = max(usable, key=horizon_minutes)
        rows = conn.execute(
            select(
                Ohlcv.ts, Ohlcv.open, Ohlcv.high, Ohlcv.low, Ohlcv.close, Ohlcv.volume
            )
            .where(
                func.upper(Ohlcv.coin) == coin,
                Ohlcv.timeframe == timeframe,
                Ohlcv.ts >= ref.start,
                Ohlcv.ts < ref.end,
            )
            .order_by(Ohlcv.ts)
        ).all()
    frame = pd.DataFrame(rows, columns=["ts", *PRICE_COLUMNS])
    frame = frame.groupby("ts").last()
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
    return frame.astype(float)


def _fits(timeframe: str, bar_minutes: int) -> bool:
    if not re.fullmatch(r"\d+[mhd]", timeframe):
        return False
    minutes = horizon_minutes(timeframe)
    return 0 < minutes <= bar_minutes and bar_minutes % minutes == 0


def _snapshots(engine: Engine, ref: DatasetRef, coin: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                PriceSnapshot.bucket_at,
                PriceSnapshot.last,
                PriceSnapshot.bid,
                PriceSnapshot.ask,
            )
            .where(
                func.upper(PriceSnapshot.coin) == coin,
                PriceSnapshot.bucket_at >= ref.start,
                PriceSnapshot.bucket_at < ref.end,
            )
            .order_by(PriceSnapshot.bucket_at)
        ).all()
    if not rows:
        return pd.DataFrame()
    raw = pd.DataFrame(rows, columns=["ts", "last", "bid", "ask"])
    price = raw["last"].fillna((raw["bid"] + raw["ask"]) / 2)
    frame = pd.DataFrame(
        {"open": price, "high": price, "low": price, "close": price, "volume": 0.0}
    )
    frame.index = pd.DatetimeIndex(raw["ts"]).tz_convert("UTC")
    frame = frame[frame["close"].notna()]
    return frame.groupby(level=0).mean()


def summarize_quality(frame: pd.DataFrame) -> DataQuality:
    """Count rows, gaps and the sources that actually hold data."""
    has_price = frame["has_price"] & frame["close"].notna()
    priced = frame.index[has_price]
    first = priced.min() if len(priced) else None
    last = priced.max() if len(priced) else None
    inside = frame.loc[first:last] if first is not None else frame.iloc[:0]
    source_rows = {"prices": int(has_price.sum())}
    for source, column in (
        ("news", "news_count"),
        ("social", "social_count"),
        ("tvl", "tvl_usd"),
        ("filings", "filings"),
    ):
        if column in frame:
            values = frame[column]
            source_rows[source] = (
                int((values.fillna(0) > 0).sum())
                if column != "tvl_usd"
                else int(values.notna().sum())
            )
    span_days = (last - first).total_seconds() / 86400 if first is not None else 0.0
    return DataQuality(
        rows=len(frame),
        price_rows=int(has_price.sum()),
        gaps=int((~inside["has_price"]).sum()),
        span_days=round(span_days, 3),
        first_at=first.to_pydatetime() if first is not None else None,
        last_at=last.to_pydatetime() if last is not None else None,
        sources_present=[name for name, count in source_rows.items() if count > 0],
        source_rows=source_rows,
    )
