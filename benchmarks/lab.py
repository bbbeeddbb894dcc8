"""Time one Lab session on a year of 5-minute candles, against a plain script.

Run: `.venv/bin/python -m benchmarks.lab [--days 365] [--seed 1]`. The data goes into
an embedded database in a temporary folder. The plain script reads the same candles
with pandas, computes the same price features and fits the same best model on the
same walk-forward splits, with nothing else (no baselines, other families, tests,
backtest, importance, report or checkpoints).
"""

import argparse
import resource
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import insert, text
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from omc.db import migrate
from omc.db.engine import session_scope
from omc.db.models.collectors import Ohlcv
from omc.lab.graph import build_lab_graph, read_state, start_session
from omc.lab.state import LabDeps
from omc.lab.training import RF_MAX_SAMPLES, make_estimator, time_splits
from omc.runtime import Runtime
from omc.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BAR_MIN = 5
CHUNK_ROWS = 20_000


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _candles(days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * 24 * 60 // BAR_MIN
    index = pd.date_range(end=NOW - timedelta(minutes=BAR_MIN), periods=n, freq="5min")
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 0.0015, n)))
    open_ = np.concatenate([[close[0]], close[:-1]])
    wiggle = np.abs(rng.normal(0, 0.0008, n))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wiggle),
            "low": np.minimum(open_, close) * (1 - wiggle),
            "close": close,
            "volume": rng.lognormal(2, 0.5, n),
        },
        index=index,
    )


def _store(runtime: Runtime, frame: pd.DataFrame) -> None:
    rows = [
        {"source": "bench", "coin": "BTC", "timeframe": "5m", "ts": ts.to_pydatetime(),
         "collected_at": NOW, "open": o, "high": h, "low": lo, "close": c, "volume": v}
        for ts, o, h, lo, c, v in zip(
            pd.DatetimeIndex(frame.index), frame["open"], frame["high"], frame["low"],
            frame["close"], frame["volume"], strict=True,
        )
    ]  # fmt: skip
    for start in range(0, len(rows), CHUNK_ROWS):
        with session_scope(runtime.sessions) as session:
            session.execute(insert(Ohlcv), rows[start : start + CHUNK_ROWS])


def _plain_script(runtime: Runtime, family: str, seed: int) -> float:
    """Load, build the price features and fit one model walk-forward; return seconds."""
    started = time.perf_counter()
    with runtime.engine.connect() as conn:
        raw = pd.read_sql(
            text("SELECT ts, open, high, low, close, volume FROM ohlcv ORDER BY ts"),
            conn,
        )
    df = raw.set_index(pd.to_datetime(raw["ts"], utc=True)).drop(columns="ts")
    log_close = np.log(df["close"])
    step = log_close.diff()
    feats = pd.DataFrame(index=df.index)
    for lag in (1, 3, 6, 12, 24):
        feats[f"ret_{lag}"] = log_close - log_close.shift(lag)
    for window in (6, 24):
        feats[f"vol_{window}"] = step.rolling(window).std()
    feats["mom_24"] = df["close"] / df["close"].rolling(24).mean() - 1
    feats["range_1"] = (df["high"] - df["low"]) / df["close"]
    log_volume = np.log(df["volume"] + 1)
    feats["volume_chg"] = log_volume - log_volume.rolling(24).mean()
    target = (log_close.shift(-1) - log_close > 0).astype(float)
    keep = feats.notna().all(axis=1) & log_close.shift(-1).notna()
    x, y = feats[keep].to_numpy(), target[keep].to_numpy()
    with threadpool_limits(limits=1):
        for train_rows, test_rows in time_splits(len(y), gap=1):
            model = make_estimator(family, classification=True, seed=seed, params={})  # type: ignore[arg-type]
            if family == "random_forest" and len(train_rows) > RF_MAX_SAMPLES:
                model.set_params(max_samples=RF_MAX_SAMPLES)
            model.fit(x[train_rows], y[train_rows])
            model.predict_proba(x[test_rows])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="omc-bench-"))
    runtime = Runtime.build(Settings(_env_file=None, data_dir=folder))
    migrate.upgrade(runtime.engine)
    frame = _candles(args.days, args.seed)
    _store(runtime, frame)
    print(f"candles stored: {len(frame)} rows of 5m, {args.days} days, in {folder}")

    goal = (
        f"Will BTC go up over the next 5 minutes? Use the last {args.days} days of "
        f"prices only, seed {args.seed}."
    )
    conn = sqlite3.connect(folder / "checkpoints.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    graph = build_lab_graph(
        LabDeps(engine=runtime.engine, settings=runtime.settings), saver
    )
    session_id = str(uuid.uuid4())
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    for event in start_session(graph, session_id, goal, now=NOW):
        node = next(iter(event))
        print(f"  {time.perf_counter() - started:7.1f} s  {node}")
    lab_s = time.perf_counter() - started
    state = read_state(graph, session_id)
    assert state.evaluation is not None  # noqa: S101 - a benchmark of a finished session
    best = state.evaluation.best_model
    print(f"lab session: {lab_s:.1f} s, verdict {state.verdict}, best model {best}")
    print(
        f"peak RSS: {_peak_rss_mb():.0f} MB (before the session: {rss_before:.0f} MB)"
    )

    plain_s = _plain_script(runtime, best, args.seed)
    print(f"plain pandas + scikit-learn script ({best} only): {plain_s:.1f} s")
    print(f"lab / plain: {lab_s / plain_s:.2f}x")
    conn.close()
    runtime.close()


if __name__ == "__main__":
    main()
