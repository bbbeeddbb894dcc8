import numpy as np
import pandas as pd
import pytest

from omc.lab.features import build_features, make_target, persistence_signal
from tests.lab.synth import candles


def _frame(n=120, seed=5):
    frame = candles(n, seed=seed)
    rng = np.random.default_rng(seed)
    frame["has_price"] = True
    frame["news_sentiment"] = rng.normal(0, 0.5, n)
    frame["news_count"] = rng.integers(0, 3, n).astype(float)
    frame["social_sentiment"] = rng.normal(0, 0.5, n)
    frame["social_count"] = rng.integers(0, 3, n).astype(float)
    frame["tvl_usd"] = 1e9 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame["filings"] = (rng.random(n) < 0.05).astype(float)
    frame["close_ETH"] = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return frame


INPUT_COLUMNS = [
    "open", "high", "low", "close", "volume", "driver", "news_sentiment",
    "news_count", "social_sentiment", "social_count", "tvl_usd", "filings", "close_ETH",
]  # fmt: skip


@pytest.mark.parametrize("cut", [30, 55, 80, 118])
@pytest.mark.parametrize("column", INPUT_COLUMNS)
def test_changing_inputs_after_t_leaves_features_at_t_unchanged(cut, column):
    frame = _frame()
    before = build_features(frame)
    changed = frame.copy()
    rng = np.random.default_rng(cut)
    later = changed.index[cut + 1 :]
    changed.loc[later, column] = (
        changed.loc[later, column] * rng.uniform(1.5, 3.0, len(later)) + 1.0
    )

    after = build_features(changed)

    pd.testing.assert_frame_equal(before.iloc[: cut + 1], after.iloc[: cut + 1])


def test_features_cover_every_family_of_inputs():
    columns = set(build_features(_frame()).columns)

    assert {"ret_1", "ret_24", "vol_24", "mom_24", "range_1", "volume_chg"} <= columns
    assert {"news_sent_6", "social_sent_6", "tvl_chg_24", "filing_24"} <= columns
    assert {"ret_1_ETH", "driver", "driver_mean_6"} <= columns


@pytest.mark.parametrize("kind", ["direction", "return", "volatility"])
def test_target_looks_exactly_horizon_bars_ahead(kind):
    frame = _frame()
    target = make_target(frame, kind, 3)
    changed = frame.copy()
    changed.iloc[60, changed.columns.get_loc("close")] *= 1.5

    moved = make_target(changed, kind, 3)

    differs = ~np.isclose(target.fillna(-9), moved.fillna(-9))
    assert set(np.flatnonzero(differs)) <= set(range(57, 61))
    assert differs[57]
    assert target.iloc[-3:].isna().all()


def test_targets_and_persistence_have_the_meaning_of_their_kind():
    frame = _frame()
    log_close = np.log(frame["close"])

    ret = make_target(frame, "return", 2)
    assert ret.iloc[10] == pytest.approx(log_close.iloc[12] - log_close.iloc[10])
    assert make_target(frame, "direction", 2).iloc[10] == float(ret.iloc[10] > 0)
    vol = make_target(frame, "volatility", 2)
    steps = log_close.diff()
    assert vol.iloc[10] == pytest.approx(
        np.sqrt(steps.iloc[11] ** 2 + steps.iloc[12] ** 2)
    )
    past = persistence_signal(frame, "return", 2)
    assert past.iloc[10] == pytest.approx(log_close.iloc[10] - log_close.iloc[8])
