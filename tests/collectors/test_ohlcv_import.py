from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from omc.cli import app
from omc.collectors.ohlcv_import import CandleFileError, import_ohlcv_file
from omc.db.models.collectors import Ohlcv
from omc.runtime import Runtime

HEADER = "timestamp,open,high,low,close,volume\n"


def _write(tmp_path: Path, body: str, name: str = "candles.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _stored(runtime: Runtime) -> list[Ohlcv]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Ohlcv).order_by(Ohlcv.ts)))


def test_csv_with_iso_times_is_stored_in_utc(runtime: Runtime, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "2026-01-01T00:00:00Z,100,110,95,105,12.5\n"
        "2026-01-01T11:00:00+10:00,105,106,101,102,3\n"
        "2026-01-01 02:00:00,102,103,100,101,0\n",
    )

    report = import_ohlcv_file(runtime.engine, path, coin="btc", timeframe="1h")

    rows = _stored(runtime)
    assert (report.rows, report.stored) == (3, 3)
    assert [r.ts.hour for r in rows] == [0, 1, 2]
    assert rows[0].ts == datetime(2026, 1, 1, tzinfo=UTC)
    assert (rows[0].coin, rows[0].source, rows[0].timeframe) == ("BTC", "import", "1h")
    assert rows[1].close == 102.0


def test_epoch_seconds_and_milliseconds_are_both_read(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "1767225600,1,1,1,1,1\n1767229200000,2,2,2,2,2\n",
    )

    import_ohlcv_file(runtime.engine, path, coin="ETH")

    assert [r.ts for r in _stored(runtime)] == [
        datetime(2026, 1, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 1, 1, tzinfo=UTC),
    ]


def test_parquet_with_datetime_or_epoch_columns_is_imported(
    runtime: Runtime, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "Timestamp": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 01:00"]),
            "Open": [1.0, 2.0],
            "High": [1.5, 2.5],
            "Low": [0.5, 1.5],
            "Close": [1.2, 2.2],
            "Volume": [10, 20],
            "trades": [3, 4],
        }
    )
    dated = tmp_path / "dated.parquet"
    frame.to_parquet(dated)
    frame["Timestamp"] = [1767236400000, 1767240000000]
    epoch = tmp_path / "epoch.parquet"
    frame.to_parquet(epoch)

    first = import_ohlcv_file(runtime.engine, dated, coin="SOL", source="kaggle")
    second = import_ohlcv_file(runtime.engine, epoch, coin="SOL", source="kaggle")

    assert (first.stored, second.stored) == (2, 2)
    assert [r.ts.hour for r in _stored(runtime)] == [0, 1, 3, 4]


def test_importing_the_same_file_again_stores_nothing_new(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = _write(tmp_path, "2026-01-01T00:00:00Z,1,2,0.5,1.5,9\n")
    import_ohlcv_file(runtime.engine, path, coin="BTC")

    again = import_ohlcv_file(runtime.engine, path, coin="BTC")
    changed = import_ohlcv_file(
        runtime.engine,
        _write(tmp_path, "2026-01-01T00:00:00Z,1,2,0.5,1.7,9\n", name="fixed.csv"),
        coin="BTC",
    )

    assert (again.rows, again.stored) == (1, 0)
    assert changed.stored == 1
    assert [r.close for r in _stored(runtime)] == [1.7]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x,1,1,1,1,1\n", "row 2 (line 3), column timestamp: 'x' is not an ISO-8601"),
        (",1,1,1,1,1\n", "row 2 (line 3), column timestamp"),
        ("2026-01-01T01:00:00Z,1,1,1,abc,1\n", "row 2 (line 3), column close: 'abc'"),
        ("2026-01-01T01:00:00Z,1,1,1,1,-5\n", "column volume: -5 is negative"),
        ("2026-01-01T01:00:00Z,1,1,1,1,inf\n", "column volume: 'inf' is not a number"),
        ("2026-01-01T01:00:00Z,1,0.5,0.1,1,1\n", "row 2 (line 3), column high"),
        ("2026-01-01T01:00:00Z,1,2,1.5,1,1\n", "row 2 (line 3), column low"),
        (
            "2026-01-01T00:00:00Z,1,1,1,1,1\n",
            "repeats the time 2026-01-01T00:00:00+00:00",
        ),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_stored(
    runtime: Runtime, tmp_path: Path, body: str, message: str
) -> None:
    path = _write(tmp_path, "2026-01-01T00:00:00Z,1,1,1,1,1\n" + body)

    with pytest.raises(CandleFileError, match="nothing was stored") as caught:
        import_ohlcv_file(runtime.engine, path, coin="BTC")

    assert message in str(caught.value)
    assert _stored(runtime) == []


def test_a_missing_column_or_unknown_file_type_is_refused(tmp_path: Path) -> None:
    no_volume = tmp_path / "short.csv"
    no_volume.write_text("timestamp,open,high,low,close\n1,1,1,1,1\n", "utf-8")
    excel = tmp_path / "candles.xlsx"
    excel.write_bytes(b"PK")

    with pytest.raises(CandleFileError, match="lacks the column"):
        import_ohlcv_file(None, no_volume, coin="BTC")  # type: ignore[arg-type]
    with pytest.raises(CandleFileError, match="unsupported file type"):
        import_ohlcv_file(None, excel, coin="BTC")  # type: ignore[arg-type]
    with pytest.raises(CandleFileError, match="does not exist"):
        import_ohlcv_file(None, tmp_path / "gone.csv", coin="BTC")  # type: ignore[arg-type]


def test_cli_imports_a_file_and_a_rerun_adds_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "2026-01-01T00:00:00Z,1,2,0.5,1.5,9\n")
    env = {"OMC_DATA_DIR": str(tmp_path / "data"), "OMC_LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0

    result = runner.invoke(
        app,
        ["import", "ohlcv", str(path), "--coin", "btc", "--timeframe", "1d"],
        env=env,
    )
    again = runner.invoke(
        app,
        ["import", "ohlcv", str(path), "--coin", "BTC", "--timeframe", "1d"],
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert "1 candles read, 1 new or changed" in result.output
    assert "1 candles read, 0 new or changed" in again.output


def test_a_file_larger_than_one_chunk_is_stored_whole(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omc.collectors.candles.CHUNK_ROWS", 2)
    body = "".join(f"2026-01-01T0{h}:00:00Z,1,2,0.5,1.5,{h}\n" for h in range(5))

    report = import_ohlcv_file(runtime.engine, _write(tmp_path, body), coin="BTC")

    assert (report.rows, report.stored) == (5, 5)
    assert [r.volume for r in _stored(runtime)] == [0, 1, 2, 3, 4]
