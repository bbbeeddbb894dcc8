"""Fixtures for collector tests: a loopback replay server and provider fixtures.

`replay_server` is a real HTTP server on 127.0.0.1 (see `tests/collectors/replay.py`
for how to script it). Point a collector at it through its settings, e.g.
`pg_settings.model_copy(update={"coinspot_base_url": replay_server.url})`, or use
`collector_settings` which also makes retries fast.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from omc.settings import Settings
from tests.collectors.replay import ReplayServer

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
