"""Key-value stores by role: Redis in production, an in-process twin when embedded.

Redis databases by role (ARCHITECTURE.md, "Storage conventions"):
db 0 collector cache, db 1 lab sessions and events, db 2 application cache and rate
limits. Every key is named by `cache_key` and every write carries a TTL, so nothing
lives forever. `MemoryStore` offers the same methods with TTLs honoured, for the
embedded mode and for tests that run the same checks against both.
"""

import enum
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.exceptions import RedisError

from omc.errors import CacheError
from omc.metrics import CACHE_REQUESTS

__all__ = [
    "CacheRole",
    "MemoryStore",
    "RedisStore",
    "Store",
    "cache_key",
    "open_store",
]

T = TypeVar("T")

# Releases a lock only if the caller still holds it: compare and delete in one step.
_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
# Adds to a counter and starts its TTL with the first increment, atomically.
_INCR_SCRIPT = """
local value = redis.call('incr', KEYS[1])
if value == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return value
"""


class CacheRole(enum.IntEnum):
    """A Redis database number by what it holds."""

    COLLECTORS = 0
    LAB = 1
    APP = 2


def cache_key(area: str, entity: str, ident: str | int) -> str:
    """Name a key `omc:<area>:<entity>:<id>`."""
    for part in (area, entity):
        if not part or ":" in part:
            raise ValueError(f"key part {part!r} must be non-empty and contain no ':'")
    return f"omc:{area}:{entity}:{ident}"


def _check_ttl(ttl_s: int) -> None:
    if ttl_s <= 0:
        raise ValueError(f"ttl_s={ttl_s}: every key needs a positive TTL")


class Store(ABC):
    """String values with a TTL, counters, locks and append-only event lists."""

    def __init__(self, role: CacheRole) -> None:
        self.role = role

    def get(self, key: str) -> str | None:
        """Return the value, or None if absent or expired; counts hits and misses."""
        value = self._get(key)
        result = "miss" if value is None else "hit"
        CACHE_REQUESTS.labels(role=self.role.name.lower(), result=result).inc()
        return value

    @abstractmethod
    def _get(self, key: str) -> str | None: ...

    @abstractmethod
    def set(self, key: str, value: str, *, ttl_s: int) -> None:
        """Store a value that expires after `ttl_s` seconds."""

    @abstractmethod
    def set_if_absent(self, key: str, value: str, *, ttl_s: int) -> bool:
        """Store the value only if the key is free; return whether it was stored."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the key if present."""

    @abstractmethod
    def delete_if_equal(self, key: str, value: str) -> bool:
        """Remove the key only if it still holds `value`; return whether it did."""

    @abstractmethod
    def incr(self, key: str, *, ttl_s: int) -> int:
        """Add one to a counter; its TTL starts with the first increment."""

    @abstractmethod
    def ttl_s(self, key: str) -> int | None:
        """Seconds until the key expires, or None if it does not exist."""

    @abstractmethod
    def append(self, key: str, value: str, *, ttl_s: int, max_items: int) -> int:
        """Append to a list, keep its newest `max_items`, refresh its TTL; return length."""

    @abstractmethod
    def read_list(self, key: str, start: int = 0) -> list[str]:
        """Return the list's items from index `start` on."""

    @abstractmethod
    def ping(self) -> None:
        """Raise CacheError if the store cannot answer."""


class RedisStore(Store):
    """A store on one Redis database; every Redis error becomes a CacheError."""

    def __init__(self, client: redis.Redis, role: CacheRole) -> None:
        super().__init__(role)
        self._client = client
        self._release = client.register_script(_RELEASE_SCRIPT)
        self._incr = client.register_script(_INCR_SCRIPT)

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except RedisError as exc:
            raise CacheError(
                f"Redis db {int(self.role)} ({self.role.name.lower()}) failed: "
                f"{type(exc).__name__}"
            ) from exc

    def _get(self, key: str) -> str | None:
        value = self._call(lambda: self._client.get(key))
        return None if value is None else str(value)

    def set(self, key: str, value: str, *, ttl_s: int) -> None:
        _check_ttl(ttl_s)
        self._call(lambda: self._client.set(key, value, ex=ttl_s))

    def set_if_absent(self, key: str, value: str, *, ttl_s: int) -> bool:
        _check_ttl(ttl_s)
        return bool(self._call(lambda: self._client.set(key, value, ex=ttl_s, nx=True)))

    def delete(self, key: str) -> None:
        self._call(lambda: self._client.delete(key))

    def delete_if_equal(self, key: str, value: str) -> bool:
        return bool(self._call(lambda: self._release(keys=[key], args=[value])))

    def incr(self, key: str, *, ttl_s: int) -> int:
        _check_ttl(ttl_s)
        return int(self._call(lambda: self._incr(keys=[key], args=[ttl_s])))

    def ttl_s(self, key: str) -> int | None:
        remaining = self._call(lambda: self._client.ttl(key))
        return None if remaining < 0 else int(remaining)

    def append(self, key: str, value: str, *, ttl_s: int, max_items: int) -> int:
        _check_ttl(ttl_s)

        def run() -> int:
            pipe = self._client.pipeline()
            pipe.rpush(key, value)
            pipe.ltrim(key, -max_items, -1)
            pipe.expire(key, ttl_s)
            pipe.llen(key)
            return int(pipe.execute()[-1])

        return self._call(run)

    def read_list(self, key: str, start: int = 0) -> list[str]:
        items = self._call(lambda: self._client.lrange(key, start, -1))
        return [str(item) for item in items]

    def ping(self) -> None:
        self._call(self._client.ping)


class MemoryStore(Store):
    """An in-process store with the same behaviour, TTLs included; thread-safe."""

    def __init__(
        self, role: CacheRole, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(role)
        self._clock = clock
        self._lock = threading.Lock()
        self._data: dict[str, tuple[Any, float]] = {}

    def _live(self, key: str) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= self._clock():
            del self._data[key]
            return None
        return value

    def _put(self, key: str, value: Any, ttl_s: int) -> None:
        _check_ttl(ttl_s)
        self._data[key] = (value, self._clock() + ttl_s)

    def _get(self, key: str) -> str | None:
        with self._lock:
            value = self._live(key)
            return None if value is None else str(value)

    def set(self, key: str, value: str, *, ttl_s: int) -> None:
        with self._lock:
            self._put(key, value, ttl_s)

    def set_if_absent(self, key: str, value: str, *, ttl_s: int) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._put(key, value, ttl_s)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def delete_if_equal(self, key: str, value: str) -> bool:
        with self._lock:
            if self._live(key) != value:
                return False
            del self._data[key]
            return True

    def incr(self, key: str, *, ttl_s: int) -> int:
        _check_ttl(ttl_s)
        with self._lock:
            current = self._live(key)
            if current is None:
                self._put(key, 1, ttl_s)
                return 1
            expires_at = self._data[key][1]
            self._data[key] = (int(current) + 1, expires_at)
            return int(current) + 1

    def ttl_s(self, key: str) -> int | None:
        with self._lock:
            if self._live(key) is None:
                return None
            return max(0, round(self._data[key][1] - self._clock()))

    def append(self, key: str, value: str, *, ttl_s: int, max_items: int) -> int:
        with self._lock:
            items = list(self._live(key) or [])
            items.append(value)
            items = items[-max_items:]
            self._put(key, items, ttl_s)
            return len(items)

    def read_list(self, key: str, start: int = 0) -> list[str]:
        with self._lock:
            return list(self._live(key) or [])[start:]

    def ping(self) -> None:
        return None


def open_store(redis_url: str | None, role: CacheRole) -> Store:
    """Open the store for a role: Redis when a URL is given, else in-process."""
    if redis_url is None:
        return MemoryStore(role)
    client = redis.Redis.from_url(
        redis_url,
        db=int(role),
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )
    return RedisStore(client, role)
