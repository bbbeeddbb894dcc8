"""Fixtures for collector tests: a loopback replay server and provider fixtures.

`replay_server` is a real HTTP server on 127.0.0.1 (see `tests/collectors/replay.py`
for how to script it). Point a collector at it through its settings, e.g.
`pg_settings.model_copy(update={"coinspot_base_url": replay_server.url})`, or use
`collector_settings` which also makes retries fast, and `collector_runtime` for a
runtime on PostgreSQL and Redis built from them. `Sleeps` records backoff and
Retry-After waits instead of sleeping (pass `sleep=Sleeps()` to a collector);
`runner_for(runtime)` builds a runner with fast database retries; `runs_of` reads
a collector's run records.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from omc.cache import CacheRole
from omc.collectors.runner import CollectorRunner
from omc.db import migrate
from omc.db.models import CollectorRun
from omc.runtime import Runtime
from omc.settings import Settings
from tests.replay import ReplayServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A scripted HTTP server on an ephemeral loopback port."""
    with ReplayServer() as server:
        yield server


def fast_settings(settings: Settings, server: ReplayServer) -> Settings:
    """Settings whose every collector talks to `server`, with tiny retry delays."""
    return settings.model_copy(
        update={
            "coinspot_base_url": server.url,
            "defillama_base_url": server.url,
            "cryptopanic_base_url": server.url,
            "reddit_auth_url": server.url,
            "reddit_base_url": server.url,
            "sec_base_url": server.url,
            "collector_timeout_s": 2.0,
            "collector_max_retries": 2,
            "collector_backoff_base_s": 0.01,
            "collector_backoff_max_s": 0.05,
            "collector_run_budget_s": 30.0,
        }
    )


@pytest.fixture
def collector_settings(pg_settings: Settings, replay_server: ReplayServer) -> Settings:
    """PostgreSQL and Redis settings with every collector aimed at the replay server."""
    return fast_settings(pg_settings, replay_server)


@pytest.fixture
def collector_runtime(collector_settings: Settings) -> Iterator[Runtime]:
    """A runtime on PostgreSQL and Redis whose collectors use the replay server."""
    runtime = Runtime.build(collector_settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


class Sleeps:
    """An async `sleep` for collectors that records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays.append(delay_s)


def runner_for(runtime: Runtime, **kwargs: Any) -> CollectorRunner:
    """A runner on the runtime's database and collector cache, fast DB retries."""
    kwargs.setdefault("db_retries", 1)
    kwargs.setdefault("db_retry_delay_s", 0.01)
    return CollectorRunner(
        runtime.engine, runtime.store(CacheRole.COLLECTORS), **kwargs
    )


def runs_of(engine: Engine, collector: str) -> list[CollectorRun]:
    """The collector's run records, oldest first."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(CollectorRun)
                .where(CollectorRun.collector == collector)
                .order_by(CollectorRun.id)
            )
        )
