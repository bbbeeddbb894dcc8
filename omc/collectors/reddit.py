"""Reddit: new submissions of chosen subreddits, with a sentiment score.

Reddit's API wants app-only OAuth: `POST {auth}/api/v1/access_token` with the
app's client id and secret as HTTP basic auth and `grant_type=client_credentials`
answers a bearer token; `GET {api}/r/{subreddit}/new?limit=100` on the OAuth host
then answers a listing whose `after` fullname fetches the next, older page. Text
fields arrive HTML-escaped (`&amp;`); the parser decodes them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omc.collectors._parsing import (
    ItemError,
    ParsedPage,
    PayloadError,
    as_float,
    as_int,
    as_text,
    from_epoch,
    parse_items,
    require,
)
from omc.collectors.sentiment import score_text
from omc.errors import AuthError

__all__ = ["SOURCE", "AccessToken", "SocialRecord", "parse_listing", "parse_token"]

SOURCE = "reddit"
WEB_URL = "https://www.reddit.com"
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
        AuthError: Reddit answered without a bearer token (it reports refused
            credentials as `{"error": "invalid_grant"}` with status 200 at times).
    """
    if not isinstance(payload, Mapping):
        raise AuthError("Reddit's token endpoint answered with no JSON object")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        error = payload.get("error")
        raise AuthError(
            f"Reddit refused the app credentials ({error}): check "
            "OMC_REDDIT_CLIENT_ID and OMC_REDDIT_CLIENT_SECRET"
        )
    try:
        expires_in_s = as_int(payload.get("expires_in", 3600), "expires_in")
    except ItemError:
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
        raise PayloadError("Reddit answered with something other than a listing")
    after = data.get("after")

    def parse(child: Mapping[str, Any]) -> SocialRecord:
        return _parse_child(child, collected_at)

    return parse_items(
        data["children"],
        parse,
        source=SOURCE,
        cursor=after if isinstance(after, str) and after else None,
    )


def _parse_child(child: Mapping[str, Any], collected_at: datetime) -> SocialRecord:
    if child.get("kind") != "t3":
        raise ItemError(f"child of kind {child.get('kind')!r} is not a submission")
    post = require(child, "data")
    if not isinstance(post, Mapping):
        raise ItemError("submission data is not an object")
    fullname = as_text(require(post, "name"), "name", unescape=False)
    if not fullname.startswith("t3_") or len(fullname) <= len("t3_"):
        raise ItemError(f"name {fullname!r:.40} is not a submission fullname")
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
    raise ItemError("permalink is missing")
