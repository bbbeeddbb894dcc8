"""Reddit: new submissions of chosen subreddits, with a sentiment score.

Reddit's API wants app-only OAuth: `POST {auth}/api/v1/access_token` with the
app's client id and secret as HTTP basic auth and `grant_type=client_credentials`
answers a bearer token; `GET {api}/r/{subreddit}/new?limit=100` on the OAuth host
then answers a listing whose `after` fullname fetches the next, older page. Text
fields arrive HTML-escaped (`&amp;`); the parser decodes them.
"""

import base64
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any, ClassVar

from omc.collectors._pages import (
    ParsedPage,
    add_page,
    as_float,
    as_int,
    as_text,
    from_epoch,
    parse_items,
    reaches_back,
    require,
)
from omc.collectors.base import Collector, CollectResult
from omc.collectors.errors import (
    CollectorDisabled,
    MalformedItem,
    MalformedPayload,
    ProviderErrorBody,
    ProviderRejected,
)
from omc.collectors.http import HttpClient
from omc.collectors.sentiment import score_text
from omc.db.models.collectors import SocialPost

__all__ = [
    "SOURCE",
    "AccessToken",
    "RedditCollector",
    "SocialRecord",
    "parse_listing",
    "parse_token",
]

logger = logging.getLogger(__name__)

SOURCE = "reddit"
WEB_URL = "https://www.reddit.com"
TOKEN_PATH = "/api/v1/access_token"  # noqa: S105  (a path, not a secret)
PAGE_SIZE = 100
# Paging of one subreddit stops after this many pages, or at a page older than
# the look-back: older posts were stored by earlier runs.
MAX_PAGES = 10
LOOKBACK = timedelta(days=1)
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
# What Reddit shows in place of an author or a body that was deleted or removed.
_GONE = frozenset({"[deleted]", "[removed]"})


@dataclass(frozen=True)
class AccessToken:
    """An app-only bearer token and its lifetime in seconds."""

    value: str
    expires_in_s: int


@dataclass(frozen=True)
class SocialRecord:
    """One row of `collectors.social_posts`."""

    source: str
    post_id: str
    community: str
    title: str
    body: str
    author: str | None
    flair: str | None
    url: str
    score: int
    upvote_ratio: float | None
    num_comments: int
    sentiment: float
    published_at: datetime
    collected_at: datetime


def parse_token(payload: Any) -> AccessToken:
    """Read the token endpoint's answer.

    Raises:
        ProviderErrorBody: Reddit answered without a bearer token (it reports
            refused credentials as `{"error": "invalid_grant"}` with status 200
            at times).
    """
    if not isinstance(payload, Mapping):
        raise ProviderErrorBody("Reddit's token endpoint answered with no JSON object")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        error = payload.get("error")
        raise ProviderErrorBody(
            f"Reddit refused the app credentials ({error}): check "
            "OMC_REDDIT_CLIENT_ID and OMC_REDDIT_CLIENT_SECRET"
        )
    try:
        expires_in_s = as_int(payload.get("expires_in", 3600), "expires_in")
    except MalformedItem:
        expires_in_s = 3600
    return AccessToken(value=token, expires_in_s=max(expires_in_s, 60))


def parse_listing(payload: Any, *, collected_at: datetime) -> ParsedPage[SocialRecord]:
    """Turn one listing page into records and the `after` cursor of the next page.

    Raises:
        PayloadError: the answer is not a Listing with a list of children.
    """
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if (
        not isinstance(payload, Mapping)
        or payload.get("kind") != "Listing"
        or not isinstance(data, Mapping)
        or not isinstance(data.get("children"), list)
    ):
        raise MalformedPayload("Reddit answered with something other than a listing")
    after = data.get("after")

    def parse(child: Mapping[str, Any]) -> SocialRecord:
        return _parse_child(child, collected_at)

    return parse_items(
        data["children"],
        parse,
        source=SOURCE,
        key_of=lambda child: child["data"].get("name"),
        cursor=after if isinstance(after, str) and after else None,
    )


def _parse_child(child: Mapping[str, Any], collected_at: datetime) -> SocialRecord:
    if child.get("kind") != "t3":
        raise MalformedItem(f"child of kind {child.get('kind')!r} is not a submission")
    post = require(child, "data")
    if not isinstance(post, Mapping):
        raise MalformedItem("submission data is not an object")
    fullname = as_text(require(post, "name"), "name", unescape=False)
    if not fullname.startswith("t3_") or len(fullname) <= len("t3_"):
        raise MalformedItem(f"name {fullname!r:.40} is not a submission fullname")
    title = as_text(require(post, "title"), "title")
    body = _body(post.get("selftext"))
    ratio = post.get("upvote_ratio")
    return SocialRecord(
        source=SOURCE,
        post_id=fullname,
        community=as_text(require(post, "subreddit"), "subreddit"),
        title=title,
        body=body,
        author=_author(post.get("author")),
        flair=_flair(post.get("link_flair_text")),
        url=_permalink(post),
        score=as_int(post.get("score", 0), "score"),
        upvote_ratio=None if ratio is None else as_float(ratio, "upvote_ratio"),
        num_comments=as_int(post.get("num_comments", 0), "num_comments"),
        sentiment=score_text(f"{title}\n{body}"),
        published_at=from_epoch(require(post, "created_utc"), "created_utc"),
        collected_at=collected_at,
    )


def _body(value: Any) -> str:
    if value is None:
        return ""
    text = as_text(value, "selftext")
    return "" if text in _GONE else text


def _author(value: Any) -> str | None:
    if value is None:
        return None
    name = as_text(value, "author", unescape=False)
    return None if not name or name in _GONE else name


def _flair(value: Any) -> str | None:
    if value is None:
        return None
    return as_text(value, "link_flair_text") or None


def _permalink(post: Mapping[str, Any]) -> str:
    permalink = post.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return WEB_URL + permalink
    raise MalformedItem("permalink is missing")


class RedditCollector(Collector):
    """New submissions of the configured subreddits, through app-only OAuth."""

    name: ClassVar[str] = SOURCE
    # Reddit allows 100 OAuth requests a minute per client; stay well below.
    max_requests_per_s: ClassVar[float | None] = 1.5

    @property
    def cadence_s(self) -> int:
        """Seconds between runs (`OMC_REDDIT_CADENCE_S`)."""
        return self.settings.reddit_cadence_s

    @property
    def base_url(self) -> str:
        """The OAuth API host (`OMC_REDDIT_BASE_URL`)."""
        return self.settings.reddit_base_url

    def headers(self) -> dict[str, str]:
        """Reddit asks every client for a User-Agent that says who it is."""
        client = self.settings.reddit_client_id or "unconfigured"
        return {
            "User-Agent": f"python:omc-market-intelligence:v{version('omc')} "
            f"(Oh My Coins collector; app {client})"
        }

    def disabled_reason(self) -> str | None:
        """Reddit's API needs an app's client id and secret."""
        secret = self.settings.reddit_client_secret
        if not self.settings.reddit_client_id:
            return "OMC_REDDIT_CLIENT_ID is not set"
        if secret is None or not secret.get_secret_value():
            return "OMC_REDDIT_CLIENT_SECRET is not set"
        bad = [s for s in self.settings.reddit_subreddits if not _SUBREDDIT.match(s)]
        if bad:
            return f"OMC_REDDIT_SUBREDDITS has invalid names: {', '.join(bad)}"
        return None

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        """Fetch a token, then the new posts of every subreddit, page by page."""
        token = await self._fetch_token(http)
        auth = {"Authorization": f"Bearer {token.value}"}
        result = CollectResult()
        for subreddit in self.settings.reddit_subreddits:
            await self._collect_subreddit(http, subreddit, auth, result, now)
        return result

    async def _fetch_token(self, http: HttpClient) -> AccessToken:
        client_id = self.settings.reddit_client_id
        secret = self.settings.reddit_client_secret
        if not client_id or secret is None:
            raise CollectorDisabled("OMC_REDDIT_CLIENT_ID is not set")
        pair = f"{client_id}:{secret.get_secret_value()}".encode()
        basic = base64.b64encode(pair).decode("ascii")
        url = self.settings.reddit_auth_url.rstrip("/") + TOKEN_PATH
        try:
            response = await http.request(
                "POST",
                url,
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {basic}"},
            )
        except ProviderRejected as exc:
            raise ProviderRejected(
                f"Reddit refused the app credentials (HTTP {exc.status_code}): "
                "check OMC_REDDIT_CLIENT_ID and OMC_REDDIT_CLIENT_SECRET",
                status_code=exc.status_code,
                body=b"",
            ) from exc
        try:
            payload = response.json()
        except ValueError as exc:
            raise MalformedPayload("Reddit's token endpoint answered no JSON") from exc
        return parse_token(payload)

    async def _collect_subreddit(
        self,
        http: HttpClient,
        subreddit: str,
        auth: dict[str, str],
        result: CollectResult,
        now: datetime,
    ) -> None:
        after: str | None = None
        for page_number in range(1, MAX_PAGES + 1):
            params: dict[str, str | int] = {"limit": PAGE_SIZE}
            if after is not None:
                params["after"] = after
            payload = await http.get_json(
                f"/r/{subreddit}/new", params=params, headers=auth
            )
            page = parse_listing(payload, collected_at=now)
            add_page(result, SocialPost, page)
            logger.debug(
                "reddit page read",
                extra={
                    "subreddit": subreddit,
                    "page": page_number,
                    "posts": len(page.records),
                },
            )
            if page.cursor is None or reaches_back(page, now - LOOKBACK):
                return
            after = page.cursor
