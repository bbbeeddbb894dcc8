"""CryptoPanic news: posts with their votes and the currencies they mention.

`GET {base}/api/v1/posts/?auth_token=...&public=true` answers one page of posts
and a `next` link. That link carries the token in clear, so it is never logged:
the parser keeps only its query without the token as the cursor, and the
collector asks the configured base URL for it (which also keeps paging on a mirror).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from omc.collectors._parsing import (
    ItemError,
    ParsedPage,
    PayloadError,
    as_int,
    as_text,
    parse_items,
    parse_utc,
    require,
)
from omc.collectors.sentiment import score_text

__all__ = ["SOURCE", "NewsRecord", "parse_posts"]

SOURCE = "cryptopanic"
TOKEN_PARAM = "auth_token"  # noqa: S105  (the name of the query parameter)


@dataclass(frozen=True)
class NewsRecord:
    """One row of `collectors.news_posts`."""

    source: str
    post_id: str
    url: str
    title: str
    kind: str | None
    domain: str | None
    published_at: datetime
    currencies: list[str]
    votes: dict[str, int]
    sentiment: float | None
    collected_at: datetime


def parse_posts(payload: Any, *, collected_at: datetime) -> ParsedPage[NewsRecord]:
    """Turn one page of `/api/v1/posts/` into news records and the next cursor.

    Raises:
        PayloadError: the page is not an object with a `results` list.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("results"), list):
        raise PayloadError("CryptoPanic answered without a list of results")

    def parse(item: Mapping[str, Any]) -> NewsRecord:
        return _parse_post(item, collected_at)

    return parse_items(
        payload["results"],
        parse,
        source=SOURCE,
        cursor=next_cursor(payload.get("next")),
    )


def next_cursor(next_url: Any) -> str | None:
    """Return the query of a `next` link without the token, or None at the end."""
    if not isinstance(next_url, str) or not next_url:
        return None
    params = [
        (name, value)
        for name, value in parse_qsl(urlsplit(next_url).query)
        if name != TOKEN_PARAM
    ]
    return urlencode(params) if params else None


def _parse_post(item: Mapping[str, Any], collected_at: datetime) -> NewsRecord:
    post_id = as_text(require(item, "id"), "id", unescape=False)
    if not post_id:
        raise ItemError("id is empty")
    title = as_text(require(item, "title"), "title")
    if not title:
        raise ItemError("title is empty")
    url = _url_of(item, post_id)
    source = item.get("source")
    domain = item.get("domain")
    if not domain and isinstance(source, Mapping):
        domain = source.get("domain")
    return NewsRecord(
        source=SOURCE,
        post_id=post_id,
        url=url,
        title=title,
        kind=_optional_text(item.get("kind"), "kind"),
        domain=_optional_text(domain, "domain"),
        published_at=parse_utc(require(item, "published_at"), "published_at"),
        currencies=_currencies(item.get("currencies")),
        votes=_votes(item.get("votes")),
        sentiment=score_text(title),
        collected_at=collected_at,
    )


def _url_of(item: Mapping[str, Any], post_id: str) -> str:
    url = item.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    raise ItemError(f"post {post_id} has no http(s) url")


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    return as_text(value, name) or None


def _currencies(value: Any) -> list[str]:
    """Upper-case currency codes in the provider's order, without repeats."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ItemError("currencies is not a list")
    codes: list[str] = []
    for entry in value:
        code = entry.get("code") if isinstance(entry, Mapping) else None
        if not isinstance(code, str) or not code.strip():
            raise ItemError("a currency has no code")
        normalised = code.strip().upper()
        if normalised not in codes:
            codes.append(normalised)
    return codes


def _votes(value: Any) -> dict[str, int]:
    """Vote counts by kind; null counts are dropped, numeric strings accepted."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ItemError("votes is not an object")
    return {
        str(kind): as_int(count, f"votes.{kind}", maximum=2**53)
        for kind, count in value.items()
        if count is not None
    }
