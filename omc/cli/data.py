"""Data commands: run collectors once, import candles from files, backfill them."""

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from omc.cli._app import EXIT_FAILURE, app, backfill_app, import_app, start
from omc.collectors.registry import ALL, collector_names, resolve

if TYPE_CHECKING:
    from omc.collectors.runner import RunOutcome

__all__: list[str] = []

TimeframeOption = Annotated[str, typer.Option(help="Candle length: 1m, 5m, 1h, 1d ...")]


@app.command()
def collect(
    name: Annotated[
        str,
        typer.Argument(
            help=f"Collector to run: {', '.join(collector_names())}, or `{ALL}`."
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object a line per collector.")
    ] = False,
) -> None:
    """Run collectors once, in this process; exit 1 if any run failed.

    A run that finds another run of the same collector in progress does not start
    and counts as failed.
    """
    from omc.collectors.service import run_collectors
    from omc.db import migrate

    names = resolve(name)
    runtime = start()
    try:
        if runtime.settings.is_embedded_db:
            # Embedded installs have no migration Job: bring the file up to date.
            migrate.upgrade(runtime.engine)
        outcomes = run_collectors(runtime, names)
    finally:
        runtime.close()
    for outcome in outcomes:
        typer.echo(json.dumps(outcome.summary()) if as_json else _run_line(outcome))
    if any(outcome.status == "failed" for outcome in outcomes):
        raise typer.Exit(EXIT_FAILURE)


def _run_line(outcome: "RunOutcome") -> str:
    line = (
        f"{outcome.collector}: {outcome.status}, fetched {outcome.fetched}, "
        f"stored {outcome.stored}, skipped {outcome.skipped} "
        f"in {outcome.duration_s:.2f} s"
    )
    return f"{line}: {outcome.error}" if outcome.error else line


@import_app.command("ohlcv")
def import_ohlcv(
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file: timestamp, open ... volume.")
    ],
    coin: Annotated[str, typer.Option(help="Coin the candles are of, e.g. BTC.")],
    timeframe: TimeframeOption = "1h",
    source: Annotated[
        str, typer.Option(help="Name the candles are stored under.")
    ] = "import",
) -> None:
    """Import candles from a file; all rows are checked first, reruns add nothing."""
    from omc.collectors.ohlcv_import import import_ohlcv_file

    runtime = start()
    try:
        report = import_ohlcv_file(
            runtime.engine, file, coin=coin, timeframe=timeframe, source=source
        )
        typer.echo(
            f"{report.rows} candles read, {report.stored} new or changed, "
            f"{report.first_at.isoformat()} to {report.last_at.isoformat()}"
        )
    finally:
        runtime.close()


@backfill_app.command("ohlcv")
def backfill_ohlcv_command(
    exchange: Annotated[str, typer.Option(help="ccxt exchange id, e.g. binance.")],
    symbol: Annotated[str, typer.Option(help="Market, e.g. BTC/USDT.")],
    timeframe: TimeframeOption = "1h",
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Start here (UTC) if nothing newer is stored; default a year back."
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="Replace the exchange's public API URL (a mirror or proxy)."),
    ] = None,
) -> None:
    """Fetch public candles through ccxt, resuming after the newest stored one."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
    )

    from omc.collectors.backfill import backfill_ohlcv, open_exchange

    runtime = start()
    client = open_exchange(exchange, api_urls={"public": api_url} if api_url else None)
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("candles", total=None)
            report = backfill_ohlcv(
                runtime.engine,
                client,
                symbol=symbol,
                timeframe=timeframe,
                since=since,
                progress=lambda done, total: bar.update(
                    task, completed=done, total=total
                ),
            )
        end = report.last_at.isoformat() if report.last_at else "nothing new"
        typer.echo(
            f"{report.fetched} candles fetched in {report.requests} requests, "
            f"{report.stored} new or changed; series ends at {end}"
        )
    finally:
        runtime.close()
