"""The Typer application, its command groups and what every command shares.

Command modules import heavy libraries (the web server, Alembic, ccxt, the Lab's
numerical stack) inside the commands that need them, so `omc --help`, `omc version`
and a CronJob's `omc collect` start quickly.
"""

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from omc.runtime import Runtime

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "HostOption",
    "PortOption",
    "app",
    "backfill_app",
    "db_app",
    "import_app",
    "lab_app",
    "queue_app",
    "settings_app",
    "start",
    "users_app",
]

EXIT_FAILURE = 1
EXIT_CONFIG = 2

app = typer.Typer(
    help="Oh My Coins: collect crypto market data, ask questions of it, run the service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
settings_app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)
queue_app = typer.Typer(help="The task queue.", no_args_is_help=True)
import_app = typer.Typer(help="Import history from files.", no_args_is_help=True)
backfill_app = typer.Typer(help="Fetch history from exchanges.", no_args_is_help=True)
lab_app = typer.Typer(
    help="The Lab: questions in plain words, answered by models.", no_args_is_help=True
)
for _group, _name in (
    (db_app, "db"),
    (users_app, "users"),
    (settings_app, "settings"),
    (queue_app, "queue"),
    (import_app, "import"),
    (backfill_app, "backfill"),
    (lab_app, "lab"),
):
    app.add_typer(_group, name=_name)

HostOption = Annotated[
    str | None, typer.Option(help="Address to listen on [OMC_API_HOST].")
]
PortOption = Annotated[
    int | None, typer.Option(help="Port to listen on [OMC_API_PORT].")
]


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors.")
    ] = False,
) -> None:
    """Oh My Coins."""
    del debug  # read by main() before the command runs


def start() -> "Runtime":
    """The runtime of this process, with logging set up and every task registered."""
    from omc.runtime import start_process
    from omc.tasks import register_tasks

    runtime = start_process()
    register_tasks(runtime)
    return runtime
