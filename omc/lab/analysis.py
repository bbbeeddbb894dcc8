"""Data analysis: descriptive statistics, autocorrelation, stationarity, correlations."""

import warnings

import numpy as np
import pandas as pd
from pydantic import BaseModel
from scipy.stats import chi2  # type: ignore[import-untyped]
from statsmodels.tsa.stattools import acf, adfuller

from omc.lab.training import ModelData

__all__ = ["Analysis", "analyze"]

ACF_LAGS = 10
ADF_MAX_ROWS = 5_000
ADF_LAGS = 12
TOP_CORRELATIONS = 10


class Analysis(BaseModel):
    """What the data looks like before any model sees it."""

    rows: int
    target_stats: dict[str, float]
    return_acf: list[float]
    ljung_box_pvalue: float
    adf_pvalue_log_price: float
    adf_pvalue_returns: float
    correlations: dict[str, float]
    notes: list[str]


def _adf_pvalue(values: np.ndarray) -> float:
    # Choosing lags by AIC refits the regression for every lag; a fixed lag count on a
    # recent slice answers the unit-root question at a fraction of the cost.
    sample = values[-ADF_MAX_ROWS:]
    if len(sample) < 20 or np.std(sample) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(adfuller(sample, maxlag=ADF_LAGS, autolag=None)[1])


def _ljung_box_pvalue(autocorrelation: np.ndarray, rows: int) -> float:
    """Ljung-Box test of 'no autocorrelation up to the last lag', from the ACF.

    Computed here from the FFT autocorrelation: the library version recomputes it
    directly and takes seconds on a year of 5-minute bars.
    """
    lags = np.arange(1, len(autocorrelation) + 1)
    statistic = rows * (rows + 2) * np.sum(autocorrelation**2 / (rows - lags))
    return float(chi2.sf(statistic, df=len(lags)))


def analyze(data: ModelData, close: pd.Series) -> Analysis:
    """Describe the target, the returns and how each feature relates to the target."""
    target = data.target.astype(float)
    returns = data.features["ret_1"].to_numpy(dtype=float)
    autocorrelation = acf(returns, nlags=ACF_LAGS, fft=True)[1:]
    correlations = data.features.corrwith(target, method="spearman").dropna()
    ranked = correlations.reindex(correlations.abs().sort_values(ascending=False).index)
    price_p = _adf_pvalue(np.log(close.dropna().to_numpy(dtype=float)))
    returns_p = _adf_pvalue(returns)
    notes = []
    if price_p > 0.05 > returns_p:
        notes.append(
            "Log price has a unit root; returns are stationary: models use returns."
        )
    ljung_box_p = _ljung_box_pvalue(autocorrelation, len(returns))
    if ljung_box_p < 0.05:
        band = 2 / np.sqrt(len(returns))
        lags = [i + 1 for i, value in enumerate(autocorrelation) if abs(value) > band]
        notes.append(
            f"Returns are autocorrelated (Ljung-Box p = {ljung_box_p:.3g} up to lag "
            f"{ACF_LAGS}), most at lags {lags}."
        )
    else:
        notes.append(
            f"Returns show no autocorrelation up to lag {ACF_LAGS} "
            f"(Ljung-Box p = {ljung_box_p:.3g})."
        )
    return Analysis(
        rows=len(target),
        target_stats={
            "mean": float(target.mean()),
            "std": float(target.std()),
            "min": float(target.min()),
            "max": float(target.max()),
        },
        return_acf=[float(value) for value in autocorrelation],
        ljung_box_pvalue=ljung_box_p,
        adf_pvalue_log_price=price_p,
        adf_pvalue_returns=returns_p,
        correlations={
            str(k): float(v) for k, v in ranked.head(TOP_CORRELATIONS).items()
        },
        notes=notes,
    )
