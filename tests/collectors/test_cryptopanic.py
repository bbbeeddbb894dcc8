import logging
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from omc.collectors.cryptopanic import POSTS_PATH, CryptoPanicCollector
from omc.db.models import NewsPost
from omc.runtime import Runtime
from tests.collectors.conftest import FIXTURES, Sleeps, runner_for, runs_of
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
TOKEN = "FIXTURE-TOKEN-0123456789abcdef"
PAGE1 = Reply.file(FIXTURES / "cryptopanic" / "posts_page1.json")
PAGE2 = Reply.file(FIXTURES / "cryptopanic" / "posts_page2.json")
EMPTY = Reply.file(FIXTURES / "cryptopanic" / "posts_empty.json")


def run(runtime: Runtime, token: str | None = TOKEN):
    settings = runtime.settings.model_copy(
        update={"cryptopanic_token": SecretStr(token) if token else None}
    )
    collector = CryptoPanicCollector(settings, sleep=Sleeps())
    return runner_for(runtime, clock=lambda: NOW).run(collector)


def stored_posts(runtime: Runtime) -> dict[str, NewsPost]:
    with Session(runtime.engine) as session:
        return {p.post_id: p for p in session.scalars(select(NewsPost))}


def test_run_follows_next_pages_and_stores_posts_with_votes_and_currencies(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(POSTS_PATH, PAGE1, PAGE2)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored, outcome.skipped) == (
        "ok",
        6,
        4,
        2,
    )
    requests = replay_server.requests_to(POSTS_PATH)
    assert [r.query.get("page") for r in requests] == [None, ["2"]]
    assert all(r.query["auth_token"] == [TOKEN] for r in requests)
    assert all(r.query["public"] == ["true"] for r in requests)
    posts = stored_posts(collector_runtime)
    assert sorted(posts) == ["21449702", "21449850", "21449987", "21450001"]
    assert posts["21449987"].currencies == ["ETH", "LDO"]
    assert posts["21450001"].votes["positive"] == 12
    assert posts["21449702"].published_at == datetime(
        2026, 1, 5, 10, 15, 45, tzinfo=UTC
    )


def test_rerun_of_the_same_pages_stores_nothing_new(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(POSTS_PATH, PAGE1, PAGE2, PAGE1, PAGE2)
    run(collector_runtime)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored) == ("ok", 6, 0)
    assert len(stored_posts(collector_runtime)) == 4


def test_the_token_never_reaches_the_logs_or_the_run_record(
    collector_runtime: Runtime,
    replay_server: ReplayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="omc")
    replay_server.add(POSTS_PATH, PAGE1, Reply(status=502), Reply(status=401))

    outcome = run(collector_runtime)

    assert outcome.status == "failed"
    assert TOKEN not in (outcome.error or "")
    omc_records = [r for r in caplog.records if r.name.startswith("omc")]
    assert omc_records
    for record in omc_records:
        assert TOKEN not in record.getMessage()
        assert all(TOKEN not in str(value) for value in record.__dict__.values())
    assert all(
        TOKEN not in (r.error or "")
        for r in runs_of(collector_runtime.engine, "cryptopanic")
    )


def test_without_a_token_the_collector_reports_itself_disabled(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    outcome = run(collector_runtime, token=None)

    assert outcome.status == "disabled"
    assert "OMC_CRYPTOPANIC_TOKEN" in (outcome.error or "")
    assert replay_server.requests == []


def test_an_empty_page_is_a_successful_run_with_nothing_stored(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(POSTS_PATH, EMPTY)

    outcome = run(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored) == ("ok", 0, 0)
    assert len(replay_server.requests_to(POSTS_PATH)) == 1


def test_an_error_document_fails_the_run_with_the_providers_reason(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(
        POSTS_PATH, Reply.json({"status": "api_error", "info": "Token not found"})
    )

    outcome = run(collector_runtime)

    assert outcome.status == "failed"
    assert "Token not found" in (outcome.error or "")


def test_a_token_quoted_back_in_an_error_document_is_masked(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(
        POSTS_PATH, Reply.json({"status": "api_error", "info": f"Bad token {TOKEN}"})
    )

    outcome = run(collector_runtime)

    assert outcome.status == "failed"
    assert "Bad token ***" in (outcome.error or "")
    assert TOKEN not in (outcome.error or "")
