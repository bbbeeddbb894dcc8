"""DeFiLlama: TVL of every chain and of every protocol, with changes and market cap.

`GET /v2/chains` is a small array of `{"name", "tvl", "tokenSymbol", "gecko_id",
"cmcId", "chainId"}`. `GET /protocols` is an array of several megabytes, one object
a protocol (`slug`, `name`, `symbol` ("-" when none), `category`, `chains`, `tvl`,
`change_1h`, `change_1d`, `change_7d`, `mcap`, and much we do not keep); it is
read item by item from the stream, so only the rows we keep are held in memory.
Both are keyed by the collection time truncated to the cadence (`bucket_at`).
"""

from datetime import datetime
from typing import Any

from omc.collectors.base import Collector, CollectResult, Row
from omc.collectors.errors import MalformedItem, MalformedPayload
from omc.collectors.http import HttpClient
from omc.collectors.parsing import (
    bucket_start,
    optional_float,
    optional_str,
    require_float,
    require_str,
)
from omc.db.models import ChainTvl, ProtocolTvl

__all__ = ["DefiLlamaCollector"]

CHAINS_PATH = "/v2/chains"
PROTOCOLS_PATH = "/protocols"
NO_SYMBOL = "-"
MAX_CHAINS_PER_PROTOCOL = 500


class DefiLlamaCollector(Collector):
    """Chain and protocol TVL from DeFiLlama, one snapshot per cadence slot."""

    name = "defillama"

    @property
    def cadence_s(self) -> int:
        return self.settings.defillama_cadence_s

    @property
    def base_url(self) -> str:
        return self.settings.defillama_base_url

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        result = CollectResult()
        bucket_at = bucket_start(now, self.cadence_s)

        chains = await http.get_json(CHAINS_PATH)
        if not isinstance(chains, list):
            raise MalformedPayload(f"defillama: {CHAINS_PATH} is not a JSON array")
        self.parse_items(
            result,
            ChainTvl,
            ((_key(item, "name"), item) for item in chains),
            lambda item: _chain_row(item, bucket_at=bucket_at, now=now),
        )

        async for item in http.iter_json_array(PROTOCOLS_PATH):
            self.parse_item(
                result,
                ProtocolTvl,
                _key(item, "slug"),
                item,
                lambda item: _protocol_row(item, bucket_at=bucket_at, now=now),
            )

        result.latest = {
            "chains": {
                row["chain"]: row["tvl_usd"] for row in result.rows.get(ChainTvl, [])
            },
            "protocols": len(result.rows.get(ProtocolTvl, [])),
        }
        return result


def _key(item: Any, field: str) -> str:
    """The item's name for log lines, even when the item is not an object."""
    if isinstance(item, dict) and item.get(field) is not None:
        return str(item[field])[:128]
    return repr(item)[:64]


def _object(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MalformedItem("item is not an object")
    return item


def _chain_row(item: Any, *, bucket_at: datetime, now: datetime) -> Row:
    item = _object(item)
    return {
        "chain": require_str(item, "name", max_chars=64),
        "bucket_at": bucket_at,
        "token_symbol": optional_str(item, "tokenSymbol", max_chars=32),
        "tvl_usd": require_float(item, "tvl"),
        "collected_at": now,
    }


def _protocol_row(item: Any, *, bucket_at: datetime, now: datetime) -> Row:
    item = _object(item)
    symbol = optional_str(item, "symbol", max_chars=64)
    return {
        "slug": require_str(item, "slug", max_chars=128),
        "bucket_at": bucket_at,
        "name": require_str(item, "name", max_chars=256),
        "symbol": None if symbol == NO_SYMBOL else symbol,
        "category": optional_str(item, "category", max_chars=64),
        "chains": _chains(item),
        "tvl_usd": optional_float(item, "tvl"),
        "change_1h_pct": optional_float(item, "change_1h"),
        "change_1d_pct": optional_float(item, "change_1d"),
        "change_7d_pct": optional_float(item, "change_7d"),
        "mcap_usd": optional_float(item, "mcap"),
        "collected_at": now,
    }


def _chains(item: dict[str, Any]) -> list[str]:
    chains = item.get("chains")
    if chains is None:
        return []
    if not isinstance(chains, list) or not all(isinstance(c, str) for c in chains):
        raise MalformedItem("chains is not a list of names")
    if len(chains) > MAX_CHAINS_PER_PROTOCOL:
        raise MalformedItem(f"chains lists more than {MAX_CHAINS_PER_PROTOCOL} names")
    return chains
