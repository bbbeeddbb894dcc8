"""Import OHLCV history from a CSV or Parquet file: `omc import ohlcv FILE --coin BTC`.

The file has the columns timestamp, open, high, low, close and volume (any case,
other columns ignored). Timestamps may be ISO-8601 text (no offset means UTC) or
epoch seconds or milliseconds; all are stored as UTC. The whole file is checked
before anything is written: the first problem is reported with its row and
column, and nothing is stored. Importing the same file again stores nothing new.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from omc.collectors.candles import (
    PRICE_COLUMNS,
    check_coin,
    check_source,
    store_candles,
    timeframe_delta,
)
from omc.errors import OmcError

__all__ = ["CandleFileError", "ImportReport", "import_ohlcv_file", "read_candles"]

logger = logging.getLogger(__name__)

TIME_COLUMN = "timestamp"
REQUIRED_COLUMNS = (TIME_COLUMN, *PRICE_COLUMNS)
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
# Epoch values at or above this are milliseconds (1e11 seconds is the year 5138).
_EPOCH_MS_THRESHOLD = 100_000_000_000


class CandleFileError(OmcError):
    """The candle file cannot be imported as it is; nothing was stored.

    Fix the row and column the message names, then import the file again.
    """


@dataclass(frozen=True)
class ImportReport:
    """What one import read and stored."""

    rows: int
    stored: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class _Frame:
    """The checked candles: UTC open times and float columns, in file order."""

    times: pd.Series
    values: pd.DataFrame


def import_ohlcv_file(
    engine: Engine,
    path: Path,
    *,
    coin: str,
    timeframe: str = "1h",
    source: str = "import",
) -> ImportReport:
    """Check every row of the file, then upsert its candles in one transaction.

    Raises:
        CandleFileError: the file is unreadable or a row is invalid.
        ValueError: coin, timeframe or source is malformed.
    """
    coin, source = check_coin(coin), check_source(source)
    timeframe_delta(timeframe)
    frame = read_candles(path)
    collected_at = datetime.now(UTC)
    times = frame.times.dt.to_pydatetime().tolist()
    columns = [frame.values[name].tolist() for name in PRICE_COLUMNS]
    rows = (
        {
            "source": source,
            "coin": coin,
            "timeframe": timeframe,
            "ts": ts,
            **dict(zip(PRICE_COLUMNS, values, strict=True)),
            "collected_at": collected_at,
        }
        for ts, *values in zip(times, *columns, strict=True)
    )
    stored = store_candles(engine, rows)
    report = ImportReport(
        rows=len(times), stored=stored, first_at=min(times), last_at=max(times)
    )
    logger.info(
        "ohlcv file imported",
        extra={
            "file": path.name,
            "coin": coin,
            "timeframe": timeframe,
            "source": source,
            "rows": report.rows,
            "stored": report.stored,
        },
    )
    return report


def read_candles(path: Path) -> _Frame:
    """Read and check a candle file.

    Raises:
        CandleFileError: the file is missing, unreadable, or a row is invalid.
    """
    raw, header_lines = _read_table(path)
    raw = raw.rename(columns=lambda name: str(name).strip().lower())
    missing = [name for name in REQUIRED_COLUMNS if name not in raw.columns]
    if missing:
        raise CandleFileError(
            f"{path.name} lacks the column(s) {', '.join(missing)}; "
            f"expected {', '.join(REQUIRED_COLUMNS)}"
        )
    if raw.empty:
        raise CandleFileError(f"{path.name} has no rows")
    raw = raw.reset_index(drop=True)
    where = _Locator(path.name, header_lines)
    times = _parse_times(raw[TIME_COLUMN], where)
    values = pd.DataFrame(
        {name: _parse_numbers(raw[name], name, where) for name in PRICE_COLUMNS}
    )
    _check_candles(times, values, where)
    return _Frame(times=times, values=values)


def _read_table(path: Path) -> tuple[pd.DataFrame, int]:
    name = path.name.lower()
    try:
        if name.endswith(_CSV_SUFFIXES):
            # Read as text so that the checks below see what the file says.
            return pd.read_csv(path, dtype=str, keep_default_na=False), 1
        if name.endswith(_PARQUET_SUFFIXES):
            return pd.read_parquet(path), 0
    except FileNotFoundError:
        raise CandleFileError(f"{path} does not exist") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CandleFileError(f"{path.name} cannot be read: {exc}") from exc
    raise CandleFileError(
        f"{path.name}: unsupported file type; use .csv, .csv.gz or .parquet"
    )


@dataclass(frozen=True)
class _Locator:
    file: str
    header_lines: int

    def error(self, index: int, column: str, message: str) -> CandleFileError:
        row = index + 1
        line = f" (line {row + self.header_lines})" if self.header_lines else ""
        return CandleFileError(
            f"{self.file} row {row}{line}, column {column}: {message}; "
            "nothing was stored"
        )


def _first(mask: pd.Series) -> int | None:
    hits = mask[mask].index
    return int(hits[0]) if len(hits) else None


def _parse_times(raw: pd.Series, where: _Locator) -> pd.Series:
    times: pd.Series
    if pd.api.types.is_datetime64_any_dtype(raw):
        times = raw.dt.tz_localize(UTC) if raw.dt.tz is None else raw.dt.tz_convert(UTC)
    else:
        times = _parse_time_values(raw)
    bad = _first(times.isna())
    if bad is not None:
        raise where.error(
            bad,
            TIME_COLUMN,
            f"{_show(raw.iloc[bad])} is not an ISO-8601 time or epoch "
            "seconds/milliseconds",
        )
    return times


def _parse_time_values(raw: pd.Series) -> pd.Series:
    """ISO-8601 text and epoch numbers, possibly mixed, to UTC; NaT where neither."""
    numbers = pd.to_numeric(raw, errors="coerce")
    is_number = numbers.notna()
    times = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if is_number.any():
        epoch = numbers[is_number].astype("float64")
        valid = epoch.between(0, _EPOCH_MS_THRESHOLD * 1000, inclusive="left")
        seconds = epoch.where(epoch < _EPOCH_MS_THRESHOLD, epoch / 1000)[valid]
        times.loc[seconds.index] = pd.to_datetime(
            (seconds * 1000).round().astype("int64"), unit="ms", utc=True
        )
    text = raw[~is_number].astype(str).str.strip()
    text = text[text != ""]
    if not text.empty:
        times.loc[text.index] = pd.to_datetime(
            text, utc=True, format="ISO8601", errors="coerce"
        )
    return times


def _parse_numbers(raw: pd.Series, column: str, where: _Locator) -> pd.Series:
    numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = _first(numbers.isna() | ~numbers.abs().lt(float("inf")))
    if bad is not None:
        raise where.error(bad, column, f"{_show(raw.iloc[bad])} is not a number")
    negative = _first(numbers < 0)
    if negative is not None:
        raise where.error(negative, column, f"{raw.iloc[negative]} is negative")
    return numbers


def _check_candles(times: pd.Series, values: pd.DataFrame, where: _Locator) -> None:
    body_high = values[["open", "close"]].max(axis=1)
    body_low = values[["open", "close"]].min(axis=1)
    bad = _first(values["high"] < body_high)
    if bad is not None:
        raise where.error(bad, "high", "is below open or close")
    bad = _first(values["low"] > body_low)
    if bad is not None:
        raise where.error(bad, "low", "is above open or close")
    repeated = times.duplicated(keep="first")
    bad = _first(repeated)
    if bad is not None:
        earlier = _first((times == times.iloc[bad]) & ~repeated)
        raise where.error(
            bad,
            TIME_COLUMN,
            f"repeats the time {times.iloc[bad].isoformat()} of row "
            f"{(earlier or 0) + 1}",
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
