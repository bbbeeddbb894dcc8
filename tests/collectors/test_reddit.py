import base64
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from omc.collectors.reddit import TOKEN_PATH, RedditCollector
from omc.db.models import SocialPost
from omc.runtime import Runtime
from tests.collectors.conftest import FIXTURES, Sleeps, runner_for
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)
CLIENT_ID = "fixture-client-id"
CLIENT_SECRET = "fixture-client-secret-value"
NEW = "/r/CryptoCurrency/new"
TOKEN = Reply.file(FIXTURES / "reddit" / "access_token.json")
PAGE1 = Reply.file(FIXTURES / "reddit" / "new_page1.json")
PAGE2 = Reply.file(FIXTURES / "reddit" / "new_page2.json")
EMPTY = Reply.file(FIXTURES / "reddit" / "new_empty.json")


def run(runtime: Runtime, **update):
    settings = runtime.settings.model_copy(
        update={
            "reddit_client_id": CLIENT_ID,
            "reddit_client_secret": SecretStr(CLIENT_SECRET),
            "reddit_subreddits": ["CryptoCurrency"],
            **update,
        }
    )
    collector = RedditCollector(settings, sleep=Sleeps())
    return runner_for(runtime, clock=lambda: NOW).run(collector)


def stored_posts(runtime: Runtime) -> dict[str, SocialPost]:
    with Session(runtime.engine) as session:
        return {p.post_id: p for p in session.scalars(select(SocialPost))}


def test_run_fetches_a_token_then_pages_the_listing_with_it(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(TOKEN_PATH, TOKEN)
    replay_server.add(NEW, PAGE1, PAGE2)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored, outcome.skipped) == (
        "ok",
        8,
        5,
        3,
    )
    (token_request,) = replay_server.requests_to(TOKEN_PATH)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.method == "POST"
    assert token_request.headers["authorization"] == f"Basic {basic}"
    assert "x-www-form-urlencoded" in token_request.headers["content-type"]
    assert token_request.body == b"grant_type=client_credentials"
    listing = replay_server.requests_to(NEW)
    assert [r.query.get("after") for r in listing] == [None, ["t3_1hq0a04"]]
    assert all(r.query["limit"] == ["100"] for r in listing)
    assert all(r.headers["authorization"].startswith("Bearer eyJ") for r in listing)
    assert all("omc" in r.headers["user-agent"] for r in listing)


def test_posts_are_stored_with_reception_author_flair_and_sentiment(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(TOKEN_PATH, TOKEN)
    replay_server.add(NEW, PAGE1, PAGE2)

    run(collector_runtime)

    posts = stored_posts(collector_runtime)
    assert sorted(posts) == [f"t3_1hq0a0{n}" for n in (1, 2, 3, 4, 5)]
    first = posts["t3_1hq0a01"]
    assert (first.score, first.upvote_ratio, first.num_comments) == (1532, 0.94, 211)
    assert (first.author, first.flair, first.community) == (
        "satoshi_fan_42",
        "GENERAL-NEWS",
        "CryptoCurrency",
    )
    assert first.sentiment > 0
    assert posts["t3_1hq0a02"].author is None
    assert posts["t3_1hq0a02"].sentiment < 0


def test_rerun_stores_nothing_new(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(TOKEN_PATH, TOKEN)
    replay_server.add(NEW, PAGE1, PAGE2, PAGE1, PAGE2)
    run(collector_runtime)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.stored) == ("ok", 0)
    assert len(replay_server.requests_to(TOKEN_PATH)) == 2


def test_a_401_from_the_token_endpoint_fails_the_run_naming_the_settings(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(
        TOKEN_PATH,
        Reply.file(FIXTURES / "reddit" / "access_token_401.json", status=401),
    )

    outcome = run(collector_runtime)

    assert outcome.status == "failed"
    assert "HTTP 401" in (outcome.error or "")
    assert "OMC_REDDIT_CLIENT_ID" in (outcome.error or "")
    assert CLIENT_SECRET not in (outcome.error or "")
    assert replay_server.requests_to(NEW) == []


def test_without_credentials_the_collector_reports_itself_disabled(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    outcome = run(collector_runtime, reddit_client_id=None)

    assert outcome.status == "disabled"
    assert "OMC_REDDIT_CLIENT_ID" in (outcome.error or "")
    assert replay_server.requests == []


def test_an_empty_subreddit_is_a_successful_run_and_the_others_are_read(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(TOKEN_PATH, TOKEN)
    replay_server.add("/r/Bitcoin/new", EMPTY)
    replay_server.add(NEW, PAGE2)

    outcome = run(collector_runtime, reddit_subreddits=["Bitcoin", "CryptoCurrency"])

    assert (outcome.status, outcome.stored) == ("ok", 1)
    assert len(replay_server.requests_to("/r/Bitcoin/new")) == 1
