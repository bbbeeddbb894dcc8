import numpy as np
import pytest

from omc.lab.evaluation import bootstrap_skill_test, evaluate
from omc.lab.plan import Plan
from omc.lab.training import estimate_search_s, prepare, time_splits, train
from tests.lab.synth import candles


def _run(kind, *, strength, seed=11, n=900, search=False):
    frame = candles(n, seed=seed, driver_strength=strength)
    frame["has_price"] = True
    plan = Plan(coins=["BTC"], target=kind, horizon="1h", seed=seed, search=search)
    data = prepare(frame, plan, 1)
    result = train(data, plan)
    return result, evaluate(result, plan, bar_minutes=60, horizon_bars=1)


def test_splits_keep_a_gap_of_the_horizon_before_each_test_block():
    splits = time_splits(1000, gap=24)

    assert len(splits) == 3
    for train_rows, test_rows in splits:
        assert train_rows.max() + 24 < test_rows.min()
    tests = np.concatenate([test for _, test in splits])
    assert (np.diff(tests) == 1).all()


@pytest.mark.parametrize("kind", ["direction", "return"])
def test_random_walk_ends_without_skill(kind):
    _, evaluation = _run(kind, strength=0.0)

    assert evaluation.verdict == "no_skill"
    assert evaluation.test.p_value_adjusted >= 0.05
    assert "bootstrap" in evaluation.test.name


@pytest.mark.parametrize("kind", ["direction", "return"])
def test_planted_driver_is_found_and_judged_skilful(kind):
    result, evaluation = _run(kind, strength=0.8)

    assert evaluation.verdict == "skill", evaluation.reason
    top = [item.feature for item in evaluation.importance[:2]]
    assert any(name.startswith("driver") for name in top)
    assert evaluation.backtest is not None
    assert evaluation.backtest.trades > 0
    assert len(evaluation.curves.times) == len(result.y_true)
    assert evaluation.test.samples == len(result.y_true)


def test_volatility_target_is_scored_by_error_without_a_backtest():
    _, evaluation = _run("volatility", strength=0.0, n=600)

    assert set(evaluation.metrics["baseline_persistence"]) == {"mae", "rmse"}
    assert evaluation.backtest is None


def test_search_stays_within_its_budget_and_records_what_it_tried():
    result, _ = _run("return", strength=0.8, n=600, search=True)

    assert set(result.searched) == {"linear", "random_forest", "gradient_boosting"}
    assert result.searched["linear"]
    plan = Plan(coins=["BTC"], target="return", search=True)
    assert estimate_search_s(plan, 100_000) > estimate_search_s(plan, 1_000) > 0


def test_bootstrap_rejects_only_a_real_difference():
    rng = np.random.default_rng(0)
    base = rng.normal(1.0, 0.3, 500)

    same = bootstrap_skill_test(
        base, base + rng.normal(0, 0.1, 500), block_length=8, comparisons=1, seed=0
    )
    better = bootstrap_skill_test(
        base, base - 0.1, block_length=8, comparisons=3, seed=0
    )

    assert same[3] > 0.05
    assert better[3] < 0.05
    assert better[1] > 0
