from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from omc.cli import app
from omc.collectors.backfill import BackfillError, backfill_ohlcv, open_exchange
from omc.db.models.collectors import Ohlcv
from omc.errors import ConfigError
from omc.runtime import Runtime
from tests.fixtures import fixture_path
from tests.replay import ReplayServer, Reply

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KLINES = "/api/v3/klines"


def _binance(server: ReplayServer):
    server.add(
        "/api/v3/exchangeInfo",
        Reply.file(fixture_path("binance", "exchange_info.json")),
    )
    server.add(
        KLINES,
        *(
            Reply.file(fixture_path("binance", f"klines_btcusdt_1h_page{n}.json"))
            for n in (1, 2, 3)
        ),
    )
    return open_exchange("binance", api_urls={"public": f"{server.url}/api/v3"})


def _stored(runtime: Runtime) -> list[Ohlcv]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Ohlcv).order_by(Ohlcv.ts)))


def test_backfill_pages_through_klines_and_stores_only_closed_candles(
    runtime: Runtime, replay_server: ReplayServer
) -> None:
    exchange = _binance(replay_server)
    seen: list[tuple[int, int]] = []

    report = backfill_ohlcv(
        runtime.engine,
        exchange,
        symbol="BTC/USDT",
        timeframe="1h",
        since=T0,
        now=datetime(2026, 1, 1, 11, 30, tzinfo=UTC),
        page_limit=5,
        progress=lambda done, total: seen.append((done, total)),
    )

    rows = _stored(runtime)
    assert (report.fetched, report.stored, report.requests) == (11, 11, 3)
    assert len(rows) == 11
    assert rows[0].ts == T0
    assert (rows[0].source, rows[0].coin, rows[0].timeframe) == ("binance", "BTC", "1h")
    assert rows[0].open == 87500.0
    assert rows[-1].ts == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert seen[-1] == (11, 11)
    first = replay_server.requests_to(KLINES)[0].query
    assert first["symbol"] == ["BTCUSDT"]
    assert first["interval"] == ["1h"]
    assert first["startTime"] == [str(int(T0.timestamp() * 1000))]
    assert first["limit"] == ["5"]


def test_backfill_resumes_after_the_newest_stored_candle(
    runtime: Runtime, replay_server: ReplayServer
) -> None:
    exchange = _binance(replay_server)
    backfill_ohlcv(
        runtime.engine,
        exchange,
        symbol="BTC/USDT",
        since=T0,
        now=datetime(2026, 1, 1, 11, 30, tzinfo=UTC),
        page_limit=5,
    )

    report = backfill_ohlcv(
        runtime.engine,
        exchange,
        symbol="BTC/USDT",
        since=T0,
        now=datetime(2026, 1, 1, 12, 30, tzinfo=UTC),
        page_limit=5,
    )

    last_request = replay_server.requests_to(KLINES)[-1].query
    assert last_request["startTime"] == [
        str(int(T0.timestamp() * 1000) + 11 * 3_600_000)
    ]
    assert (report.fetched, report.stored) == (1, 1)
    assert len(_stored(runtime)) == 12


def test_an_unlisted_symbol_or_unknown_exchange_is_refused(
    runtime: Runtime, replay_server: ReplayServer
) -> None:
    exchange = _binance(replay_server)

    with pytest.raises(BackfillError, match="no market 'DOGE/USDT'"):
        backfill_ohlcv(runtime.engine, exchange, symbol="DOGE/USDT", since=T0)
    with pytest.raises(ConfigError, match="unknown exchange"):
        open_exchange("no-such-exchange")


def test_an_exchange_error_becomes_a_backfill_error(
    runtime: Runtime, replay_server: ReplayServer
) -> None:
    replay_server.add("/api/v3/exchangeInfo", Reply(status=418, body=b"{}"))
    exchange = open_exchange(
        "binance", api_urls={"public": f"{replay_server.url}/api/v3"}
    )

    with pytest.raises(BackfillError, match="market list"):
        backfill_ohlcv(runtime.engine, exchange, symbol="BTC/USDT", since=T0)


def test_cli_backfill_reports_what_it_fetched(
    replay_server: ReplayServer, tmp_path: Path
) -> None:
    _binance(replay_server)
    env = {"OMC_DATA_DIR": str(tmp_path / "data"), "OMC_LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0

    result = runner.invoke(
        app,
        [
            "backfill",
            "ohlcv",
            "--exchange",
            "binance",
            "--symbol",
            "BTC/USDT",
            "--since",
            "2026-01-01T00:00:00",
            "--api-url",
            f"{replay_server.url}/api/v3",
        ],
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "12 candles fetched in" in result.output
