"""Model training: naive baselines and model families, fitted on time-ordered splits.

Each test block follows its training rows after a gap of at least the horizon, so no
training target overlaps a test row. Every model and baseline predicts the same
out-of-sample rows, which the evaluation then compares sample by sample.
"""

import itertools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from omc.lab.features import (
    build_features,
    make_target,
    next_step_return,
    persistence_signal,
)
from omc.lab.plan import ModelFamily, Plan

__all__ = [
    "ModelData",
    "Prediction",
    "TrainingResult",
    "estimate_search_s",
    "make_estimator",
    "predict_values",
    "prepare",
    "time_splits",
    "train",
]

logger = logging.getLogger(__name__)

N_FOLDS = 3
RF_MAX_SAMPLES = 10_000
TEST_FRACTION = 0.4
SEARCH_GRIDS: dict[ModelFamily, dict[str, list[Any]]] = {
    "linear": {"C": [0.01, 0.1, 1.0]},
    "random_forest": {"max_depth": [3, 6, 10], "min_samples_leaf": [10, 40]},
    "gradient_boosting": {"learning_rate": [0.03, 0.1], "max_depth": [2, 4]},
}
# Rough seconds to fit one candidate on 1000 rows, for the search-budget estimate.
FIT_COST_S_PER_1000_ROWS: dict[ModelFamily, float] = {
    "linear": 0.01,
    "random_forest": 0.25,
    "gradient_boosting": 0.3,
}


@dataclass
class ModelData:
    """Features, target and the persistence forecast on the usable rows."""

    features: pd.DataFrame
    target: pd.Series
    persistence: pd.Series
    step_return: pd.Series
    close: pd.Series
    horizon_bars: int

    @property
    def feature_names(self) -> list[str]:
        """Names of the model inputs in column order."""
        return [str(name) for name in self.features.columns]


@dataclass
class Prediction:
    """Out-of-sample forecasts of one candidate on the evaluation rows."""

    name: str
    role: Literal["baseline", "model"]
    family: str
    params: dict[str, Any]
    values: np.ndarray
    fit_s: float


@dataclass
class TrainingResult:
    """Every candidate's forecasts on the same out-of-sample rows."""

    index: pd.DatetimeIndex
    y_true: np.ndarray
    step_return: np.ndarray
    close: np.ndarray
    predictions: dict[str, Prediction]
    last_fold_models: dict[str, Any]
    last_fold_test: tuple[np.ndarray, np.ndarray]
    feature_names: list[str]
    searched: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def prepare(frame: pd.DataFrame, plan: Plan, horizon_bars: int) -> ModelData:
    """Build features and target and keep the rows where both are known."""
    features = build_features(frame)
    features = features.loc[:, features.notna().any()]
    target = make_target(frame, plan.target, horizon_bars)
    persistence = persistence_signal(frame, plan.target, horizon_bars)
    step = next_step_return(frame)
    usable = features.notna().all(axis=1) & target.notna() & persistence.notna()
    usable &= step.notna()
    kept = features[usable]
    # A column that never changes carries no information and breaks correlations.
    kept = kept.loc[:, kept.nunique() > 1]
    return ModelData(
        features=kept,
        target=target[usable],
        persistence=persistence[usable],
        step_return=step[usable],
        close=frame["close"].astype(float)[usable],
        horizon_bars=horizon_bars,
    )


def time_splits(
    n_rows: int,
    *,
    gap: int,
    n_folds: int = N_FOLDS,
    test_fraction: float = TEST_FRACTION,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window splits: contiguous test blocks, each after a gap of `gap` rows."""
    test_start = int(n_rows * (1 - test_fraction))
    bounds = np.linspace(test_start, n_rows, n_folds + 1).astype(int)
    splits = []
    for lo, hi in itertools.pairwise(bounds):
        train_end = lo - gap
        if train_end <= 0 or hi <= lo:
            continue
        splits.append((np.arange(train_end), np.arange(lo, hi)))
    return splits


def make_estimator(
    family: ModelFamily, *, classification: bool, seed: int, params: dict[str, Any]
) -> BaseEstimator:
    """A fresh scikit-learn estimator of one family with the given parameters."""
    estimator: BaseEstimator
    if family == "linear":
        if classification:
            estimator = LogisticRegression(C=params.get("C", 1.0), max_iter=1000)
        else:
            estimator = Ridge(alpha=1.0 / params.get("C", 1.0))
        return make_pipeline(StandardScaler(), estimator)
    if family == "random_forest":
        forest = RandomForestClassifier if classification else RandomForestRegressor
        return forest(
            n_estimators=100,
            max_depth=params.get("max_depth", 6),
            min_samples_leaf=params.get("min_samples_leaf", 20),
            max_features=0.5,
            n_jobs=1,
            random_state=seed,
        )
    boosting = (
        HistGradientBoostingClassifier
        if classification
        else HistGradientBoostingRegressor
    )
    return boosting(
        max_iter=150,
        learning_rate=params.get("learning_rate", 0.05),
        max_depth=params.get("max_depth", 3),
        early_stopping=False,
        random_state=seed,
    )


def estimate_search_s(plan: Plan, n_rows: int) -> float:
    """Seconds a hyperparameter search would take, from rough per-fit costs."""
    if not plan.search:
        return 0.0
    total = 0.0
    for family in plan.families:
        grid = SEARCH_GRIDS[family]
        size = int(np.prod([len(values) for values in grid.values()]))
        total += size * FIT_COST_S_PER_1000_ROWS[family] * max(n_rows, 1) / 1000
    return total


def predict_values(model: Any, x: np.ndarray, classification: bool) -> np.ndarray:
    """Forecasts of a fitted model: P(up) for a direction, else the predicted value."""
    if not classification:
        return np.asarray(model.predict(x), dtype=float)
    proba = np.asarray(model.predict_proba(x), dtype=float)
    classes = list(model.classes_)
    if 1.0 in classes:
        return proba[:, classes.index(1.0)]
    return np.zeros(len(x))


class _Constant:
    """A model for a training block with only one class: predicts that class."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.classes_ = [value]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.value)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.ones((len(x), 1))


def _fit(
    estimator: BaseEstimator, x: np.ndarray, y: np.ndarray, classification: bool
) -> Any:
    if classification and len(np.unique(y)) < 2:
        return _Constant(float(y[0]))
    model = clone(estimator)
    if isinstance(model, RandomForestClassifier | RandomForestRegressor) and len(x) > (
        RF_MAX_SAMPLES
    ):
        # Each tree's bootstrap sample is capped so a year of 5-minute bars fits in
        # seconds; with this many rows the trees still see plenty.
        model.set_params(max_samples=RF_MAX_SAMPLES)
    model.fit(x, y)
    return model


def _search(
    data: ModelData, plan: Plan, family: ModelFamily, deadline: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Pick a family's parameters on an inner split of the first training block."""
    x = data.features.to_numpy(dtype=float)
    y = data.target.to_numpy(dtype=float)
    first_train = time_splits(len(y), gap=data.horizon_bars)[0][0]
    inner = time_splits(
        len(first_train), gap=data.horizon_bars, n_folds=1, test_fraction=0.25
    )
    if not inner:
        return {}, []
    fit_rows, valid_rows = inner[0]
    grid = SEARCH_GRIDS[family]
    tried: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any]] = (np.inf, {})
    for combo in itertools.product(*grid.values()):
        if time.monotonic() > deadline:
            break
        params = dict(zip(grid, combo, strict=True))
        estimator = make_estimator(
            family, classification=plan.is_classification, seed=plan.seed, params=params
        )
        model = _fit(estimator, x[fit_rows], y[fit_rows], plan.is_classification)
        forecast = predict_values(model, x[valid_rows], plan.is_classification)
        loss = float(np.mean((forecast - y[valid_rows]) ** 2))
        tried.append({"params": params, "validation_loss": loss})
        if loss < best[0]:
            best = (loss, params)
    return best[1], tried


def _baselines(
    data: ModelData, plan: Plan
) -> dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """Naive forecasts: from the training target alone, or from the last horizon."""
    persistence = data.persistence.to_numpy(dtype=float)
    target = data.target.to_numpy(dtype=float)

    def climatology(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return np.full(len(test), float(np.mean(target[train])))

    def zero(_train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return np.zeros(len(test))

    def persist(_train: np.ndarray, test: np.ndarray) -> np.ndarray:
        return np.asarray(persistence[test], dtype=float)

    if plan.target == "direction":
        return {"baseline_majority": climatology, "baseline_persistence": persist}
    if plan.target == "return":
        return {"baseline_zero": zero, "baseline_persistence": persist}
    return {"baseline_mean": climatology, "baseline_persistence": persist}


def train(
    data: ModelData,
    plan: Plan,
    *,
    threads: int = 1,
    chosen_params: dict[str, dict[str, Any]] | None = None,
) -> TrainingResult:
    """Fit baselines and each planned family walk-forward; collect their forecasts.

    Args:
        threads: native threads (OpenMP, BLAS) a fit may use; more than the free
            cores makes gradient boosting many times slower, not faster.
        chosen_params: parameters found by an earlier search, by family; those
            families are not searched again.
    """
    with threadpool_limits(limits=threads):
        return _train(data, plan, chosen_params or {}, threads=threads)


def _train(
    data: ModelData, plan: Plan, chosen: dict[str, dict[str, Any]], *, threads: int
) -> TrainingResult:
    x = data.features.to_numpy(dtype=float)
    y = data.target.to_numpy(dtype=float)
    splits = time_splits(len(y), gap=data.horizon_bars)
    test_rows = np.concatenate([test for _, test in splits])
    predictions: dict[str, Prediction] = {}
    searched: dict[str, list[dict[str, Any]]] = {}

    for name, baseline in _baselines(data, plan).items():
        values = np.concatenate([baseline(tr, te) for tr, te in splits])
        predictions[name] = Prediction(name, "baseline", name, {}, values, 0.0)

    deadline = time.monotonic() + plan.search_budget_s

    chosen_params: dict[str, dict[str, Any]] = {}
    for family in plan.families:
        params: dict[str, Any] = dict(chosen.get(family, {}))
        if plan.search and family not in chosen:
            params, searched[family] = _search(data, plan, family, deadline)
        chosen_params[family] = params

    def fit_fold(task: tuple[ModelFamily, int]) -> tuple[np.ndarray, Any, float]:
        family, fold = task
        estimator = make_estimator(
            family,
            classification=plan.is_classification,
            seed=plan.seed,
            params=chosen_params[family],
        )
        train_rows, test = splits[fold]
        started = time.perf_counter()
        model = _fit(estimator, x[train_rows], y[train_rows], plan.is_classification)
        values = predict_values(model, x[test], plan.is_classification)
        return values, model, time.perf_counter() - started

    # Every (family, fold) fit is independent and seeded, and the tree and boosting
    # fits release the GIL: running them side by side uses every core, and the
    # results do not depend on the order they finish in.
    tasks = [(family, fold) for family in plan.families for fold in range(len(splits))]
    # Each fit may use `threads` native threads; together they fill the cores once.
    workers = max(1, min(len(tasks), (os.cpu_count() or 1) // max(1, threads)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lab-fit") as pool:
        fitted = dict(zip(tasks, pool.map(fit_fold, tasks), strict=True))
    last_models: dict[str, Any] = {}
    for family in plan.families:
        folds = [fitted[(family, fold)] for fold in range(len(splits))]
        fit_s = sum(elapsed for _, _, elapsed in folds)
        values = np.concatenate([part for part, _, _ in folds])
        predictions[family] = Prediction(
            family, "model", family, chosen_params[family], values, fit_s
        )
        last_models[family] = folds[-1][1]
        logger.info(
            "lab model fitted", extra={"family": family, "fit_s": round(fit_s, 3)}
        )

    last_test = splits[-1][1]
    return TrainingResult(
        index=pd.DatetimeIndex(data.features.index[test_rows]),
        y_true=y[test_rows],
        step_return=data.step_return.to_numpy(dtype=float)[test_rows],
        close=data.close.to_numpy(dtype=float)[test_rows],
        predictions=predictions,
        last_fold_models=last_models,
        last_fold_test=(x[last_test], y[last_test]),
        feature_names=data.feature_names,
        searched=searched,
    )
