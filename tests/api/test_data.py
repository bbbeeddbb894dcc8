import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from omc.api.latest_prices import LATEST_PRICES_KEY
from omc.cache import CacheRole
from omc.db.engine import session_scope
from omc.db.models import UserRole
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
from tests.conftest import add_user, token_for

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def viewer(runtime: Runtime, client: TestClient) -> dict[str, str]:
    """Bearer headers of a viewer, the least privileged role that may read data."""
    add_user(runtime, "viewer@example.com", UserRole.VIEWER)
    return {"Authorization": f"Bearer {token_for(client, 'viewer@example.com')}"}


def _add(runtime: Runtime, *rows: object) -> None:
    with session_scope(runtime.sessions) as session:
        session.add_all(rows)


def _price(coin: str, at: datetime, last: float, exchange: str = "coinspot"):
    return PriceSnapshot(
        exchange=exchange,
        coin=coin,
        bucket_at=at,
        quote="AUD",
        bid=last - 1,
        ask=last + 1,
        last=last,
        collected_at=at,
    )


def _candle(coin: str, at: datetime, close: float, timeframe: str = "1h"):
    return Ohlcv(
        source="binance",
        coin=coin,
        timeframe=timeframe,
        ts=at,
        open=close,
        high=close + 1,
        low=close - 1,
        close=close,
        volume=10.0,
        collected_at=at,
    )


def _news(post_id: str, at: datetime, currencies: list[str]):
    return NewsPost(
        source="cryptopanic",
        post_id=post_id,
        url=f"https://cryptopanic.com/news/{post_id}/",
        title=f"post {post_id}",
        kind="news",
        domain="example.com",
        published_at=at,
        currencies=currencies,
        votes={"positive": 1},
        sentiment=None,
        collected_at=at,
    )


def test_data_routes_refuse_anonymous_callers(client: TestClient) -> None:
    for path in ("prices", "prices/latest", "ohlcv?coin=BTC", "news", "filings"):
        assert client.get(f"/api/v1/data/{path}").status_code == 401


def test_price_history_filters_by_coin_and_time_range_newest_first(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        *(_price("BTC", T0 + i * HOUR, 100.0 + i) for i in range(5)),
        _price("ETH", T0, 5.0),
    )

    response = client.get(
        "/api/v1/data/prices",
        params={
            "coin": "btc",
            "start": (T0 + HOUR).isoformat(),
            "end": (T0 + 3 * HOUR).isoformat(),
        },
        headers=viewer,
    )

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [p["last"] for p in body["data"]] == [103.0, 102.0, 101.0]
    assert body["data"][0]["bucket_at"] == "2026-01-01T03:00:00Z"


def test_price_history_pages_in_ascending_order_with_total_count(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(runtime, *(_price("BTC", T0 + i * HOUR, float(i)) for i in range(5)))

    response = client.get(
        "/api/v1/data/prices",
        params={"order": "asc", "offset": 2, "limit": 2},
        headers=viewer,
    )

    body = response.json()
    assert body["count"] == 5
    assert [p["last"] for p in body["data"]] == [2.0, 3.0]


def test_time_without_offset_is_read_as_utc(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(runtime, _price("BTC", T0, 1.0), _price("BTC", T0 + HOUR, 2.0))

    response = client.get(
        "/api/v1/data/prices",
        params={"start": "2026-01-01T01:00:00"},
        headers=viewer,
    )

    assert [p["last"] for p in response.json()["data"]] == [2.0]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"offset": 10**30},
        {"coin": "BTC'; --"},
        {"coin": "B" * 33},
        {"start": "yesterday"},
        {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        {"order": "sideways"},
    ],
)
def test_bad_filters_answer_422_with_the_parameter_named(
    client: TestClient, viewer: dict[str, str], params: dict[str, Any]
) -> None:
    response = client.get("/api/v1/data/prices", params=params, headers=viewer)

    assert response.status_code == 422
    named = {error["loc"][-1] for error in response.json()["detail"]}
    assert named & (set(params) | {"end"})


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("prices/latest", {"coin": "BTC_"}),
        ("prices/latest", {"exchange": "../etc"}),
        ("ohlcv", {"coin": "BTC", "source": "a;b"}),
        ("ohlcv", {"coin": "%"}),
        ("tvl/chains", {"chain": ""}),
        ("tvl/protocols", {"start": "2026-13-40"}),
        ("news", {"coin": "BTC%"}),
        ("social", {"community": "x" * 200}),
        ("filings", {"cik": "12345678901"}),
        ("filings", {"form": "8-K'--"}),
    ],
)
def test_bad_filters_on_every_route_answer_422(
    client: TestClient, viewer: dict[str, str], path: str, params: dict[str, Any]
) -> None:
    response = client.get(f"/api/v1/data/{path}", params=params, headers=viewer)

    assert response.status_code == 422


def test_a_coin_in_another_script_is_a_valid_filter(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(runtime, _price("ÜNÏ", T0, 4.0))

    response = client.get("/api/v1/data/prices", params={"coin": "ünï"}, headers=viewer)

    assert [p["coin"] for p in response.json()["data"]] == ["ÜNÏ"]


def test_latest_prices_come_from_the_database_when_the_cache_is_empty(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        _price("BTC", T0, 1.0),
        _price("BTC", T0 + HOUR, 2.0),
        _price("ETH", T0, 3.0),
    )

    response = client.get("/api/v1/data/prices/latest", headers=viewer)

    body = response.json()
    assert body["served_from"] == "database"
    assert {p["coin"]: p["last"] for p in body["data"]} == {"BTC": 2.0, "ETH": 3.0}


def _cache_prices(runtime: Runtime, collected_at: datetime) -> None:
    entry = {
        "collected_at": collected_at.isoformat(),
        "values": {
            "BTC": {"bid": 150000.0, "ask": 150001.0, "last": 150000.5},
            "ETH": {"bid": None, "ask": None, "last": 5000.25},
        },
    }
    runtime.store(CacheRole.COLLECTORS).set(
        LATEST_PRICES_KEY, json.dumps(entry), ttl_s=600
    )


def test_latest_prices_are_served_from_a_fresh_cache(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(runtime, _price("BTC", T0, 1.0))
    _cache_prices(runtime, datetime.now(UTC))

    response = client.get(
        "/api/v1/data/prices/latest", params={"coin": "btc"}, headers=viewer
    )

    body = response.json()
    assert body["served_from"] == "cache"
    assert [(p["coin"], p["last"]) for p in body["data"]] == [("BTC", 150000.5)]


def test_a_stale_cache_falls_back_to_the_database(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(runtime, _price("BTC", T0, 1.0))
    _cache_prices(runtime, datetime.now(UTC) - timedelta(days=1))

    response = client.get("/api/v1/data/prices/latest", headers=viewer)

    body = response.json()
    assert body["served_from"] == "database"
    assert [p["last"] for p in body["data"]] == [1.0]


def test_ohlcv_filters_by_coin_timeframe_and_range(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        *(_candle("BTC", T0 + i * HOUR, 100.0 + i) for i in range(4)),
        _candle("BTC", T0, 7.0, timeframe="1d"),
        _candle("ETH", T0, 8.0),
    )

    response = client.get(
        "/api/v1/data/ohlcv",
        params={"coin": "BTC", "timeframe": "1h", "end": (T0 + HOUR).isoformat()},
        headers=viewer,
    )

    body = response.json()
    assert body["count"] == 2
    assert [c["close"] for c in body["data"]] == [101.0, 100.0]


def test_ohlcv_without_a_coin_or_with_a_bad_timeframe_is_422(
    client: TestClient, viewer: dict[str, str]
) -> None:
    missing = client.get("/api/v1/data/ohlcv", headers=viewer)
    bad = client.get(
        "/api/v1/data/ohlcv", params={"coin": "BTC", "timeframe": "1y"}, headers=viewer
    )

    assert missing.status_code == 422
    assert bad.status_code == 422


def test_tvl_routes_filter_by_chain_and_by_protocol_symbol(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        ChainTvl(chain="Ethereum", bucket_at=T0, tvl_usd=6e10, collected_at=T0),
        ChainTvl(chain="Solana", bucket_at=T0, tvl_usd=9e9, collected_at=T0),
        ProtocolTvl(
            slug="aave",
            bucket_at=T0,
            name="Aave",
            symbol="AAVE",
            category="Lending",
            chains=["Ethereum", "Polygon"],
            tvl_usd=2e10,
            collected_at=T0,
        ),
        ProtocolTvl(slug="lido", bucket_at=T0, name="Lido", chains=[], collected_at=T0),
    )

    chains = client.get(
        "/api/v1/data/tvl/chains", params={"chain": "Solana"}, headers=viewer
    )
    protocols = client.get(
        "/api/v1/data/tvl/protocols", params={"coin": "aave"}, headers=viewer
    )

    assert [c["tvl_usd"] for c in chains.json()["data"]] == [9e9]
    assert [p["slug"] for p in protocols.json()["data"]] == ["aave"]
    assert protocols.json()["data"][0]["chains"] == ["Ethereum", "Polygon"]


def test_news_filter_matches_the_whole_currency_code_only(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        _news("1", T0, ["BTC", "ETH"]),
        _news("2", T0 + HOUR, ["BTCB"]),
        _news("3", T0 + 2 * HOUR, []),
    )

    response = client.get("/api/v1/data/news", params={"coin": "BTC"}, headers=viewer)

    body = response.json()
    assert [p["post_id"] for p in body["data"]] == ["1"]
    assert body["data"][0]["currencies"] == ["BTC", "ETH"]


def test_social_posts_filter_by_community_ignoring_case(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    _add(
        runtime,
        *(
            SocialPost(
                source="reddit",
                post_id=f"t3_{name}",
                community=community,
                title="t",
                body="",
                author=None,
                flair=None,
                url="https://www.reddit.com/",
                score=1,
                upvote_ratio=0.5,
                num_comments=0,
                sentiment=0.0,
                published_at=T0,
                collected_at=T0,
            )
            for name, community in (("a", "Bitcoin"), ("b", "ethereum"))
        ),
    )

    response = client.get(
        "/api/v1/data/social", params={"community": "bitcoin"}, headers=viewer
    )

    assert [p["post_id"] for p in response.json()["data"]] == ["t3_a"]
    assert response.json()["data"][0]["author"] is None


def test_filings_filter_by_unpadded_cik_and_form(
    client: TestClient, runtime: Runtime, viewer: dict[str, str]
) -> None:
    def filing(accession: str, cik: str, form: str) -> Filing:
        return Filing(
            accession_number=accession,
            cik=cik,
            company="Coinbase Global, Inc.",
            form=form,
            filed_at=T0,
            url="https://www.sec.gov/Archives/edgar/data/1679788/x/doc.htm",
            collected_at=T0,
        )

    _add(
        runtime,
        filing("0001679788-26-000001", "0001679788", "8-K"),
        filing("0001679788-26-000002", "0001679788", "10-K"),
        filing("0001050446-26-000001", "0001050446", "8-K"),
    )

    response = client.get(
        "/api/v1/data/filings",
        params={"cik": "1679788", "form": "8-k"},
        headers=viewer,
    )

    assert [f["accession_number"] for f in response.json()["data"]] == [
        "0001679788-26-000001"
    ]
