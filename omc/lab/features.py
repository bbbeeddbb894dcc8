"""Features computed only from each row's past, and the one forward-looking target.

Every feature in row t uses values at or before t (rolling windows that end at t,
shifts into the past). The target is the only column that looks ahead, by exactly
the horizon, and it is never passed to a model as an input.
"""

import numpy as np
import pandas as pd

from omc.lab.plan import TargetKind

__all__ = [
    "KNOWN_COLUMNS",
    "build_features",
    "make_target",
    "next_step_return",
    "persistence_signal",
]

RETURN_LAGS = (1, 3, 6, 12, 24)
VOL_WINDOWS = (6, 24)
SENTIMENT_WINDOW = 6
TVL_LAGS = (6, 24)
KNOWN_COLUMNS = frozenset(
    {
        "open", "high", "low", "close", "volume", "has_price",
        "news_sentiment", "news_count", "social_sentiment", "social_count",
        "tvl_usd", "filings",
    }
)  # fmt: skip


def _log(values: pd.Series) -> pd.Series:
    return pd.Series(np.log(values.to_numpy(dtype=float)), index=values.index)


def build_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Compute the feature table of a bar frame; rows are the frame's rows."""
    close = frame["close"].astype(float)
    log_close = _log(close)
    step = log_close.diff()
    out: dict[str, pd.Series] = {}
    for lag in RETURN_LAGS:
        out[f"ret_{lag}"] = log_close - log_close.shift(lag)
    for window in VOL_WINDOWS:
        out[f"vol_{window}"] = step.rolling(window).std()
    out["mom_24"] = close / close.rolling(24).mean() - 1
    out["range_1"] = (frame["high"] - frame["low"]) / close
    log_volume = _log(frame["volume"].astype(float) + 1.0)
    out["volume_chg"] = log_volume - log_volume.rolling(24).mean()
    for name in ("news", "social"):
        if f"{name}_count" in frame:
            out.update(_sentiment_features(frame, name))
    if "tvl_usd" in frame:
        log_tvl = _log(frame["tvl_usd"].astype(float))
        for lag in TVL_LAGS:
            out[f"tvl_chg_{lag}"] = log_tvl - log_tvl.shift(lag)
    if "filings" in frame:
        out["filing_24"] = (
            frame["filings"].rolling(24, min_periods=1).sum() > 0
        ).astype(float)
    for column in frame.columns:
        if column.startswith("close_"):
            other = _log(frame[column].astype(float))
            out[f"ret_1_{column[6:]}"] = other.diff()
            out[f"ret_6_{column[6:]}"] = other - other.shift(6)
        elif column not in KNOWN_COLUMNS and pd.api.types.is_numeric_dtype(
            frame[column]
        ):
            out[column] = frame[column].astype(float)
            out[f"{column}_mean_6"] = frame[column].astype(float).rolling(6).mean()
    return pd.DataFrame(out, index=frame.index)


def _sentiment_features(frame: pd.DataFrame, name: str) -> dict[str, pd.Series]:
    count = frame[f"{name}_count"].fillna(0.0).astype(float)
    weighted = (frame[f"{name}_sentiment"].fillna(0.0) * count).astype(float)
    window_count = count.rolling(SENTIMENT_WINDOW, min_periods=1).sum()
    window_sum = weighted.rolling(SENTIMENT_WINDOW, min_periods=1).sum()
    mean = (window_sum / window_count.where(window_count > 0)).fillna(0.0)
    return {
        f"{name}_sentiment": frame[f"{name}_sentiment"].fillna(0.0).astype(float),
        f"{name}_sent_{SENTIMENT_WINDOW}": mean,
        f"{name}_count_{SENTIMENT_WINDOW}": window_count,
    }


def make_target(frame: pd.DataFrame, kind: TargetKind, horizon_bars: int) -> pd.Series:
    """The value to predict at each row, from the next `horizon_bars` bars only.

    Rows whose horizon runs past the data hold NaN.
    """
    log_close = _log(frame["close"].astype(float))
    ahead = log_close.shift(-horizon_bars) - log_close
    if kind == "return":
        return ahead.rename("target")
    if kind == "direction":
        return (ahead > 0).astype(float).where(ahead.notna()).rename("target")
    squared = log_close.diff() ** 2
    realized = squared.rolling(horizon_bars).sum().shift(-horizon_bars) ** 0.5
    return realized.rename("target")


def persistence_signal(
    frame: pd.DataFrame, kind: TargetKind, horizon_bars: int
) -> pd.Series:
    """The naive forecast 'the next horizon repeats the last one', from the past only."""
    log_close = _log(frame["close"].astype(float))
    past = log_close - log_close.shift(horizon_bars)
    if kind == "return":
        return past
    if kind == "direction":
        return (past > 0).astype(float).where(past.notna())
    squared = log_close.diff() ** 2
    return squared.rolling(horizon_bars).sum() ** 0.5


def next_step_return(frame: pd.DataFrame) -> pd.Series:
    """The log return of the next bar, which a position taken at t earns.

    Forward-looking like the target: used only to score trades, never as an input.
    """
    return _log(frame["close"].astype(float)).diff().shift(-1)
