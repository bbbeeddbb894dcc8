"""Read access to what the collectors gathered: prices, candles, TVL, news, filings.

Every list is paginated (`offset`, `limit` up to `MAX_PAGE_SIZE`), can be narrowed
to a time range (`start`, `end`, inclusive, UTC when no offset is given) and is
ordered by time, newest first unless `order=asc`. Filters that cannot match
anything sensible (a malformed coin, `start` after `end`) answer 422.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Select, String, and_, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from omc.api.data_schemas import (
    CandlePublic,
    CandlesPublic,
    ChainTvlPublic,
    ChainTvlsPublic,
    FilingPublic,
    FilingsPublic,
    LatestPricesPublic,
    NewsPostPublic,
    NewsPostsPublic,
    PricePublic,
    PricesPublic,
    ProtocolTvlPublic,
    ProtocolTvlsPublic,
    SocialPostPublic,
    SocialPostsPublic,
)
from omc.api.deps import CurrentUser, RuntimeDep, SessionDep
from omc.api.latest_prices import read_cached_prices
from omc.api.schemas import MAX_PAGE_SIZE
from omc.cache import CacheRole
from omc.db.engine import session_scope
from omc.db.models.collectors import (
    ChainTvl,
    Filing,
    NewsPost,
    Ohlcv,
    PriceSnapshot,
    ProtocolTvl,
    SocialPost,
)
from omc.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/data", tags=["data"])

# Large enough for any real table, small enough for a 64-bit OFFSET everywhere.
MAX_OFFSET = 1_000_000_000
# Letters and digits of any script; no "_" or "%", which are LIKE wildcards.
SYMBOL_PATTERN = r"^[^\W_]{1,32}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,127}$"
TIMEFRAME_PATTERN = r"^[1-9][0-9]{0,3}[smhdwM]$"

Model = TypeVar("Model")


@dataclass(frozen=True)
class PageQuery:
    """Pagination, ordering and time range shared by every list route."""

    offset: int
    limit: int
    order: Literal["asc", "desc"]
    start: datetime | None
    end: datetime | None


def _as_utc(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise _invalid(name, "is outside the range of UTC times") from exc


def _invalid(name: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message}]
    )


def page_query(
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    order: Annotated[
        Literal["asc", "desc"], Query(description="Time order of the page.")
    ] = "desc",
    start: Annotated[
        datetime | None, Query(description="Earliest time, inclusive (ISO-8601).")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="Latest time, inclusive (ISO-8601).")
    ] = None,
) -> PageQuery:
    """Read and check the common list parameters."""
    start_utc, end_utc = _as_utc("start", start), _as_utc("end", end)
    if start_utc is not None and end_utc is not None and start_utc > end_utc:
        raise _invalid("end", "must not be before start")
    return PageQuery(offset, limit, order, start_utc, end_utc)


PageDep = Annotated[PageQuery, Depends(page_query)]
CoinQuery = Annotated[
    str | None,
    Query(pattern=SYMBOL_PATTERN, description="Coin symbol, e.g. BTC."),
]


def _page(
    session: Session,
    stmt: Select[Model],
    time_column: InstrumentedAttribute[datetime],
    page: PageQuery,
) -> tuple[Sequence[Model], int]:
    """Apply the time range, count the matches, and fetch one ordered page."""
    if page.start is not None:
        stmt = stmt.where(time_column >= page.start)
    if page.end is not None:
        stmt = stmt.where(time_column <= page.end)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    ordering = time_column.asc() if page.order == "asc" else time_column.desc()
    rows = session.scalars(
        stmt.order_by(ordering).offset(page.offset).limit(page.limit)
    )
    return rows.all(), count


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


@router.get("/prices/latest")
async def latest_prices(
    _user: CurrentUser,
    runtime: RuntimeDep,
    coin: CoinQuery = None,
    exchange: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> LatestPricesPublic:
    """The newest snapshot of each coin: from the cache when fresh, else the database."""
    cached = await anyio.to_thread.run_sync(
        read_cached_prices, runtime.store(CacheRole.COLLECTORS), runtime.settings
    )
    if cached is not None:
        prices = [
            p
            for p in cached
            if (coin is None or p.coin == coin.upper())
            and (exchange is None or p.exchange == exchange)
        ]
        return LatestPricesPublic(data=prices, count=len(prices), served_from="cache")
    prices = await anyio.to_thread.run_sync(
        _latest_prices_from_db, runtime, _upper(coin), exchange
    )
    return LatestPricesPublic(data=prices, count=len(prices), served_from="database")


def _latest_prices_from_db(
    runtime: Runtime, coin: str | None, exchange: str | None
) -> list[PricePublic]:
    newest = select(
        PriceSnapshot.exchange,
        PriceSnapshot.coin,
        func.max(PriceSnapshot.bucket_at).label("bucket_at"),
    ).group_by(PriceSnapshot.exchange, PriceSnapshot.coin)
    if coin is not None:
        newest = newest.where(PriceSnapshot.coin == coin)
    if exchange is not None:
        newest = newest.where(PriceSnapshot.exchange == exchange)
    latest = newest.subquery()
    stmt = (
        select(PriceSnapshot)
        .join(
            latest,
            and_(
                PriceSnapshot.exchange == latest.c.exchange,
                PriceSnapshot.coin == latest.c.coin,
                PriceSnapshot.bucket_at == latest.c.bucket_at,
            ),
        )
        .order_by(PriceSnapshot.exchange, PriceSnapshot.coin)
    )
    with session_scope(runtime.sessions) as session:
        return [PricePublic.model_validate(row) for row in session.scalars(stmt)]


@router.get("/prices")
def price_history(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    coin: CoinQuery = None,
    exchange: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> PricesPublic:
    """Price snapshots over time, by coin and exchange."""
    stmt = select(PriceSnapshot)
    if coin is not None:
        stmt = stmt.where(PriceSnapshot.coin == coin.upper())
    if exchange is not None:
        stmt = stmt.where(PriceSnapshot.exchange == exchange)
    rows, count = _page(session, stmt, PriceSnapshot.bucket_at, page)
    return PricesPublic(data=[PricePublic.model_validate(r) for r in rows], count=count)


@router.get("/ohlcv")
def ohlcv(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    coin: Annotated[str, Query(pattern=SYMBOL_PATTERN, description="Coin symbol.")],
    timeframe: Annotated[
        str, Query(pattern=TIMEFRAME_PATTERN, description="Candle length, e.g. 1h.")
    ] = "1h",
    source: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> CandlesPublic:
    """Candles of one coin and timeframe, from every source unless one is named."""
    stmt = select(Ohlcv).where(Ohlcv.coin == coin.upper(), Ohlcv.timeframe == timeframe)
    if source is not None:
        stmt = stmt.where(Ohlcv.source == source)
    rows, count = _page(session, stmt, Ohlcv.ts, page)
    return CandlesPublic(
        data=[CandlePublic.model_validate(r) for r in rows], count=count
    )


@router.get("/tvl/chains")
def chain_tvl(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    chain: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> ChainTvlsPublic:
    """TVL of chains over time."""
    stmt = select(ChainTvl)
    if chain is not None:
        stmt = stmt.where(ChainTvl.chain == chain)
    rows, count = _page(session, stmt, ChainTvl.bucket_at, page)
    return ChainTvlsPublic(
        data=[ChainTvlPublic.model_validate(r) for r in rows], count=count
    )


@router.get("/tvl/protocols")
def protocol_tvl(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    slug: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    coin: Annotated[
        str | None,
        Query(pattern=SYMBOL_PATTERN, description="The protocol's token symbol."),
    ] = None,
) -> ProtocolTvlsPublic:
    """TVL of DeFi protocols over time, by slug or token symbol."""
    stmt = select(ProtocolTvl)
    if slug is not None:
        stmt = stmt.where(ProtocolTvl.slug == slug)
    if coin is not None:
        stmt = stmt.where(func.upper(ProtocolTvl.symbol) == coin.upper())
    rows, count = _page(session, stmt, ProtocolTvl.bucket_at, page)
    return ProtocolTvlsPublic(
        data=[ProtocolTvlPublic.model_validate(r) for r in rows], count=count
    )


@router.get("/news")
def news(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    coin: CoinQuery = None,
    source: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> NewsPostsPublic:
    """News posts, optionally only those mentioning a coin."""
    stmt = select(NewsPost)
    if coin is not None:
        # The currency list is JSON text on both databases; the symbol pattern
        # admits no LIKE wildcards or quotes, so matching the quoted symbol is exact.
        stmt = stmt.where(cast(NewsPost.currencies, String).like(f'%"{coin.upper()}"%'))
    if source is not None:
        stmt = stmt.where(NewsPost.source == source)
    rows, count = _page(session, stmt, NewsPost.published_at, page)
    return NewsPostsPublic(
        data=[NewsPostPublic.model_validate(r) for r in rows], count=count
    )


@router.get("/social")
def social(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    community: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description="E.g. a subreddit.")
    ] = None,
    source: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
) -> SocialPostsPublic:
    """Social posts, by community (a subreddit, compared without case)."""
    stmt = select(SocialPost)
    if community is not None:
        stmt = stmt.where(func.lower(SocialPost.community) == community.lower())
    if source is not None:
        stmt = stmt.where(SocialPost.source == source)
    rows, count = _page(session, stmt, SocialPost.published_at, page)
    return SocialPostsPublic(
        data=[SocialPostPublic.model_validate(r) for r in rows], count=count
    )


@router.get("/filings")
def filings(
    _user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    cik: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,10}$", description="Company CIK.")
    ] = None,
    form: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9 /\-]{0,31}$")
    ] = None,
) -> FilingsPublic:
    """SEC filings of watched companies, by company and form type."""
    stmt = select(Filing)
    if cik is not None:
        stmt = stmt.where(Filing.cik == cik.zfill(10))
    if form is not None:
        stmt = stmt.where(Filing.form == form.upper())
    rows, count = _page(session, stmt, Filing.filed_at, page)
    return FilingsPublic(
        data=[FilingPublic.model_validate(r) for r in rows], count=count
    )
