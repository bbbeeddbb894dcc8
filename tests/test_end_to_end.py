"""From collection to a verdict: collectors and a history import feed a Lab session.

The collectors read their fixtures from a loopback server (news dated into the
Lab's window), a CSV import adds forty days of candles, and a session then plans,
trains and reports on that data with at least one non-price source among its
features.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import pandas as pd
from pydantic import SecretStr

from omc.collectors.cryptopanic import POSTS_PATH
from omc.collectors.ohlcv_import import import_ohlcv_file
from omc.collectors.service import run_collectors
from omc.db import migrate
from omc.db.engine import session_scope
from omc.db.models import LabSession
from omc.lab import service
from omc.lab.sessions import create_session_row
from omc.runtime import Runtime
from omc.settings import Settings
from tests.collectors.conftest import FIXTURES, fast_settings
from tests.lab.synth import candles, ending_now
from tests.replay import ReplayServer, Reply

NON_PRICE_PREFIXES = ("news_", "social_", "tvl_", "filing_")


def recent_news() -> Reply:
    """The CryptoPanic fixture with its posts published over the last day."""
    page = json.loads((FIXTURES / "cryptopanic" / "posts_page1.json").read_text())
    now = datetime.now(UTC)
    for n, post in enumerate(page["results"]):
        stamp = (now - timedelta(hours=2 + 3 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        post["published_at"] = post["created_at"] = stamp
    page["next"] = None
    return Reply.json(page)


def history_csv(path: Path) -> Path:
    frame = ending_now(candles(40 * 24, seed=5))
    out = frame[["open", "high", "low", "close", "volume"]].copy()
    out.insert(
        0, "timestamp", pd.DatetimeIndex(out.index).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    out.to_csv(path, index=False)
    return path


def test_collectors_and_an_import_feed_a_lab_session(
    pg_settings: Settings, tmp_path: Path
) -> None:
    with ReplayServer() as server:
        server.add(
            "/pubapi/v2/latest", Reply.file(FIXTURES / "coinspot" / "latest.json")
        )
        server.add("/v2/chains", Reply.file(FIXTURES / "defillama" / "chains.json"))
        server.add("/protocols", Reply.file(FIXTURES / "defillama" / "protocols.json"))
        server.add(POSTS_PATH, recent_news())
        for cik in ("0001679788", "0001050446"):
            server.add(
                f"/submissions/CIK{cik}.json",
                Reply.file(FIXTURES / "sec" / f"CIK{cik}.json"),
            )
        settings = fast_settings(pg_settings, server).model_copy(
            update={
                "cryptopanic_token": SecretStr("e2e-token-123456"),
                "sec_user_agent": "OMC tests ops@example.com",
            }
        )
        runtime = Runtime.build(settings)
        try:
            migrate.upgrade(runtime.engine)
            imported = import_ohlcv_file(
                runtime.engine,
                history_csv(tmp_path / "btc.csv"),
                coin="BTC",
                timeframe="1h",
                source="import",
            )
            outcomes = run_collectors(
                runtime, ["coinspot", "defillama", "cryptopanic", "sec"]
            )

            with session_scope(runtime.sessions) as session:
                session_id = create_session_row(
                    session, 0, "Will BTC go up over the next hour? Last 40 days."
                ).id
            status = service.runner_for(runtime).run(session_id)
            with session_scope(runtime.sessions) as session:
                row = session.get(LabSession, session_id)
                assert row is not None
                result, error = row.result or {}, row.error
        finally:
            runtime.close()

    assert imported.stored == 40 * 24
    assert {o.collector: o.status for o in outcomes} == dict.fromkeys(
        ["coinspot", "defillama", "cryptopanic", "sec"], "ok"
    )
    assert status == "done", error
    fs, root = fsspec.core.url_to_fs(result["artifacts"]["location"])
    with fs.open(f"{root}/metadata.json") as handle:
        metadata = json.load(handle)
    assert "news" in metadata["quality"]["sources_present"]
    assert any(name.startswith(NON_PRICE_PREFIXES) for name in metadata["features"])
