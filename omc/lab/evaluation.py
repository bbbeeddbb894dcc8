"""Model evaluation: out-of-sample metrics, a skill test, a backtest and importances.

The verdict is `skill` only when the best model beats the best naive baseline on the
plan's metric and a one-sided paired moving-block bootstrap on per-sample losses
rejects "the model is no better than the baseline" after a Bonferroni correction for
the number of models compared. Anything less is `no_skill`.
"""

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    roc_auc_score,
)
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from omc.lab.plan import Plan
from omc.lab.training import TrainingResult, predict_values

__all__ = [
    "HIGHER_IS_BETTER",
    "Backtest",
    "Curves",
    "Evaluation",
    "Importance",
    "SkillTest",
    "bootstrap_skill_test",
    "evaluate",
    "sample_losses",
]

ALPHA = 0.05
N_RESAMPLES = 2000
FEE_RATE = 0.001
PROB_CLIP = 1e-6
MAX_CURVE_POINTS = 1500
IMPORTANCE_MAX_ROWS = 5000
HIGHER_IS_BETTER = frozenset({"accuracy", "balanced_accuracy", "roc_auc"})
TEST_NAME = "one-sided paired moving-block bootstrap of per-sample loss differences"


class SkillTest(BaseModel):
    """The test of 'the best model beats the best baseline'."""

    name: str
    loss: str
    model: str
    baseline: str
    mean_loss_diff: float
    ci_low: float
    p_value: float
    p_value_adjusted: float
    comparisons: int
    alpha: float
    block_length: int
    samples: int
    resamples: int


class Backtest(BaseModel):
    """A long-or-flat strategy on the forecasts, net of fees, against buy-and-hold."""

    fee_rate: float
    strategy_return: float
    buy_hold_return: float
    strategy_sharpe: float
    buy_hold_sharpe: float
    strategy_max_drawdown: float
    buy_hold_max_drawdown: float
    trades: int


class Importance(BaseModel):
    """Mean and spread of the loss increase when one feature is shuffled."""

    feature: str
    mean: float
    std: float


class Curves(BaseModel):
    """Thinned series for plots: time, truth, best forecast, equity curves."""

    times: list[str]
    price: list[float]
    truth: list[float]
    forecast: list[float]
    strategy_equity: list[float]
    buy_hold_equity: list[float]


class Evaluation(BaseModel):
    """Everything the evaluation found, and the verdict."""

    metric: str
    metrics: dict[str, dict[str, float]]
    best_model: str
    best_baseline: str
    test: SkillTest
    backtest: Backtest | None
    importance: list[Importance]
    calibration: list[tuple[float, float, int]]
    curves: Curves
    verdict: Literal["skill", "no_skill"]
    reason: str


def metrics_for(plan: Plan, y: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    """Out-of-sample metrics of one forecast for the plan's target kind."""
    if not plan.is_classification:
        error = forecast - y
        return {
            "mae": float(np.mean(np.abs(error))),
            "rmse": float(np.sqrt(np.mean(error**2))),
        }
    labels = forecast > 0.5
    both = len(np.unique(y)) == 2
    return {
        "accuracy": float(accuracy_score(y, labels)),
        "balanced_accuracy": float(balanced_accuracy_score(y, labels)) if both else 0.5,
        "roc_auc": float(roc_auc_score(y, forecast)) if both else 0.5,
        "log_loss": float(np.mean(sample_losses("log_loss", y, forecast))),
        "brier": float(np.mean(sample_losses("brier", y, forecast))),
    }


def sample_losses(loss: str, y: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Per-sample loss: log loss, Brier score, absolute or squared error."""
    if loss == "log_loss":
        p = np.clip(forecast, PROB_CLIP, 1 - PROB_CLIP)
        return np.asarray(-(y * np.log(p) + (1 - y) * np.log(1 - p)), dtype=float)
    if loss == "abs":
        return np.asarray(np.abs(forecast - y), dtype=float)
    return np.asarray((forecast - y) ** 2, dtype=float)


def _loss_for(plan: Plan) -> str:
    # Accuracy-type metrics are not per-sample proper scores; Brier is, and is bounded.
    if plan.is_classification:
        return "log_loss" if plan.main_metric == "log_loss" else "brier"
    return "abs" if plan.main_metric == "mae" else "squared"


def bootstrap_skill_test(
    baseline_losses: np.ndarray,
    model_losses: np.ndarray,
    *,
    block_length: int,
    comparisons: int,
    seed: int,
    resamples: int = N_RESAMPLES,
) -> tuple[float, float, float, float]:
    """Test H0 'mean(baseline loss - model loss) <= 0' by resampling blocks of rows.

    Blocks keep the serial dependence that overlapping horizons put into the losses.

    Returns:
        The mean difference, its one-sided 95% lower bound, the p-value and the
        Bonferroni-adjusted p-value.
    """
    diff = baseline_losses - model_losses
    n = len(diff)
    observed = float(np.mean(diff))
    block = max(1, min(block_length, n))
    blocks = math.ceil(n / block)
    sums = np.concatenate([[0.0], np.cumsum(diff - observed)])
    block_sums = sums[block:] - sums[:-block]
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(block_sums), size=(resamples, blocks))
    means = block_sums[starts].sum(axis=1) / (blocks * block)
    p_value = float((1 + np.sum(means >= observed)) / (resamples + 1))
    ci_low = observed - float(np.quantile(means, 1 - ALPHA))
    return observed, ci_low, p_value, min(1.0, p_value * comparisons)


def _is_better(metric: str, a: float, b: float) -> bool:
    return a > b if metric in HIGHER_IS_BETTER else a < b


def _best(metric: str, metrics: dict[str, dict[str, float]], names: list[str]) -> str:
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0
    return min(names, key=lambda name: sign * metrics[name][metric])


def evaluate(
    result: TrainingResult, plan: Plan, *, bar_minutes: int, horizon_bars: int
) -> Evaluation:
    """Score every candidate out of sample and decide whether the best one has skill."""
    y = result.y_true
    metrics = {
        name: metrics_for(plan, y, p.values) for name, p in result.predictions.items()
    }
    metric = plan.main_metric
    models = [n for n, p in result.predictions.items() if p.role == "model"]
    baselines = [n for n, p in result.predictions.items() if p.role == "baseline"]
    best_model = _best(metric, metrics, models)
    best_baseline = _best(metric, metrics, baselines)

    loss = _loss_for(plan)
    losses = {
        name: sample_losses(loss, y, result.predictions[name].values)
        for name in baselines
    }
    # The test faces the baseline hardest to beat on the test loss, which need not
    # be the one best on the plan's metric; skill must clear both.
    test_baseline = min(baselines, key=lambda name: float(np.mean(losses[name])))
    block = max(horizon_bars, math.ceil(len(y) ** (1 / 3)))
    diff, ci_low, p_value, p_adjusted = bootstrap_skill_test(
        losses[test_baseline],
        sample_losses(loss, y, result.predictions[best_model].values),
        block_length=block,
        comparisons=len(models),
        seed=plan.seed,
    )
    test = SkillTest(
        name=TEST_NAME, loss=loss, model=best_model, baseline=test_baseline,
        mean_loss_diff=diff, ci_low=ci_low, p_value=p_value,
        p_value_adjusted=p_adjusted, comparisons=len(models), alpha=ALPHA,
        block_length=block, samples=len(y), resamples=N_RESAMPLES,
    )  # fmt: skip
    beats = _is_better(
        metric, metrics[best_model][metric], metrics[best_baseline][metric]
    )
    verdict: Literal["skill", "no_skill"] = (
        "skill" if beats and diff > 0 and p_adjusted < ALPHA else "no_skill"
    )
    forecast = result.predictions[best_model].values
    backtest, strategy, hold = _backtest(
        plan, forecast, result.step_return, bar_minutes
    )
    return Evaluation(
        metric=metric,
        metrics=metrics,
        best_model=best_model,
        best_baseline=best_baseline,
        test=test,
        backtest=backtest,
        importance=_importance(result, plan, best_model, loss),
        calibration=_calibration(y, forecast) if plan.is_classification else [],
        curves=_curves(result, forecast, strategy, hold),
        verdict=verdict,
        reason=_reason(verdict, test, metric, best_baseline, beats),
    )


def _reason(
    verdict: str, test: SkillTest, metric: str, best_baseline: str, beats: bool
) -> str:
    if not beats:
        return (
            f"The best model, {test.model}, does not beat {best_baseline} on {metric}."
        )
    if verdict == "skill":
        return (
            f"{test.model} beats {best_baseline} on {metric}, and its {test.loss} loss "
            f"is below {test.baseline}'s by {test.mean_loss_diff:.3g} (one-sided 95% "
            f"lower bound {test.ci_low:.3g}; adjusted p = {test.p_value_adjusted:.3g} "
            f"< {test.alpha})."
        )
    return (
        f"{test.model} beats {best_baseline} on {metric}, but its {test.loss} loss is "
        f"not below {test.baseline}'s by more than chance: adjusted p = "
        f"{test.p_value_adjusted:.3g} >= {test.alpha} in the {test.name}."
    )


def _backtest(
    plan: Plan, forecast: np.ndarray, step_return: np.ndarray, bar_minutes: int
) -> tuple[Backtest | None, np.ndarray, np.ndarray]:
    simple = np.expm1(step_return)
    hold = np.cumprod(1 + simple)
    if plan.target == "volatility":
        return None, np.ones_like(hold), hold
    position = (forecast > (0.5 if plan.is_classification else 0.0)).astype(float)
    changes = np.abs(np.diff(np.concatenate([[0.0], position])))
    net = position * simple - FEE_RATE * changes
    equity = np.cumprod(1 + net)
    bars_per_year = 525_600 / bar_minutes
    report = Backtest(
        fee_rate=FEE_RATE,
        strategy_return=float(equity[-1] - 1),
        buy_hold_return=float(hold[-1] - 1),
        strategy_sharpe=_sharpe(net, bars_per_year),
        buy_hold_sharpe=_sharpe(simple, bars_per_year),
        strategy_max_drawdown=_max_drawdown(equity),
        buy_hold_max_drawdown=_max_drawdown(hold),
        trades=int(changes.sum()),
    )
    return report, equity, hold


def _sharpe(returns: np.ndarray, periods_per_year: float) -> float:
    spread = float(np.std(returns))
    if spread == 0:
        return 0.0
    return float(np.mean(returns) / spread * math.sqrt(periods_per_year))


def _max_drawdown(equity: np.ndarray) -> float:
    return float(np.min(equity / np.maximum.accumulate(equity) - 1))


def _importance(
    result: TrainingResult, plan: Plan, best: str, loss: str
) -> list[Importance]:
    model = result.last_fold_models[best]
    x, y = result.last_fold_test
    # The most recent rows are enough to rank features and keep this step short.
    x, y = x[-IMPORTANCE_MAX_ROWS:], y[-IMPORTANCE_MAX_ROWS:]

    def score(estimator: Any, features: np.ndarray, target: np.ndarray) -> float:
        forecast = predict_values(estimator, features, plan.is_classification)
        return -float(np.mean(sample_losses(loss, target, forecast)))

    with threadpool_limits(limits=1):
        found = permutation_importance(
            model, x, y, scoring=score, n_repeats=5, random_state=plan.seed
        )
    ranked = sorted(
        zip(
            result.feature_names,
            found.importances_mean,
            found.importances_std,
            strict=True,
        ),
        key=lambda item: -item[1],
    )
    return [Importance(feature=f, mean=float(m), std=float(s)) for f, m, s in ranked]


def _calibration(y: np.ndarray, forecast: np.ndarray) -> list[tuple[float, float, int]]:
    edges = np.linspace(0, 1, 11)
    bins = np.clip(np.digitize(forecast, edges[1:-1]), 0, 9)
    table = []
    for b in range(10):
        inside = bins == b
        if inside.any():
            table.append(
                (
                    float(forecast[inside].mean()),
                    float(y[inside].mean()),
                    int(inside.sum()),
                )
            )
    return table


def _curves(
    result: TrainingResult, forecast: np.ndarray, strategy: np.ndarray, hold: np.ndarray
) -> Curves:
    step = max(1, math.ceil(len(forecast) / MAX_CURVE_POINTS))
    pick = slice(None, None, step)
    return Curves(
        times=[stamp.isoformat() for stamp in result.index[pick]],
        price=[float(v) for v in result.close[pick]],
        truth=[float(v) for v in result.y_true[pick]],
        forecast=[float(v) for v in forecast[pick]],
        strategy_equity=[float(v) for v in strategy[pick]],
        buy_hold_equity=[float(v) for v in hold[pick]],
    )
