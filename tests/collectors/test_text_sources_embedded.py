"""The CryptoPanic, Reddit and SEC collectors on the embedded database (SQLite)."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from omc.collectors.cryptopanic import POSTS_PATH, CryptoPanicCollector
from omc.collectors.reddit import TOKEN_PATH, RedditCollector
from omc.collectors.sec import SecCollector
from omc.db import migrate
from omc.runtime import Runtime
from omc.settings import Settings
from tests.collectors.conftest import FIXTURES, Sleeps, fast_settings, runner_for
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


@pytest.fixture
def embedded_runtime(
    embedded_settings: Settings, replay_server: ReplayServer
) -> Iterator[Runtime]:
    settings = fast_settings(embedded_settings, replay_server).model_copy(
        update={
            "cryptopanic_token": SecretStr("embedded-token-value"),
            "reddit_client_id": "embedded-client",
            "reddit_client_secret": SecretStr("embedded-secret"),
            "reddit_subreddits": ["CryptoCurrency"],
            "sec_user_agent": "OMC Test ops@example.com",
        }
    )
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def _twice(runtime: Runtime, collector_class):
    runner = runner_for(runtime, clock=lambda: NOW)
    first = runner.run(collector_class(runtime.settings, sleep=Sleeps()))
    second = runner.run(collector_class(runtime.settings, sleep=Sleeps()))
    return first, second


def test_news_with_json_votes_and_currencies_rerun_stores_nothing_new(
    embedded_runtime: Runtime, replay_server: ReplayServer
) -> None:
    pages = [
        Reply.file(FIXTURES / "cryptopanic" / f"posts_page{n}.json") for n in (1, 2)
    ]
    replay_server.add(POSTS_PATH, *pages, *pages)

    first, second = _twice(embedded_runtime, CryptoPanicCollector)

    assert (first.status, first.stored, first.skipped) == ("ok", 4, 2)
    assert (second.status, second.stored) == ("ok", 0)


def test_social_posts_rerun_stores_nothing_new(
    embedded_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(TOKEN_PATH, Reply.file(FIXTURES / "reddit" / "access_token.json"))
    pages = [Reply.file(FIXTURES / "reddit" / f"new_page{n}.json") for n in (1, 2)]
    replay_server.add("/r/CryptoCurrency/new", *pages, *pages)

    first, second = _twice(embedded_runtime, RedditCollector)

    assert (first.status, first.stored, first.skipped) == ("ok", 5, 3)
    assert (second.status, second.stored) == ("ok", 0)


def test_filings_rerun_stores_nothing_new(
    embedded_runtime: Runtime, replay_server: ReplayServer
) -> None:
    for cik in ("0001679788", "0001050446"):
        replay_server.add(
            f"/submissions/CIK{cik}.json",
            Reply.file(FIXTURES / "sec" / f"CIK{cik}.json"),
        )

    first, second = _twice(embedded_runtime, SecCollector)

    assert (first.status, first.stored, first.skipped) == ("ok", 7, 2)
    assert (second.status, second.stored) == ("ok", 0)
