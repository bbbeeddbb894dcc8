"""Every collector by name.

Adding a collector is one line in `_CLASS_PATHS`: its name and the import path of
its class. Classes are imported on first use, so a collector module may import
anything without creating cycles with the modules that list collectors.
"""

from importlib import import_module
from typing import Any

from omc.collectors.base import Collector
from omc.collectors.errors import UnknownCollector
from omc.settings import Settings

__all__ = ["ALL", "build_collector", "collector_class", "collector_names", "resolve"]

ALL = "all"

_CLASS_PATHS: dict[str, str] = {
    "coinspot": "omc.collectors.coinspot:CoinSpotCollector",
    "defillama": "omc.collectors.defillama:DefiLlamaCollector",
    "cryptopanic": "omc.collectors.cryptopanic:CryptoPanicCollector",
    "reddit": "omc.collectors.reddit:RedditCollector",
    "sec": "omc.collectors.sec:SecCollector",
}


def collector_names() -> list[str]:
    """The names of every collector, in a stable order."""
    return list(_CLASS_PATHS)


def collector_class(name: str) -> type[Collector]:
    """The class of the named collector; UnknownCollector if there is none."""
    try:
        module_name, _, class_name = _CLASS_PATHS[name].partition(":")
    except KeyError:
        known = ", ".join(collector_names())
        raise UnknownCollector(f"no collector named {name!r}; known: {known}") from None
    cls: type[Collector] = getattr(import_module(module_name), class_name)
    return cls


def build_collector(name: str, settings: Settings, **kwargs: Any) -> Collector:
    """An instance of the named collector; `kwargs` go to its constructor."""
    return collector_class(name)(settings, **kwargs)


def resolve(name: str) -> list[str]:
    """`all` as every name, a known name as itself; UnknownCollector otherwise."""
    if name == ALL:
        return collector_names()
    collector_class(name)
    return [name]
