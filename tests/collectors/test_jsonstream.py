import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from omc.collectors.jsonstream import iter_json_array


def read(data: bytes, chunk_bytes: int) -> list[object]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), chunk_bytes):
            yield data[start : start + chunk_bytes]

    async def collect() -> list[object]:
        return [item async for item in iter_json_array(chunks())]

    return asyncio.run(collect())


ITEMS = [
    {"name": "Üniswap 🦄", "tvl": 1.5e10, "chains": ["Ethereum"]},
    12345678901234567890,
    None,
    "text, with ] and , inside",
    [],
    {"nested": {"deep": [1, 2, {"x": "y"}]}},
    -0.5,
]


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64, 100_000])
def test_items_come_out_whole_whatever_the_chunking(chunk_bytes: int) -> None:
    data = json.dumps(ITEMS, ensure_ascii=False, indent=1).encode()

    assert read(data, chunk_bytes) == ITEMS


def test_an_empty_array_yields_nothing() -> None:
    assert read(b" [ ] \n", 1) == []


@pytest.mark.parametrize(
    "data",
    [b'{"a": 1}', b"[1, 2", b"[1 2]", b"[1, 2] x", b"", b"[{bad}]", b"[1,]"],
)
def test_text_that_is_not_one_array_raises_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        read(data, 2)
