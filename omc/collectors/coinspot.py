"""CoinSpot: bid, ask and last price of every coin listed, from the public API v2.

`GET /pubapi/v2/latest` answers `{"status": "ok", "prices": {"btc": {"bid": "...",
"ask": "...", "last": "..."}, "btc_usdt": {...}}}`: prices are strings (sometimes
numbers), keys are lowercase coin codes, and a key `coin_market` is a market other
than AUD (not kept: see `collect`). An error is `{"status": "error", "message":
"..."}`, with whatever HTTP status, 200 included. There is no provider time, so
each snapshot is keyed by the collection time truncated to the cadence
(`bucket_at`).
"""

import json
from datetime import datetime
from typing import Any

from omc.collectors.base import Collector, CollectResult, Row
from omc.collectors.errors import (
    MalformedItem,
    MalformedPayload,
    ProviderErrorBody,
    ProviderRejected,
)
from omc.collectors.http import HttpClient
from omc.collectors.parsing import bucket_start, optional_float, require_float
from omc.db.models import PriceSnapshot

__all__ = ["CoinSpotCollector"]

LATEST_PATH = "/pubapi/v2/latest"
EXCHANGE = "coinspot"
QUOTE = "AUD"
MAX_COIN_CHARS = 32


class CoinSpotCollector(Collector):
    """Latest CoinSpot prices of every coin, one snapshot per cadence slot."""

    name = "coinspot"

    @property
    def cadence_s(self) -> int:
        return self.settings.coinspot_cadence_s

    @property
    def base_url(self) -> str:
        return self.settings.coinspot_base_url

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        try:
            payload = await http.get_json(LATEST_PATH)
        except ProviderRejected as exc:
            _raise_error_body(_json_or_none(exc.body))
            raise
        _raise_error_body(payload)
        prices = payload.get("prices") if isinstance(payload, dict) else None
        if not isinstance(prices, dict):
            raise MalformedPayload(f"coinspot: {LATEST_PATH} has no `prices` object")

        # Limitation: only AUD markets are kept; `coin_usdt` markets would share
        # the (exchange, coin, bucket_at) key of the AUD price.
        aud_markets = [
            (key, (key, value)) for key, value in prices.items() if "_" not in key
        ]
        result = CollectResult()
        bucket_at = bucket_start(now, self.cadence_s)
        self.parse_items(
            result,
            PriceSnapshot,
            aud_markets,
            lambda pair: _snapshot(pair, bucket_at=bucket_at, now=now),
        )
        result.latest = {
            row["coin"]: {"bid": row["bid"], "ask": row["ask"], "last": row["last"]}
            for row in result.rows.get(PriceSnapshot, [])
        }
        return result


def _snapshot(pair: tuple[str, Any], *, bucket_at: datetime, now: datetime) -> Row:
    coin, prices = pair
    if not isinstance(prices, dict):
        raise MalformedItem("prices are not an object")
    if not coin.strip() or len(coin) > MAX_COIN_CHARS:
        raise MalformedItem(f"coin code {coin!r} is empty or too long")
    return {
        "exchange": EXCHANGE,
        "coin": coin.upper(),
        "bucket_at": bucket_at,
        "quote": QUOTE,
        "bid": optional_float(prices, "bid"),
        "ask": optional_float(prices, "ask"),
        "last": require_float(prices, "last"),
        "collected_at": now,
    }


def _raise_error_body(payload: Any) -> None:
    """Raise ProviderErrorBody if the payload is CoinSpot's error document."""
    if isinstance(payload, dict) and payload.get("status") == "error":
        message = str(payload.get("message") or "no message")[:300]
        raise ProviderErrorBody(f"coinspot answered an error: {message}")


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
