import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, insert, make_url, select
from sqlalchemy.orm import Session

from omc.collectors.base import Collector, CollectResult
from omc.collectors.coinspot import LATEST_PATH, CoinSpotCollector
from omc.collectors.http import HttpClient
from omc.collectors.runner import LOCK_MARGIN_S
from omc.collectors.runs import STALE_RUN_ERROR
from omc.collectors.service import run_collectors
from omc.db import migrate
from omc.db.models import CollectorLock, PriceSnapshot
from omc.runtime import Runtime
from omc.settings import Settings
from tests.collectors.conftest import FIXTURES, fast_settings, runner_for, runs_of
from tests.collectors.tcpproxy import TcpProxy
from tests.conftest import PG_URL
from tests.replay import ReplayServer, Reply

NOW = datetime(2026, 12, 3, 13, 2, 7, tzinfo=UTC)
LATEST = FIXTURES / "coinspot" / "latest.json"


def snapshot_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.scalars(select(PriceSnapshot.coin)).all())


def locks(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.execute(select(CollectorLock.collector, CollectorLock.holder))
        return [(collector, holder) for collector, holder in rows]


def hold_lock(engine: Engine, *, expires_at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(CollectorLock).values(
                collector="coinspot",
                holder="other-host:4242:abc",
                acquired_at=expires_at - timedelta(minutes=11),
                expires_at=expires_at,
            )
        )


class CrashingCollector(CoinSpotCollector):
    """A collector with a bug."""

    name = "crashing"

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        raise RuntimeError("bug in the parser")


class DisabledCollector(CoinSpotCollector):
    """A collector missing its token."""

    name = "needs-token"

    def disabled_reason(self) -> str | None:
        return "OMC_EXAMPLE_TOKEN is not set"


def test_a_lock_held_by_another_holder_keeps_the_run_from_starting(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    hold_lock(collector_runtime.engine, expires_at=NOW + timedelta(minutes=5))

    outcome = runner_for(collector_runtime, clock=lambda: NOW).run(
        CoinSpotCollector(collector_runtime.settings)
    )

    assert outcome.status == "failed"
    assert "another run holds the lock" in (outcome.error or "")
    assert replay_server.requests == []
    assert runs_of(collector_runtime.engine, "coinspot") == []
    assert locks(collector_runtime.engine) == [("coinspot", "other-host:4242:abc")]


def test_an_expired_lock_is_taken_over_and_released_after_the_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    hold_lock(collector_runtime.engine, expires_at=NOW - timedelta(seconds=1))

    outcome = runner_for(collector_runtime, clock=lambda: NOW).run(
        CoinSpotCollector(collector_runtime.settings)
    )

    assert (outcome.status, outcome.stored) == ("ok", 8)
    assert locks(collector_runtime.engine) == []


def test_the_lock_is_released_after_a_failed_run(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply(status=503))

    outcome = runner_for(collector_runtime).run(
        CoinSpotCollector(collector_runtime.settings)
    )

    assert outcome.status == "failed"
    assert locks(collector_runtime.engine) == []


def test_a_disabled_collector_records_a_disabled_run_and_fetches_nothing(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    outcome = runner_for(collector_runtime).run(
        DisabledCollector(collector_runtime.settings)
    )

    assert (outcome.status, outcome.error) == (
        "disabled",
        "OMC_EXAMPLE_TOKEN is not set",
    )
    [run] = runs_of(collector_runtime.engine, "needs-token")
    assert (run.status, run.error) == ("disabled", "OMC_EXAMPLE_TOKEN is not set")
    assert replay_server.requests == []


def test_a_crashing_collector_is_recorded_failed_and_the_next_still_runs(
    collector_runtime: Runtime,
    replay_server: ReplayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    runner = runner_for(collector_runtime)

    crashed = runner.run(CrashingCollector(collector_runtime.settings))
    after = runner.run(CoinSpotCollector(collector_runtime.settings))

    assert (crashed.status, crashed.error) == (
        "failed",
        "unexpected RuntimeError: bug in the parser",
    )
    assert after.status == "ok"
    [run] = runs_of(collector_runtime.engine, "crashing")
    assert run.status == "failed"
    assert any(r.getMessage() == "collector run crashed" for r in caplog.records)


def test_run_collectors_goes_on_after_a_failure(
    collector_runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    outcomes = run_collectors(collector_runtime, ["defillama", "coinspot"])

    assert [(o.collector, o.status) for o in outcomes] == [
        ("defillama", "failed"),
        ("coinspot", "ok"),
    ]
    assert "HTTP 404" in (outcomes[0].error or "")


def test_with_redis_down_the_data_is_stored_and_a_warning_logged(
    collector_settings: Settings,
    replay_server: ReplayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = collector_settings.model_copy(
        update={"redis_url": SecretStr("redis://127.0.0.1:1")}
    )
    runtime = Runtime.build(settings)
    replay_server.add(LATEST_PATH, Reply.file(LATEST))

    with caplog.at_level(logging.WARNING, logger="omc.collectors.runner"):
        outcome = runner_for(runtime).run(CoinSpotCollector(settings))
    runtime.close()

    assert (outcome.status, outcome.stored) == ("ok", 8)
    [warning] = [
        r for r in caplog.records if r.getMessage() == "latest values not cached"
    ]
    assert warning.levelno == logging.WARNING
    assert warning.__dict__["collector"] == "coinspot"
    assert "Redis db 0" in warning.__dict__["error"]


@pytest.fixture
def proxied_runtime(collector_settings: Settings) -> Iterator[tuple[Runtime, TcpProxy]]:
    """A runtime whose database connections pass through a proxy a test can cut."""
    url = make_url(PG_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    settings = collector_settings.model_copy(
        update={
            "database_url": SecretStr(proxied.render_as_string(hide_password=False))
        }
    )
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    yield runtime, proxy
    proxy.cut()
    runtime.close()


class DatabaseLosingCollector(CoinSpotCollector):
    """CoinSpot, but the database goes away while it fetches."""

    proxy: TcpProxy

    async def collect(self, http: HttpClient, *, now: datetime) -> CollectResult:
        self.proxy.cut()
        return await super().collect(http, now=now)


def losing_collector(settings: Settings, proxy: TcpProxy) -> Collector:
    collector = DatabaseLosingCollector(settings)
    collector.proxy = proxy
    return collector


def test_database_lost_mid_run_fails_the_run_once_it_answers_again(
    proxied_runtime: tuple[Runtime, TcpProxy],
    replay_server: ReplayServer,
    pg: Engine,
) -> None:
    runtime, proxy = proxied_runtime
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    runner = runner_for(runtime, sleep=lambda _s: proxy.restore())

    outcome = runner.run(losing_collector(runtime.settings, proxy))
    caught_up = runner.run(CoinSpotCollector(runtime.settings))

    assert outcome.status == "failed"
    assert "database" in (outcome.error or "")
    assert caught_up.status == "ok"
    assert caught_up.stored == 8
    runs = runs_of(pg, "coinspot")
    assert [run.status for run in runs] == ["failed", "ok"]
    assert snapshot_count(pg) == 8


def test_database_lost_for_long_leaves_a_run_the_next_run_closes(
    proxied_runtime: tuple[Runtime, TcpProxy],
    replay_server: ReplayServer,
    pg: Engine,
) -> None:
    runtime, proxy = proxied_runtime
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    lock_ttl = timedelta(
        seconds=runtime.settings.collector_run_budget_s + LOCK_MARGIN_S
    )

    lost = runner_for(runtime, clock=lambda: NOW).run(
        losing_collector(runtime.settings, proxy)
    )
    proxy.restore()
    blocked = runner_for(runtime, clock=lambda: NOW + timedelta(seconds=30)).run(
        CoinSpotCollector(runtime.settings)
    )
    caught_up = runner_for(runtime, clock=lambda: NOW + lock_ttl).run(
        CoinSpotCollector(runtime.settings)
    )

    assert lost.status == "failed"
    assert snapshot_count(pg) == 8
    assert blocked.status == "failed"
    assert "another run holds the lock" in (blocked.error or "")
    assert caught_up.status == "ok"
    runs = runs_of(pg, "coinspot")
    assert [(run.status, run.error) for run in runs] == [
        ("failed", STALE_RUN_ERROR),
        ("ok", None),
    ]


def test_runs_work_the_same_on_the_embedded_database(
    embedded_settings: Settings, replay_server: ReplayServer
) -> None:
    settings = fast_settings(embedded_settings, replay_server)
    runtime = Runtime.build(settings)
    migrate.upgrade(runtime.engine)
    replay_server.add(LATEST_PATH, Reply.file(LATEST))
    hold_lock(runtime.engine, expires_at=NOW - timedelta(seconds=1))
    runner = runner_for(runtime, clock=lambda: NOW)

    first = runner.run(CoinSpotCollector(settings))
    second = runner.run(CoinSpotCollector(settings))
    runtime.close()

    assert (first.status, first.stored, first.skipped) == ("ok", 8, 2)
    assert (second.status, second.stored) == ("ok", 0)
