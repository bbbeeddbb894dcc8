"""Response bodies of the data routes: collected records as the API shows them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CandlePublic",
    "CandlesPublic",
    "ChainTvlPublic",
    "ChainTvlsPublic",
    "FilingPublic",
    "FilingsPublic",
    "LatestPricesPublic",
    "NewsPostPublic",
    "NewsPostsPublic",
    "PricePublic",
    "PricesPublic",
    "ProtocolTvlPublic",
    "ProtocolTvlsPublic",
    "SocialPostPublic",
    "SocialPostsPublic",
]


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PricePublic(_Record):
    """Bid, ask and last of one coin on one exchange at one cadence slot."""

    exchange: str
    coin: str
    quote: str
    bid: float | None
    ask: float | None
    last: float | None
    bucket_at: datetime
    collected_at: datetime


class PricesPublic(BaseModel):
    """One page of price snapshots and the total matching the filters."""

    data: list[PricePublic]
    count: int


class LatestPricesPublic(BaseModel):
    """The newest snapshot of each coin, and where it was read from."""

    data: list[PricePublic]
    count: int
    served_from: Literal["cache", "database"]


class CandlePublic(_Record):
    """One OHLCV candle; `ts` is the candle's open time."""

    source: str
    coin: str
    timeframe: str
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float


class CandlesPublic(BaseModel):
    """One page of candles and the total matching the filters."""

    data: list[CandlePublic]
    count: int


class ChainTvlPublic(_Record):
    """Total value locked on one chain at one cadence slot, in USD."""

    chain: str
    bucket_at: datetime
    token_symbol: str | None
    tvl_usd: float
    collected_at: datetime


class ChainTvlsPublic(BaseModel):
    """One page of chain TVL values and the total matching the filters."""

    data: list[ChainTvlPublic]
    count: int


class ProtocolTvlPublic(_Record):
    """One DeFi protocol's TVL, changes and market cap at one cadence slot."""

    slug: str
    bucket_at: datetime
    name: str
    symbol: str | None
    category: str | None
    chains: list[str]
    tvl_usd: float | None
    change_1h_pct: float | None
    change_1d_pct: float | None
    change_7d_pct: float | None
    mcap_usd: float | None
    collected_at: datetime


class ProtocolTvlsPublic(BaseModel):
    """One page of protocol TVL values and the total matching the filters."""

    data: list[ProtocolTvlPublic]
    count: int


class NewsPostPublic(_Record):
    """A news post with its votes and the currencies it mentions."""

    source: str
    post_id: str
    url: str
    title: str
    kind: str | None
    domain: str | None
    published_at: datetime
    currencies: list[str]
    votes: dict[str, int]
    sentiment: float | None
    collected_at: datetime


class NewsPostsPublic(BaseModel):
    """One page of news posts and the total matching the filters."""

    data: list[NewsPostPublic]
    count: int


class SocialPostPublic(_Record):
    """A social post with its reception and sentiment (-1 to 1)."""

    source: str
    post_id: str
    community: str
    title: str
    body: str
    author: str | None
    flair: str | None
    url: str
    score: int
    upvote_ratio: float | None
    num_comments: int
    sentiment: float
    published_at: datetime
    collected_at: datetime


class SocialPostsPublic(BaseModel):
    """One page of social posts and the total matching the filters."""

    data: list[SocialPostPublic]
    count: int


class FilingPublic(_Record):
    """A company's filing with the SEC, linked to its main document."""

    accession_number: str
    cik: str
    company: str
    form: str
    filed_at: datetime
    accepted_at: datetime | None
    report_date: str | None
    primary_document: str | None
    description: str | None
    url: str
    collected_at: datetime


class FilingsPublic(BaseModel):
    """One page of filings and the total matching the filters."""

    data: list[FilingPublic]
    count: int
