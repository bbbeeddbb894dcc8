"""Tables of the `collectors` schema: what the collectors gather, and their runs.

Prices and TVL are float64 (SQL `DOUBLE PRECISION`): the Lab computes in float64,
and exchange quotes carry far fewer significant digits than float64 holds. Each
table has a natural primary key so that a bulk upsert of the same data twice stores
nothing new. Snapshots without a provider time are keyed by the collection time
truncated to the collector's cadence (`bucket_at`).
"""

from datetime import datetime

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from omc.db.base import COLLECTORS_SCHEMA, Base
from omc.db.types import UtcDateTime

__all__ = [
    "ChainTvl",
    "CollectorLock",
    "CollectorRun",
    "Filing",
    "NewsPost",
    "Ohlcv",
    "PriceSnapshot",
    "ProtocolTvl",
    "SocialPost",
]

_SCHEMA = {"schema": COLLECTORS_SCHEMA}


class CollectorRun(Base):
    """One run of one collector: when, how it ended, what it stored."""

    __tablename__ = "collector_runs"
    __table_args__ = _SCHEMA

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collector: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # running, ok, failed, disabled
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class CollectorLock(Base):
    """Who is running a collector now, until when; keeps runs from overlapping.

    A run takes the lock with one atomic upsert that succeeds only when no row exists
    or the existing one has expired, so a crashed holder blocks others only until
    `expires_at`. This works across processes and machines sharing the database.
    """

    __tablename__ = "collector_locks"
    __table_args__ = _SCHEMA

    collector: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PriceSnapshot(Base):
    """Bid, ask and last of one coin on one exchange at one cadence slot."""

    __tablename__ = "price_snapshots"
    __table_args__ = _SCHEMA

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    coin: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    quote: Mapped[str] = mapped_column(String(16))
    bid: Mapped[float | None] = mapped_column(Float(53))
    ask: Mapped[float | None] = mapped_column(Float(53))
    last: Mapped[float | None] = mapped_column(Float(53))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Ohlcv(Base):
    """One candle: open time, open, high, low, close and volume of one coin."""

    __tablename__ = "ohlcv"
    __table_args__ = _SCHEMA

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    coin: Mapped[str] = mapped_column(String(32), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    open: Mapped[float] = mapped_column(Float(53))
    high: Mapped[float] = mapped_column(Float(53))
    low: Mapped[float] = mapped_column(Float(53))
    close: Mapped[float] = mapped_column(Float(53))
    volume: Mapped[float] = mapped_column(Float(53))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChainTvl(Base):
    """Total value locked on one chain at one cadence slot, in USD."""

    __tablename__ = "chain_tvl"
    __table_args__ = _SCHEMA

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    token_symbol: Mapped[str | None] = mapped_column(String(32))
    tvl_usd: Mapped[float] = mapped_column(Float(53))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProtocolTvl(Base):
    """One DeFi protocol's TVL, changes and market cap at one cadence slot."""

    __tablename__ = "protocol_tvl"
    __table_args__ = _SCHEMA

    slug: Mapped[str] = mapped_column(String(128), primary_key=True)
    bucket_at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    symbol: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    chains: Mapped[list[str]] = mapped_column(JSON)
    tvl_usd: Mapped[float | None] = mapped_column(Float(53))
    change_1h_pct: Mapped[float | None] = mapped_column(Float(53))
    change_1d_pct: Mapped[float | None] = mapped_column(Float(53))
    change_7d_pct: Mapped[float | None] = mapped_column(Float(53))
    mcap_usd: Mapped[float | None] = mapped_column(Float(53))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NewsPost(Base):
    """A news post with its votes and the currencies it mentions."""

    __tablename__ = "news_posts"
    __table_args__ = _SCHEMA

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    post_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(String(256))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    currencies: Mapped[list[str]] = mapped_column(JSON)
    votes: Mapped[dict[str, int]] = mapped_column(JSON)
    sentiment: Mapped[float | None] = mapped_column(Float(53))
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SocialPost(Base):
    """A social post (a Reddit submission) with its reception and sentiment."""

    __tablename__ = "social_posts"
    __table_args__ = _SCHEMA

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    post_id: Mapped[str] = mapped_column(
        String(64), primary_key=True
    )  # Reddit fullname
    community: Mapped[str] = mapped_column(String(128), index=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(128))
    flair: Mapped[str | None] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer)
    upvote_ratio: Mapped[float | None] = mapped_column(Float(53))
    num_comments: Mapped[int] = mapped_column(Integer)
    sentiment: Mapped[float] = mapped_column(Float(53))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Filing(Base):
    """A filing of a watched company with the SEC, linked to its main document."""

    __tablename__ = "filings"
    __table_args__ = _SCHEMA

    accession_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    cik: Mapped[str] = mapped_column(String(10), index=True)
    company: Mapped[str] = mapped_column(String(256))
    form: Mapped[str] = mapped_column(String(32), index=True)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    report_date: Mapped[str | None] = mapped_column(String(10))
    primary_document: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    collected_at: Mapped[datetime] = mapped_column(UtcDateTime)
