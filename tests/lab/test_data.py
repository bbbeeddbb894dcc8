from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import insert

from omc.db.engine import session_scope
from omc.db.models.collectors import PriceSnapshot, SocialPost
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
    assert "--symbol BTC/USDT --timeframe 1h --since" in outcome.message
    assert any(command.startswith("omc import ohlcv") for command in outcome.commands)


def test_candles_outside_the_window_are_not_read(runtime):
    frame = candles(300, seed=4)
    frame.index = frame.index - timedelta(days=60)
    insert_candles(runtime, frame)
    plan = Plan(coins=["BTC"], target="direction", horizon="1h", window_days=30)

    outcome = retrieve(runtime.engine, plan, NOW)

    assert isinstance(outcome, InsufficientData)
    assert outcome.rows == 0


def test_price_snapshots_stand_in_when_there_are_no_candles(runtime):
    frame = candles(300, seed=6)
    with session_scope(runtime.sessions) as session:
        session.execute(
            insert(PriceSnapshot),
            [
                {
                    "exchange": "coinspot", "coin": "btc", "quote": "AUD",
                    "bucket_at": ts.to_pydatetime() + timedelta(minutes=minute),
                    "bid": price * 0.999, "ask": price * 1.001, "last": price,
                    "collected_at": NOW,
                }
                for ts, price in zip(pd.DatetimeIndex(frame.index), frame["close"], strict=True)
                for minute in (0, 30)
            ],
        )  # fmt: skip
    plan = Plan(coins=["BTC"], target="return", window_days=20, sources=["prices"])

    loaded = retrieve(runtime.engine, plan, NOW)

    assert isinstance(loaded, LoadedData)
    assert loaded.quality.price_rows == 300
    assert loaded.frame["close"].iloc[-1] == pytest.approx(frame["close"].iloc[-1])


def test_social_posts_count_when_they_name_the_coin(runtime):
    frame = candles(300, seed=7)
    insert_candles(runtime, frame)
    stamp = pd.DatetimeIndex(frame.index)[-2].to_pydatetime() + timedelta(minutes=5)
    with session_scope(runtime.sessions) as session:
        for post_id, community, title, sentiment in (
            ("t3_a", "CryptoCurrency", "Bitcoin breaks out", 0.8),
            ("t3_b", "CryptoCurrency", "Dogecoin memes", -0.5),
            ("t3_c", "Bitcoin", "Daily discussion", 0.2),
        ):
            session.add(
                SocialPost(
                    source="reddit", post_id=post_id, community=community, title=title,
                    body="", author=None, flair=None, url="https://reddit.example",
                    score=1, upvote_ratio=1.0, num_comments=0, sentiment=sentiment,
                    published_at=stamp, collected_at=NOW,
                )
            )  # fmt: skip
    plan = Plan(
        coins=["BTC"], target="direction", window_days=20, sources=["prices", "social"]
    )

    loaded = retrieve(runtime.engine, plan, NOW)

    assert isinstance(loaded, LoadedData)
    row = loaded.frame.iloc[-2]
    assert row["social_count"] == 2
    assert row["social_sentiment"] == pytest.approx(0.5)
    assert "social" in loaded.quality.sources_present
