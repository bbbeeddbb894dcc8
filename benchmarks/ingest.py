"""Measure bulk-upsert speed against plain COPY on PostgreSQL.

Upserts N synthetic OHLCV rows into `collectors.ohlcv` through `upsert_rows`, then
COPYs the same rows (binary COPY, as `upsert_rows` uses) into a scratch table
shaped like it (same columns, same primary key), and prints both rates (best of a
few rounds) and their ratio; a text-format COPY is timed too, for scale. Then
upserts the same rows again, which must store nothing.

    python -m benchmarks.ingest --database-url postgresql+psycopg://.../db [--rows N]

The database URL defaults to OMC_BENCH_DATABASE_URL. The script migrates that
database and empties `collectors.ohlcv` there: never point it at production.
"""

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, create_engine, text

from omc.db import migrate
from omc.db.bulk import upsert_rows
from omc.db.models import Ohlcv

SCRATCH = "omc_bench_copy_scratch"
COLUMNS = (
    "source",
    "coin",
    "timeframe",
    "ts",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "collected_at",
)

COPY_TYPES = ["text", "text", "text", "timestamptz"] + ["float8"] * 5 + ["timestamptz"]


def make_rows(count: int) -> list[dict[str, Any]]:
    """Synthetic one-minute candles for 100 coins, deterministic."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    collected = datetime(2026, 12, 3, tzinfo=UTC)
    rows = []
    for index in range(count):
        price = 100.0 + (index % 997) * 0.01
        rows.append(
            {
                "source": "bench",
                "coin": f"C{index % 100:03d}",
                "timeframe": "1m",
                "ts": start + timedelta(minutes=index // 100),
                "open": price,
                "high": price * 1.01,
                "low": price * 0.99,
                "close": price * 1.001,
                "volume": float(index % 5000),
                "collected_at": collected,
            }
        )
    return rows


def time_upsert(engine: Engine, rows: list[dict[str, Any]]) -> tuple[float, int]:
    """Upsert the rows in one transaction; return seconds taken and rows stored."""
    started = time.perf_counter()
    stored = upsert_rows(engine, Ohlcv, rows)
    return time.perf_counter() - started, stored


def time_copy(engine: Engine, rows: list[dict[str, Any]], *, binary: bool) -> float:
    """COPY the rows into the empty scratch table in one transaction."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {SCRATCH}"))
    started = time.perf_counter()
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        if driver is None:
            raise RuntimeError("the database connection is closed")
        column_list = ", ".join(f'"{name}"' for name in COLUMNS)
        options = " (FORMAT BINARY)" if binary else ""
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {SCRATCH} ({column_list}) FROM STDIN{options}") as copy,
        ):
            if binary:
                copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row([row[name] for name in COLUMNS])
    return time.perf_counter() - started


def prepare(engine: Engine) -> None:
    """Migrate, empty the OHLCV table and (re)create the scratch table."""
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE collectors.ohlcv"))
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        conn.execute(
            text(f"CREATE TABLE {SCRATCH} (LIKE collectors.ohlcv INCLUDING ALL)")
        )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("OMC_BENCH_DATABASE_URL")
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; best is kept")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("pass --database-url or set OMC_BENCH_DATABASE_URL")

    engine = create_engine(args.database_url)
    prepare(engine)
    rows = make_rows(args.rows)

    # Best of several rounds: other processes on the machine add noise, never speed.
    upsert_s = copy_s = text_copy_s = float("inf")
    for _ in range(args.repeat):
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE collectors.ohlcv"))
        seconds, stored = time_upsert(engine, rows)
        upsert_s = min(upsert_s, seconds)
        copy_s = min(copy_s, time_copy(engine, rows, binary=True))
        text_copy_s = min(text_copy_s, time_copy(engine, rows, binary=False))
    rerun_s, restored = time_upsert(engine, rows)

    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {SCRATCH}"))
        conn.execute(text("DELETE FROM collectors.ohlcv WHERE source = 'bench'"))
    engine.dispose()

    upsert_rate, copy_rate = args.rows / upsert_s, args.rows / copy_s
    text_copy_rate = args.rows / text_copy_s
    print(f"rows:                 {args.rows} (best of {args.repeat} rounds)")
    print(f"upsert_rows (new):    {upsert_rate:>10,.0f} rows/s  stored={stored}")
    print(f"COPY into scratch:    {copy_rate:>10,.0f} rows/s  (binary)")
    print(f"ratio upsert/COPY:    {upsert_rate / copy_rate:.2f}")
    print(f"text COPY, for scale: {text_copy_rate:>10,.0f} rows/s")
    print(
        f"upsert_rows (rerun):  {args.rows / rerun_s:>10,.0f} rows/s  stored={restored}"
    )


if __name__ == "__main__":
    main()
