"""CryptoPanic news: posts with their votes and the currencies they mention.

`GET {base}/api/v1/posts/?auth_token=...&public=true` answers one page of posts
and a `next` link. That link carries the token in clear, so it is never logged:
the parser keeps only its query without the token as the cursor, and the
collector asks the configured base URL for it (which also keeps paging on a mirror).
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from omc.collectors._pages import (
    ParsedPage,
    add_page,
    as_int,
    as_text,
    parse_items,
    parse_utc,
    reaches_back,
    require,
)
from omc.collectors.base import Collector, CollectResult
from omc.collectors.errors import (
    CollectorDisabled,
    MalformedItem,
    MalformedPayload,
)
from omc.collectors.http import HttpClient
from omc.collectors.sentiment import score_text
from omc.db.models.collectors import NewsPost

__all__ = ["SOURCE", "CryptoPanicCollector", "NewsRecord", "parse_posts"]

logger = logging.getLogger(__name__)

SOURCE = "cryptopanic"
POSTS_PATH = "/api/v1/posts/"
TOKEN_PARAM = "auth_token"  # noqa: S105  (the name of the query parameter)
# Paging stops after this many pages, or at a page older than the look-back:
# older posts were stored by earlier runs.
MAX_PAGES = 5
LOOKBACK = timedelta(days=1)


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
        raise MalformedPayload(
            f"CryptoPanic answered without a list of results{_reason(payload)}"
        )

    def parse(item: Mapping[str, Any]) -> NewsRecord:
        return _parse_post(item, collected_at)

    return parse_items(
        payload["results"],
        parse,
        source=SOURCE,
        key_of=lambda item: item.get("id"),
        cursor=next_cursor(payload.get("next")),
    )


def _reason(payload: Any) -> str:
    """The provider's own explanation of an error answer, if it gave one."""
    if isinstance(payload, Mapping):
        for key in ("info", "detail", "error"):
            if isinstance(payload.get(key), str):
                return f": {payload[key][:200]}"
    return ""


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
        raise MalformedItem("id is empty")
    title = as_text(require(item, "title"), "title")
    if not title:
        raise MalformedItem("title is empty")
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
    raise MalformedItem(f"post {post_id} has no http(s) url")


def _optional_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    return as_text(value, name) or None


def _currencies(value: Any) -> list[str]:
    """Upper-case currency codes in the provider's order, without repeats."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedItem("currencies is not a list")
    codes: list[str] = []
    for entry in value:
        code = entry.get("code") if isinstance(entry, Mapping) else None
        if not isinstance(code, str) or not code.strip():
            raise MalformedItem("a currency has no code")
        normalised = code.strip().upper()
        if normalised not in codes:
            codes.append(normalised)
    return codes


def _votes(value: Any) -> dict[str, int]:
    """Vote counts by kind; null counts are dropped, numeric strings accepted."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedItem("votes is not an object")
    return {
        str(kind): as_int(count, f"votes.{kind}", maximum=2**53)
        for kind, count in value.items()
        if count is not None
    }


class CryptoPanicCollector(Collector):
    """Public news posts from CryptoPanic, newest first, following `next` pages."""

    name: ClassVar[str] = SOURCE

    @property
    def cadence_s(self) -> int:
        """Seconds between runs (`OMC_CRYPTOPANIC_CADENCE_S`)."""
        return self.settings.cryptopanic_cadence_s

    @property
    def base_url(self) -> str:
        """CryptoPanic's base URL (`OMC_CRYPTOPANIC_BASE_URL`)."""
        return self.settings.cryptopanic_base_url

    def disabled_reason(self) -> str | None:
        """CryptoPanic answers nothing without a token."""
        token = self.settings.cryptopanic_token
        if token is None or not token.get_secret_value():
            return "OMC_CRYPTOPANIC_TOKEN is not set"
        return None

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        """Fetch pages until the last one, the page limit, or posts seen before."""
        token = self.settings.cryptopanic_token
        if token is None:
            raise CollectorDisabled("OMC_CRYPTOPANIC_TOKEN is not set")
        secret = token.get_secret_value()
        result = CollectResult()
        query: list[tuple[str, str]] = [("public", "true")]
        for page_number in range(1, MAX_PAGES + 1):
            # The token goes in as a parameter and never into a URL we log.
            payload = await http.get_json(
                POSTS_PATH, params=[(TOKEN_PARAM, secret), *query]
            )
            try:
                page = parse_posts(payload, collected_at=now)
            except MalformedPayload as exc:
                # The provider's error text may quote the token back; the run
                # record keeps the message, so the token is masked in it.
                raise MalformedPayload(str(exc).replace(secret, "***")) from None
            add_page(result, NewsPost, page)
            logger.debug(
                "cryptopanic page read",
                extra={"page": page_number, "posts": len(page.records)},
            )
            if page.cursor is None or reaches_back(page, now - LOOKBACK):
                break
            query = parse_qsl(page.cursor)
        return result
