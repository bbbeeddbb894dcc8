from datetime import timedelta

from omc.lab.data import InsufficientData, LoadedData, retrieve
from omc.lab.plan import Plan
from tests.lab.synth import (
    NOW,
    candles,
    insert_candles,
    insert_context,
    insert_news_driver,
)


def test_window_is_loaded_on_the_grid_with_joined_sources(runtime):
    frame = candles(400, seed=1)
    insert_candles(runtime, frame.drop(frame.index[100:103]))
    insert_news_driver(runtime, frame)
    insert_context(runtime, frame)
    plan = Plan(coins=["BTC"], target="direction", horizon="1h", window_days=30)

    loaded = retrieve(runtime.engine, plan, NOW)

    assert isinstance(loaded, LoadedData)
    assert loaded.quality.rows == 30 * 24
    assert loaded.quality.price_rows == 397
    assert loaded.quality.gaps == 3
    assert set(loaded.quality.sources_present) == {"prices", "news", "tvl", "filings"}
    assert loaded.frame["filings"].sum() == 1
    last = loaded.frame.index[-1]
    assert loaded.frame.loc[last, "close"] == frame["close"].iloc[-1]
    assert loaded.frame["news_count"].iloc[-1] == 1
    assert loaded.quality.span_days == round(399 / 24, 3)


def test_hourly_candles_are_resampled_to_a_four_hour_grid(runtime):
    frame = candles(24 * 60, seed=2)
    insert_candles(runtime, frame)
    plan = Plan(
        coins=["BTC"], target="return", horizon="4h", window_days=60, sources=["prices"]
    )

    loaded = retrieve(runtime.engine, plan, NOW)

    assert isinstance(loaded, LoadedData)
    assert loaded.ref.bar_minutes == 60
    assert loaded.ref.horizon_bars == 4
    assert loaded.quality.price_rows == 24 * 60


def test_candles_coarser_than_the_grid_are_not_used(runtime):
    insert_candles(runtime, candles(24 * 60, seed=2))
    plan = Plan(coins=["BTC"], target="return", horizon="5m", window_days=60)

    outcome = retrieve(runtime.engine, plan, NOW)

    assert isinstance(outcome, InsufficientData)
    assert outcome.rows == 0


def test_too_little_data_says_how_much_is_needed_and_how_to_backfill(runtime):
    insert_candles(runtime, candles(50, seed=3))
    plan = Plan(coins=["BTC"], target="direction", horizon="1h", window_days=30)

    outcome = retrieve(runtime.engine, plan, NOW)

    assert isinstance(outcome, InsufficientData)
    assert outcome.rows == 50
    assert outcome.rows_needed > 200
    assert "omc backfill ohlcv BTC --timeframe 1h" in outcome.message
    assert any(command.startswith("omc import ohlcv") for command in outcome.commands)


def test_candles_outside_the_window_are_not_read(runtime):
    frame = candles(300, seed=4)
    frame.index = frame.index - timedelta(days=60)
    insert_candles(runtime, frame)
    plan = Plan(coins=["BTC"], target="direction", horizon="1h", window_days=30)

    outcome = retrieve(runtime.engine, plan, NOW)

    assert isinstance(outcome, InsufficientData)
    assert outcome.rows == 0
