"""Side sources of the Lab's data on the bar grid: sentiment, TVL and filings.

Each function reads one collectors table for the window and returns columns indexed
by the grid; a post, sample or filing counts in the bar in which it became known.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from omc.db.models.collectors import ChainTvl, Filing, NewsPost, SocialPost

if TYPE_CHECKING:
    from omc.lab.data import DatasetRef

__all__ = ["filing_bars", "news_bars", "social_bars", "tvl_bars"]

COIN_CHAINS = {
    "ETH": "Ethereum",
    "SOL": "Solana",
    "BTC": "Bitcoin",
    "AVAX": "Avalanche",
}
COIN_NAMES = {"BTC": "bitcoin", "ETH": "ethereum", "SOL": "solana", "XRP": "ripple"}


def news_bars(
    engine: Engine, ref: "DatasetRef", grid: pd.DatetimeIndex
) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                NewsPost.published_at, NewsPost.currencies, NewsPost.sentiment
            ).where(NewsPost.published_at >= ref.start, NewsPost.published_at < ref.end)
        ).all()
    mentioned = [
        (at, sentiment)
        for at, currencies, sentiment in rows
        if ref.coin in {str(code).upper() for code in currencies or []}
    ]
    return _sentiment_bars(mentioned, "news", ref, grid)


def social_bars(
    engine: Engine, ref: "DatasetRef", grid: pd.DatetimeIndex
) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                SocialPost.published_at,
                SocialPost.community,
                SocialPost.title,
                SocialPost.sentiment,
            ).where(
                SocialPost.published_at >= ref.start, SocialPost.published_at < ref.end
            )
        ).all()
    words = {ref.coin.lower(), COIN_NAMES.get(ref.coin, ref.coin.lower())}
    mentioned = [
        (at, sentiment)
        for at, community, title, sentiment in rows
        if community.lower() in words
        or words & set(re.findall(r"[a-z]+", title.lower()))
    ]
    return _sentiment_bars(mentioned, "social", ref, grid)


def _sentiment_bars(
    posts: Sequence[tuple[datetime, float | None]],
    name: str,
    ref: "DatasetRef",
    grid: pd.DatetimeIndex,
) -> pd.DataFrame:
    columns = [f"{name}_sentiment", f"{name}_count"]
    if not posts:
        return pd.DataFrame(index=grid, columns=columns, dtype=float)
    raw = pd.DataFrame(posts, columns=["at", "sentiment"])
    raw.index = pd.DatetimeIndex(raw["at"]).tz_convert("UTC")
    bars = (
        raw["sentiment"]
        .astype(float)
        .resample(f"{ref.bar_minutes}min", label="left", closed="left")
        .agg(["mean", "count"])
    )
    bars.columns = columns
    bars = bars.reindex(grid)
    bars[columns[1]] = bars[columns[1]].fillna(0.0)
    return bars


def tvl_bars(engine: Engine, ref: "DatasetRef", grid: pd.DatetimeIndex) -> pd.DataFrame:
    chain = COIN_CHAINS.get(ref.coin)
    query = select(ChainTvl.bucket_at, ChainTvl.chain, ChainTvl.tvl_usd).where(
        ChainTvl.bucket_at >= ref.start, ChainTvl.bucket_at < ref.end
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return pd.DataFrame(index=grid, columns=["tvl_usd"], dtype=float)
    raw = pd.DataFrame(rows, columns=["at", "chain", "tvl_usd"])
    if chain is not None and (raw["chain"] == chain).any():
        raw = raw[raw["chain"] == chain]
    total = raw.groupby("at")["tvl_usd"].sum()
    total.index = pd.DatetimeIndex(total.index).tz_convert("UTC")
    bars = total.resample(f"{ref.bar_minutes}min", label="left", closed="left").last()
    # TVL is sampled hourly or slower: carry the last sample forward, never back.
    return bars.reindex(grid).ffill().to_frame("tvl_usd")


def filing_bars(
    engine: Engine, ref: "DatasetRef", grid: pd.DatetimeIndex
) -> pd.DataFrame:
    known_at = func.coalesce(Filing.accepted_at, Filing.filed_at)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Filing.accepted_at, Filing.filed_at).where(
                known_at >= ref.start, known_at < ref.end
            )
        ).all()
    times = [accepted or filed for accepted, filed in rows]
    if not times:
        return pd.DataFrame({"filings": np.zeros(len(grid))}, index=grid)
    events = pd.Series(1.0, index=pd.DatetimeIndex(times).tz_convert("UTC"))
    bars = events.resample(f"{ref.bar_minutes}min", label="left", closed="left").sum()
    return bars.reindex(grid).fillna(0.0).to_frame("filings")
