"""Read the items of a top-level JSON array from a byte stream, one at a time.

DeFiLlama's `/protocols` is several megabytes. Parsing it whole would hold the body
and every parsed protocol at once; this reader keeps only a window of undecoded
text plus the item being decoded, so memory stays flat whatever the body size.
"""

import codecs
import json
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["iter_json_array"]

_WHITESPACE = " \t\n\r"
_DELIMITERS = _WHITESPACE + ",]}"


class _Window:
    """The not yet consumed text of a byte stream, refilled on demand."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder()
        self._ended = False
        self.text = ""
        self.position = 0

    async def fill(self) -> bool:
        """Append the next chunk, dropping consumed text; False at end of stream."""
        if self._ended:
            return False
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            self._ended = True
            fresh = self._utf8.decode(b"", final=True)
        else:
            fresh = self._utf8.decode(chunk)
        self.text = self.text[self.position :] + fresh
        self.position = 0
        return True

    async def peek(self) -> str | None:
        """The next character that is not whitespace, or None at end of stream."""
        while True:
            while (
                self.position < len(self.text)
                and self.text[self.position] in _WHITESPACE
            ):
                self.position += 1
            if self.position < len(self.text):
                return self.text[self.position]
            if not await self.fill():
                return None

    async def decode(self) -> Any:
        """Decode the JSON value that starts at the next non-whitespace character."""
        await self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.text, self.position)
            except json.JSONDecodeError:
                if await self.fill():
                    continue
                raise
            # A number may be cut short by the window ("-0" of "-0.5"): only a
            # delimiter after the value proves it whole.
            cut_short = end >= len(self.text) or self.text[end] not in _DELIMITERS
            if cut_short and await self.fill():
                continue
            self.position = end
            return value


async def iter_json_array(chunks: AsyncIterator[bytes]) -> AsyncIterator[Any]:
    """Yield each item of the UTF-8 JSON array the chunks spell.

    Raises:
        ValueError: the text is not one JSON array (json.JSONDecodeError included).
    """
    window = _Window(chunks)
    char = await window.peek()
    if char != "[":
        raise ValueError(f"expected a JSON array, found {char!r}")
    window.position += 1
    if await window.peek() == "]":
        window.position += 1
    else:
        while True:
            yield await window.decode()
            char = await window.peek()
            if char == "]":
                window.position += 1
                break
            if char != ",":
                raise ValueError(f"expected ',' or ']' after an item, found {char!r}")
            window.position += 1
    char = await window.peek()
    if char is not None:
        raise ValueError(f"unexpected text after the JSON array: {char!r}")
