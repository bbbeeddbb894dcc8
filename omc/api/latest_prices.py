"""Latest prices as the price collector leaves them in the collector cache (Redis db 0).

After each CoinSpot run the collector runner stores `{"collected_at": ..., "values":
{"BTC": {"bid": ..., "ask": ..., "last": ...}, ...}}` under the collector's latest
key, with a TTL of two cadences. The API serves `/data/prices/latest` from it while
it is fresh, so "what does BTC cost now" does not touch the database. A missing,
unreadable or stale entry returns None and the caller falls back to the database.
"""

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from omc.api.data_schemas import PricePublic
from omc.cache import Store
from omc.collectors.coinspot import EXCHANGE, QUOTE
from omc.collectors.parsing import bucket_start
from omc.collectors.runner import latest_cache_key
from omc.errors import CacheError
from omc.settings import Settings

__all__ = ["LATEST_PRICES_KEY", "read_cached_prices"]

logger = logging.getLogger(__name__)

LATEST_PRICES_KEY = latest_cache_key(EXCHANGE)
# A snapshot older than this many price cadences is stale: the collector is behind.
FRESH_CADENCES = 2


def read_cached_prices(store: Store, settings: Settings) -> list[PricePublic] | None:
    """Return the cached latest prices, or None when absent, unreadable or stale."""
    try:
        raw = store.get(LATEST_PRICES_KEY)
    except CacheError as exc:
        logger.warning("price cache unreachable", extra={"error": str(exc)})
        return None
    if raw is None:
        return None
    try:
        prices = _prices_of(json.loads(raw), settings.coinspot_cadence_s)
    except (ValueError, TypeError, KeyError, AttributeError, ValidationError) as exc:
        logger.warning("price cache entry unreadable", extra={"error": str(exc)})
        return None
    if not prices:
        return None
    max_age = timedelta(seconds=settings.coinspot_cadence_s * FRESH_CADENCES)
    if datetime.now(UTC) - prices[0].collected_at > max_age:
        return None
    return prices


def _prices_of(entry: dict[str, Any], cadence_s: int) -> list[PricePublic]:
    collected_at = datetime.fromisoformat(entry["collected_at"]).astimezone(UTC)
    bucket_at = bucket_start(collected_at, cadence_s)
    return [
        PricePublic(
            exchange=EXCHANGE,
            coin=coin,
            quote=QUOTE,
            bid=values.get("bid"),
            ask=values.get("ask"),
            last=values.get("last"),
            bucket_at=bucket_at,
            collected_at=collected_at,
        )
        for coin, values in sorted(entry["values"].items())
    ]
