"""Latest prices as the price collector leaves them in the collector cache (Redis db 0).

The API serves `/data/prices/latest` from this cache while it is fresh, so the
common question "what does BTC cost now" does not touch the database. A missing,
unreadable or stale entry returns None and the caller falls back to the database.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from omc.api.data_schemas import PricePublic
from omc.cache import Store, cache_key
from omc.errors import CacheError
from omc.settings import Settings

__all__ = ["LATEST_PRICES_KEY", "read_cached_prices"]

logger = logging.getLogger(__name__)

LATEST_PRICES_KEY = cache_key("collectors", "prices", "latest")
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
        prices = [PricePublic.model_validate(item) for item in json.loads(raw)]
    except (ValueError, TypeError, ValidationError) as exc:
        logger.warning("price cache entry unreadable", extra={"error": str(exc)})
        return None
    if not prices:
        return None
    max_age = timedelta(seconds=settings.coinspot_cadence_s * FRESH_CADENCES)
    newest = max(price.collected_at for price in prices)
    if datetime.now(UTC) - newest > max_age:
        return None
    return prices
