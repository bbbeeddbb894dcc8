import time
from collections.abc import Iterator

import pytest

from omc.cache import CacheRole, MemoryStore, Store, cache_key, open_store
from omc.errors import CacheError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The same checks run against real Redis and the in-process twin."""
    if request.param == "redis":
        yield open_store(request.getfixturevalue("redis_url"), CacheRole.APP)
    else:
        yield open_store(None, CacheRole.APP)


def test_cache_key_follows_the_naming_scheme() -> None:
    assert cache_key("collectors", "latest", "BTC") == "omc:collectors:latest:BTC"


@pytest.mark.parametrize("area", ["", "a:b"])
def test_cache_key_rejects_empty_or_colon_parts(area: str) -> None:
    with pytest.raises(ValueError, match="key part"):
        cache_key(area, "entity", 1)


def test_set_then_get_returns_the_value_with_its_ttl(store: Store) -> None:
    store.set("omc:t:k:1", "value", ttl_s=100)

    assert store.get("omc:t:k:1") == "value"
    ttl = store.ttl_s("omc:t:k:1")
    assert ttl is not None and 98 <= ttl <= 100


def test_get_of_a_missing_key_is_none(store: Store) -> None:
    assert store.get("omc:t:k:missing") is None
    assert store.ttl_s("omc:t:k:missing") is None


def test_every_write_requires_a_positive_ttl(store: Store) -> None:
    with pytest.raises(ValueError, match="positive TTL"):
        store.set("omc:t:k:1", "v", ttl_s=0)
    with pytest.raises(ValueError, match="positive TTL"):
        store.incr("omc:t:k:2", ttl_s=-1)


def test_a_key_expires_after_its_ttl(store: Store) -> None:
    store.set("omc:t:k:short", "v", ttl_s=1)

    time.sleep(1.2)

    assert store.get("omc:t:k:short") is None


def test_set_if_absent_only_stores_into_a_free_key(store: Store) -> None:
    assert store.set_if_absent("omc:t:lock:1", "a", ttl_s=10) is True
    assert store.set_if_absent("omc:t:lock:1", "b", ttl_s=10) is False
    assert store.get("omc:t:lock:1") == "a"


def test_delete_if_equal_leaves_another_holders_value(store: Store) -> None:
    store.set("omc:t:lock:1", "mine", ttl_s=10)

    assert store.delete_if_equal("omc:t:lock:1", "theirs") is False
    assert store.get("omc:t:lock:1") == "mine"
    assert store.delete_if_equal("omc:t:lock:1", "mine") is True
    assert store.get("omc:t:lock:1") is None


def test_incr_counts_and_keeps_the_ttl_of_the_first_increment(store: Store) -> None:
    assert [store.incr("omc:t:count:1", ttl_s=50) for _ in range(3)] == [1, 2, 3]
    ttl = store.ttl_s("omc:t:count:1")
    assert ttl is not None and 48 <= ttl <= 50


def test_append_keeps_only_the_newest_items(store: Store) -> None:
    for n in range(5):
        store.append("omc:t:events:1", f"e{n}", ttl_s=30, max_items=3)

    assert store.read_list("omc:t:events:1") == ["e2", "e3", "e4"]
    assert store.read_list("omc:t:events:1", start=2) == ["e4"]
    assert store.ttl_s("omc:t:events:1") is not None


def test_delete_removes_a_key(store: Store) -> None:
    store.set("omc:t:k:1", "v", ttl_s=10)

    store.delete("omc:t:k:1")

    assert store.get("omc:t:k:1") is None


def test_memory_store_honours_ttls_on_its_clock() -> None:
    clock = FakeClock()
    store = MemoryStore(CacheRole.COLLECTORS, clock=clock)
    store.set("omc:t:k:1", "v", ttl_s=10)
    store.incr("omc:t:count:1", ttl_s=10)

    clock.now += 9.5
    assert store.get("omc:t:k:1") == "v"
    clock.now += 1
    assert store.get("omc:t:k:1") is None
    assert store.incr("omc:t:count:1", ttl_s=10) == 1


def test_redis_store_uses_the_database_of_its_role(redis_url: str) -> None:
    import redis

    open_store(redis_url, CacheRole.LAB).set("omc:lab:session:1", "x", ttl_s=10)

    assert redis.Redis.from_url(redis_url, db=1).get("omc:lab:session:1") == b"x"
    assert redis.Redis.from_url(redis_url, db=0).get("omc:lab:session:1") is None


def test_unreachable_redis_raises_cache_error_naming_the_role() -> None:
    store = open_store("redis://127.0.0.1:1", CacheRole.COLLECTORS)

    with pytest.raises(CacheError, match="Redis db 0 \\(collectors\\)"):
        store.get("omc:t:k:1")
    with pytest.raises(CacheError):
        store.ping()
