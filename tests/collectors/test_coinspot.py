import json
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from omc.collectors.coinspot import LATEST_PATH, CoinSpotCollector
from omc.collectors.exporter import CollectorMetricsExporter
from omc.collectors.runner import latest_cache_key
from omc.db.models import PriceSnapshot
from omc.runtime import Runtime
from tests.collectors.conftest import FIXTURES, Sleeps, runner_for, runs_of
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 12, 3, 13, 2, 7, tzinfo=UTC)
BUCKET = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
LATEST = FIXTURES / "coinspot" / "latest.json"


def run_coinspot(runtime: Runtime, **collector_kwargs):
    collector = CoinSpotCollector(runtime.settings, **collector_kwargs)
    return runner_for(runtime, clock=lambda: NOW).run(collector)


def snapshots(runtime: Runtime) -> dict[str, PriceSnapshot]:
    with Session(runtime.engine) as session:
        return {row.coin: row for row in session.scalars(select(PriceSnapshot))}


def test_run_stores_a_snapshot_per_aud_coin_and_skips_malformed_ones(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    outcome = run_coinspot(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored, outcome.skipped) == (
        "ok",
        10,
        8,
        2,
    )
    stored = snapshots(collector_runtime)
    assert sorted(stored) == ["BTC", "DOGE", "ETH", "SHIB", "SOL", "WBTC", "XRP", "ÜNÏ"]
    btc = stored["BTC"]
    assert (btc.bid, btc.ask, btc.last) == (143250.12, 143890.5, 143500.0)
    assert (btc.exchange, btc.quote, btc.bucket_at) == ("coinspot", "AUD", BUCKET)
    assert stored["SHIB"].last == 3.95e-05
    assert stored["SOL"].bid is None
    assert stored["XRP"].bid is None
    assert stored["WBTC"].ask == 1.2e300


def test_rerun_of_the_same_answer_stores_nothing_new(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    run_coinspot(collector_runtime)

    outcome = run_coinspot(collector_runtime)

    assert (outcome.status, outcome.stored) == ("ok", 0)
    runs = runs_of(collector_runtime.engine, "coinspot")
    assert [(r.status, r.fetched, r.stored, r.skipped) for r in runs] == [
        ("ok", 10, 8, 2),
        ("ok", 10, 0, 2),
    ]
    assert all(r.finished_at is not None and r.error is None for r in runs)


def test_metrics_after_two_runs_reflect_the_latest_one(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    run_coinspot(collector_runtime)
    run_coinspot(collector_runtime)
    exporter = CollectorMetricsExporter(
        collector_runtime.engine, collector_runtime.settings, clock=lambda: NOW
    )

    samples = {
        (sample.name, sample.labels.get("status") or sample.labels.get("kind")): (
            sample.value
        )
        for family in exporter.collect()
        for sample in family.samples
        if sample.labels["collector"] == "coinspot"
    }

    assert samples[("omc_collector_runs_total", "ok")] == 2
    assert samples[("omc_collector_last_run_records", "fetched")] == 10
    assert samples[("omc_collector_last_run_records", "stored")] == 0
    assert samples[("omc_collector_last_run_records", "skipped")] == 2
    assert samples[("omc_collector_malformed_ratio", None)] == 0.2
    assert samples[("omc_collector_completeness_ratio", None)] == 1.0
    assert samples[("omc_collector_stale", None)] == 0


def test_run_caches_the_latest_prices_for_two_cadences(
    collector_runtime: Runtime, replay_server: ReplayServer, redis_url: str
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    run_coinspot(collector_runtime)

    client = redis.Redis.from_url(redis_url, db=0, decode_responses=True)
    key = latest_cache_key("coinspot")
    cached = json.loads(client.get(key) or "{}")
    assert cached["values"]["BTC"] == {
        "bid": 143250.12,
        "ask": 143890.5,
        "last": 143500.0,
    }
    ttl_s = client.ttl(key)
    assert 2 * 300 - 5 <= ttl_s <= 2 * 300


def test_skipped_items_are_logged_with_their_key(
    collector_runtime: Runtime,
    replay_server: ReplayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    run_coinspot(collector_runtime)

    skipped = {
        r.__dict__["item"]: r.__dict__["reason"]
        for r in caplog.records
        if r.getMessage() == "malformed item skipped"
    }
    assert skipped == {
        "usdt": "last is missing",
        "pepe": "bid='n/a' is not a number",
    }


@pytest.mark.parametrize("status", [200, 400])
def test_an_error_body_fails_the_run_whatever_the_http_status(
    collector_runtime: Runtime, replay_server: ReplayServer, status: int
) -> None:
    replay_server.add(
        LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "error.json", status=status)
    )

    outcome = run_coinspot(collector_runtime)

    assert outcome.status == "failed"
    assert outcome.error == (
        "coinspot answered an error: Rate limit exceeded: too many requests from "
        "your IP"
    )
    [run] = runs_of(collector_runtime.engine, "coinspot")
    assert (run.status, run.error) == ("failed", outcome.error)
    assert snapshots(collector_runtime) == {}


def test_an_empty_price_list_is_a_successful_run_with_nothing_stored(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(FIXTURES / "coinspot" / "empty.json"))

    outcome = run_coinspot(collector_runtime)

    assert (outcome.status, outcome.fetched, outcome.stored) == ("ok", 0, 0)


def test_malformed_json_fails_the_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply(body=b'{"status": "ok", "prices": {"btc": '))

    outcome = run_coinspot(collector_runtime)

    assert outcome.status == "failed"
    assert "invalid JSON" in (outcome.error or "")


def test_an_answer_without_prices_fails_the_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.json({"status": "ok", "prices": []}))

    outcome = run_coinspot(collector_runtime)

    assert outcome.status == "failed"
    assert "no `prices` object" in (outcome.error or "")


def test_429_is_retried_after_its_retry_after_then_succeeds(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(
        LATEST_PATH,
        Reply.json({"status": "error"}, status=429, headers={"Retry-After": "3"}),
        Reply.file(LATEST),
    )
    sleeps = Sleeps()

    outcome = run_coinspot(collector_runtime, sleep=sleeps)

    assert (outcome.status, outcome.stored) == ("ok", 8)
    assert sleeps.delays == [3.0]
    assert len(replay_server.requests_to(LATEST_PATH)) == 2


def test_a_server_error_is_retried_then_succeeds(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply(status=500), Reply.file(LATEST))

    outcome = run_coinspot(collector_runtime)

    assert (outcome.status, outcome.stored) == ("ok", 8)


def test_a_provider_that_keeps_timing_out_fails_the_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    collector_runtime.settings = collector_runtime.settings.model_copy(
        update={"collector_timeout_s": 0.2, "collector_max_retries": 1}
    )
    replay_server.add(LATEST_PATH, Reply.file(LATEST, delay_s=0.6))

    outcome = run_coinspot(collector_runtime)

    assert outcome.status == "failed"
    assert "timed out after 0.2 s" in (outcome.error or "")
    assert len(replay_server.requests_to(LATEST_PATH)) == 2


def test_requests_carry_the_collector_user_agent(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    run_coinspot(collector_runtime)

    [request] = replay_server.requests_to(LATEST_PATH)
    assert request.method == "GET"
    assert request.headers["user-agent"].startswith("omc-collector/")
