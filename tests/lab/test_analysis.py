import numpy as np
import pandas as pd

from omc.lab.analysis import analyze
from omc.lab.plan import Plan
from omc.lab.training import prepare
from tests.lab.synth import candles


def _analysis(frame):
    frame["has_price"] = True
    data = prepare(frame, Plan(coins=["BTC"], target="return"), 1)
    return analyze(data, frame["close"])


def test_random_walk_prices_have_a_unit_root_and_uncorrelated_returns():
    found = _analysis(candles(800, seed=2))

    assert found.adf_pvalue_log_price > 0.05
    assert found.adf_pvalue_returns < 0.01
    assert any("no autocorrelation" in note for note in found.notes)


def test_autocorrelated_returns_are_reported_with_their_lag():
    rng = np.random.default_rng(4)
    steps = np.zeros(800)
    for t in range(1, 800):
        steps[t] = 0.5 * steps[t - 1] + rng.normal(0, 0.004)
    frame = candles(800, seed=4)
    frame["close"] = 100 * np.exp(np.cumsum(steps))
    frame["open"] = frame["close"].shift(1).fillna(100.0)
    frame["high"] = frame[["open", "close"]].max(axis=1)
    frame["low"] = frame[["open", "close"]].min(axis=1)

    found = _analysis(frame)

    assert found.return_acf[0] > 0.3
    assert found.ljung_box_pvalue < 0.01
    assert any("at lags [1" in note for note in found.notes)


def test_correlations_rank_the_planted_driver_first():
    found = _analysis(candles(800, seed=5, driver_strength=1.0))

    first = next(iter(found.correlations))
    assert first.startswith("driver")
    assert isinstance(pd.Series(found.correlations).abs().max(), float)
