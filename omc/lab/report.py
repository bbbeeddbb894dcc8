"""Reports of a Lab session: Markdown, and self-contained HTML with embedded plots.

Plots are drawn on matplotlib's Agg canvas directly (no pyplot, no display), so
rendering is safe in workers and threads. Every user-supplied string is escaped in
the HTML.
"""

import base64
import html
import io
from datetime import datetime

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pydantic import BaseModel

from omc.lab.analysis import Analysis
from omc.lab.data import DataQuality, DatasetRef
from omc.lab.evaluation import Evaluation
from omc.lab.plan import Plan

__all__ = ["ReportContent", "render_html", "render_markdown", "render_plots"]

TOP_FEATURES = 15


class ReportContent(BaseModel):
    """Everything a report shows."""

    goal: str
    plan: Plan
    ref: DatasetRef
    quality: DataQuality
    analysis: Analysis
    evaluation: Evaluation


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return buffer.getvalue()


def render_plots(content: ReportContent) -> dict[str, bytes]:
    """PNG images by title: prices and forecasts, equity, importance, errors."""
    ev = content.evaluation
    times = np.array(
        [datetime.fromisoformat(t).replace(tzinfo=None) for t in ev.curves.times],
        dtype="datetime64[s]",
    )
    plots: dict[str, bytes] = {}

    figure = Figure(figsize=(9, 4))
    price_axis = figure.subplots()
    price_axis.plot(times, ev.curves.price, color="black", linewidth=0.8, label="close")
    price_axis.set_ylabel(f"{content.ref.coin} close")
    forecast_axis = price_axis.twinx()
    forecast_axis.plot(
        times, ev.curves.forecast, color="tab:blue", linewidth=0.6, alpha=0.7
    )
    forecast_axis.set_ylabel(f"{ev.best_model} forecast")
    figure.autofmt_xdate()
    plots["Price and out-of-sample forecasts"] = _png(figure)

    if ev.backtest is not None:
        figure = Figure(figsize=(9, 3.5))
        axis = figure.subplots()
        axis.plot(
            times, ev.curves.strategy_equity, label=f"{ev.best_model} (net of fees)"
        )
        axis.plot(times, ev.curves.buy_hold_equity, label="buy and hold")
        axis.legend()
        axis.set_ylabel("equity")
        figure.autofmt_xdate()
        plots["Equity curve"] = _png(figure)

    top = ev.importance[:TOP_FEATURES][::-1]
    figure = Figure(figsize=(7, 0.3 * len(top) + 1))
    axis = figure.subplots()
    axis.barh([item.feature for item in top], [item.mean for item in top],
              xerr=[item.std for item in top])  # fmt: skip
    axis.set_xlabel("loss increase when shuffled")
    plots["Permutation feature importance"] = _png(figure)

    truth = np.asarray(ev.curves.truth)
    forecast = np.asarray(ev.curves.forecast)
    figure = Figure(figsize=(5, 4))
    axis = figure.subplots()
    if content.plan.is_classification:
        matrix = np.zeros((2, 2), dtype=int)
        for actual, predicted in zip(
            truth.astype(int), (forecast > 0.5).astype(int), strict=True
        ):
            matrix[actual, predicted] += 1
        axis.imshow(matrix, cmap="Blues")
        for (row, col), count in np.ndenumerate(matrix):
            axis.text(col, row, str(count), ha="center", va="center")
        axis.set_xticks([0, 1], ["down", "up"])
        axis.set_yticks([0, 1], ["down", "up"])
        axis.set_xlabel("predicted")
        axis.set_ylabel("actual")
        plots["Confusion matrix"] = _png(figure)
    else:
        axis.hist(forecast - truth, bins=40)
        axis.set_xlabel("forecast - actual")
        plots["Residuals"] = _png(figure)
    return plots


def _metrics_table(ev: Evaluation) -> list[str]:
    names = list(next(iter(ev.metrics.values())))
    lines = [
        "| candidate | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for candidate, values in ev.metrics.items():
        cells = " | ".join(f"{values[name]:.4g}" for name in names)
        lines.append(f"| {candidate} | {cells} |")
    return lines


def render_markdown(content: ReportContent) -> str:
    """The report as Markdown (without plots)."""
    plan, ev, quality = content.plan, content.evaluation, content.quality
    test = ev.test
    lines = [
        f"# Lab report: {ev.verdict.replace('_', ' ')}",
        "",
        "> " + content.goal.replace("\n", " "),
        "",
        f"**Verdict: {ev.verdict}.** {ev.reason}",
        "",
        "## Plan",
        f"- Coins: {', '.join(plan.coins)}; target: {plan.target} over {plan.horizon}",
        f"- Window: {content.ref.start:%Y-%m-%d %H:%M} to {content.ref.end:%Y-%m-%d %H:%M}"
        f" UTC on a {content.ref.bar_minutes}-minute grid",
        f"- Sources: {', '.join(plan.sources)}; models: {', '.join(plan.families)}",
        f"- Metric: {ev.metric}; seed: {plan.seed}",
        "",
        "## Data",
        f"- Bars: {quality.rows} ({quality.price_rows} with a price, {quality.gaps} gaps)",
        f"- Span: {quality.span_days} days; sources with data: "
        f"{', '.join(quality.sources_present)}",
        *[f"- {note}" for note in content.analysis.notes],
        "",
        "## Out-of-sample results",
        *_metrics_table(ev),
        "",
        "## Skill test",
        f"- {test.name}, {test.loss} loss, {test.samples} samples, blocks of "
        f"{test.block_length}, {test.resamples} resamples",
        f"- {test.model} vs {test.baseline}: mean loss difference "
        f"{test.mean_loss_diff:.4g} (one-sided 95% lower bound {test.ci_low:.4g})",
        f"- p = {test.p_value:.4g}; Bonferroni-adjusted over {test.comparisons} "
        f"models: {test.p_value_adjusted:.4g} (alpha {test.alpha})",
    ]
    if ev.backtest is not None:
        bt = ev.backtest
        lines += [
            "",
            f"## Backtest (long or flat, fee {bt.fee_rate:.2%} per change)",
            "| | return | Sharpe | max drawdown |",
            "|---|---|---|---|",
            f"| {ev.best_model} | {bt.strategy_return:.2%} | {bt.strategy_sharpe:.2f} "
            f"| {bt.strategy_max_drawdown:.2%} |",
            f"| buy and hold | {bt.buy_hold_return:.2%} | {bt.buy_hold_sharpe:.2f} "
            f"| {bt.buy_hold_max_drawdown:.2%} |",
            f"- Position changes: {bt.trades}",
        ]
    if ev.calibration:
        lines += [
            "",
            "## Calibration of the best model",
            "| mean forecast | share that went up | rows |",
            "|---|---|---|",
            *[f"| {p:.2f} | {o:.2f} | {n} |" for p, o, n in ev.calibration],
        ]
    lines += ["", "## Most important features"]
    lines += [
        f"{rank}. {item.feature}: {item.mean:.4g} ± {item.std:.2g}"
        for rank, item in enumerate(ev.importance[:10], start=1)
    ]
    return "\n".join(lines) + "\n"


def _html_line(line: str) -> str:
    text = html.escape(line)
    if line.startswith("# "):
        return f"<h1>{text[2:]}</h1>"
    if line.startswith("## "):
        return f"<h2>{text[3:]}</h2>"
    if line.startswith("|---"):
        return ""
    if line.startswith("|"):
        cells = "".join(
            f"<td>{cell.strip()}</td>" for cell in text.strip("|").split("|")
        )
        return f"<table><tr>{cells}</tr></table>"
    return f"<p>{text}</p>"


def render_html(content: ReportContent, plots: dict[str, bytes] | None = None) -> str:
    """The report as one HTML page with its plots embedded as base64 PNG."""
    images = render_plots(content) if plots is None else plots
    body = [_html_line(line) for line in render_markdown(content).splitlines() if line]
    for title, png in images.items():
        encoded = base64.b64encode(png).decode()
        body.append(
            f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,"
            f"{encoded}'><figcaption>{html.escape(title)}</figcaption></figure>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Lab report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "img{max-width:100%}table{border-collapse:collapse}td{border:1px solid #ccc;"
        "padding:2px 8px;width:9em}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
