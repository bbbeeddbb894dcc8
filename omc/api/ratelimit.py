"""Fixed-window request limits shared by every API process through Redis db 2."""

import logging
import time

from omc.cache import Store, cache_key
from omc.errors import CacheError, RateLimited
from omc.metrics import RATE_LIMITED

__all__ = ["WINDOW_S", "enforce_limit"]

logger = logging.getLogger(__name__)

WINDOW_S = 60


def enforce_limit(
    store: Store, *, scope: str, ident: str, limit_per_window: int
) -> None:
    """Count one request for `ident`; raise RateLimited past the window's limit.

    When Redis is unreachable the request is let through: an outage of the limiter
    must not take the API down with it, and `/ready` reports the outage.
    """
    now = time.time()
    window = int(now // WINDOW_S)
    key = cache_key("ratelimit", scope, f"{ident}:{window}")
    try:
        count = store.incr(key, ttl_s=WINDOW_S * 2)
    except CacheError as exc:
        logger.warning(
            "rate limiter unavailable, request allowed", extra={"error": str(exc)}
        )
        return
    if count > limit_per_window:
        RATE_LIMITED.labels(scope=scope).inc()
        retry_after_s = max(1, int((window + 1) * WINDOW_S - now) + 1)
        raise RateLimited(
            f"too many requests: the limit is {limit_per_window} a minute",
            retry_after_s=retry_after_s,
        )
