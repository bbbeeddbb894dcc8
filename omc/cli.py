"""The `omc` command: run the service's processes and administer an install."""

import json
import logging
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError

from omc.api.accounts import create_user
from omc.api.app import create_app
from omc.cache import CacheRole
from omc.collectors.registry import ALL, collector_names, resolve
from omc.collectors.runner import RunOutcome
from omc.collectors.service import periodic_jobs as collector_jobs
from omc.collectors.service import register_tasks, run_collectors
from omc.db import migrate as migrations
from omc.db.engine import session_scope
from omc.db.models import UserRole
from omc.db.roles import create_roles
from omc.envdocs import render_env_docs
from omc.errors import ConfigError, OmcError
from omc.logs import configure_logging
from omc.queue import QueueWorker
from omc.runtime import Runtime
from omc.scheduler import PeriodicJob, Scheduler
from omc.settings import Settings

__all__ = ["app", "main"]

logger = logging.getLogger(__name__)

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
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(settings_app, name="settings")
app.add_typer(queue_app, name="queue")

HostOption = Annotated[
    str | None, typer.Option(help="Address to listen on [OMC_API_HOST].")
]
PortOption = Annotated[
    int | None, typer.Option(help="Port to listen on [OMC_API_PORT].")
]


def _start(settings: Settings | None = None) -> Runtime:
    """Read settings, set up logging and build the runtime of this process."""
    settings = settings or Settings()
    configure_logging(
        level=settings.log_level,
        log_format=settings.log_format,
        secrets=settings.secret_values(),
    )
    runtime = Runtime.build(settings)
    register_tasks(runtime)
    return runtime


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """Every periodic job the scheduler runs."""
    return collector_jobs(settings)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks on errors.")
    ] = False,
) -> None:
    """Oh My Coins."""
    del debug  # read by main() before the command runs


@app.command()
def up(host: HostOption = None, port: PortOption = None) -> None:
    """Run API, worker and scheduler in one process; migrates the database first."""
    runtime = _start()
    migrations.upgrade(runtime.engine)
    worker = QueueWorker(runtime.queue, threads=runtime.settings.worker_threads)
    scheduler = Scheduler(
        runtime.queue, runtime.store(CacheRole.APP), periodic_jobs(runtime.settings)
    )
    scheduler_thread = threading.Thread(target=scheduler.run_forever, name="scheduler")
    worker.start_background()
    scheduler_thread.start()
    try:
        _serve(runtime, host, port)
    finally:
        scheduler.stop()
        worker.stop()
        scheduler_thread.join()
        runtime.close()


@app.command()
def api(host: HostOption = None, port: PortOption = None) -> None:
    """Run the API server."""
    runtime = _start()
    try:
        _serve(runtime, host, port)
    finally:
        runtime.close()


def _serve(runtime: Runtime, host: str | None, port: int | None) -> None:
    settings = runtime.settings
    host, port = host or settings.api_host, port or settings.api_port
    logger.info("api listening", extra={"host": host, "port": port})
    uvicorn.run(
        create_app(runtime),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@app.command()
def worker() -> None:
    """Run queued tasks until stopped."""
    runtime = _start()
    try:
        QueueWorker(
            runtime.queue, threads=runtime.settings.worker_threads
        ).run_forever()
    finally:
        runtime.close()


@app.command()
def scheduler() -> None:
    """Enqueue periodic jobs on their cadences until stopped."""
    runtime = _start()
    try:
        Scheduler(
            runtime.queue, runtime.store(CacheRole.APP), periodic_jobs(runtime.settings)
        ).run_forever()
    except KeyboardInterrupt:
        logger.info("scheduler stopped")
    finally:
        runtime.close()


@app.command()
def collect(
    name: Annotated[
        str,
        typer.Argument(
            help=f"Collector to run: {', '.join(collector_names())}, or `{ALL}`."
        ),
    ],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON object a line per collector."),
    ] = False,
) -> None:
    """Run collectors once, in this process; exit 1 if any run failed.

    A run that finds another run of the same collector in progress does not start
    and counts as failed.
    """
    names = resolve(name)
    runtime = _start()
    try:
        if runtime.settings.is_embedded_db:
            # Embedded installs have no migration Job: bring the file up to date.
            migrations.upgrade(runtime.engine)
        outcomes = run_collectors(runtime, names)
    finally:
        runtime.close()
    for outcome in outcomes:
        typer.echo(json.dumps(outcome.summary()) if as_json else _run_line(outcome))
    if any(outcome.status == "failed" for outcome in outcomes):
        raise typer.Exit(EXIT_FAILURE)


def _run_line(outcome: RunOutcome) -> str:
    line = (
        f"{outcome.collector}: {outcome.status}, fetched {outcome.fetched}, "
        f"stored {outcome.stored}, skipped {outcome.skipped} "
        f"in {outcome.duration_s:.2f} s"
    )
    return f"{line}: {outcome.error}" if outcome.error else line


@app.command()
def migrate(
    downgrade_to: Annotated[
        str | None,
        typer.Option(
            help="Take the schema down to this revision instead (`base`: empty)."
        ),
    ] = None,
) -> None:
    """Bring the database schema up to date; running it again changes nothing."""
    runtime = _start()
    try:
        if downgrade_to:
            migrations.downgrade(runtime.engine, downgrade_to)
        else:
            migrations.upgrade(runtime.engine)
        revision = migrations.current_revision(runtime.engine) or "base"
        typer.echo(f"database at revision {revision}")
    finally:
        runtime.close()


@db_app.command("roles")
def db_roles() -> None:
    """Create the roles collector_user, agent_user and readonly_user with their grants."""
    runtime = _start()
    settings = runtime.settings
    try:
        create_roles(
            runtime.engine,
            {
                "collector_user": settings.db_collector_password,
                "agent_user": settings.db_agent_password,
                "readonly_user": settings.db_readonly_password,
            },
        )
        typer.echo("roles collector_user, agent_user, readonly_user ready")
    finally:
        runtime.close()


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="Email the user signs in with.")],
    role: Annotated[
        UserRole, typer.Option(help="What the user may do.")
    ] = UserRole.VIEWER,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
) -> None:
    """Create a user; the password is asked for, or read from standard input."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = _start()
    try:
        with session_scope(runtime.sessions) as session:
            user = create_user(session, email=email, password=password, role=role)
            typer.echo(f"created user {user.email} ({role.value}) with id {user.id}")
    finally:
        runtime.close()


@settings_app.command("docs")
def settings_docs(
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if OUTPUT differs from the settings.")
    ] = False,
) -> None:
    """Print (or write) the Markdown table of every OMC_* variable."""
    text = render_env_docs()
    if check:
        if output is None or not output.exists() or output.read_text("utf-8") != text:
            raise ConfigError(
                f"{output} is out of date: run omc settings docs --output {output}"
            )
        return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@queue_app.command("ping")
def queue_ping(
    timeout_s: Annotated[
        float, typer.Option(help="Seconds to wait for a worker.")
    ] = 10.0,
) -> None:
    """Check that a worker is consuming the queue."""
    runtime = _start()
    try:
        if not runtime.queue.ping(timeout_s):
            raise OmcError(
                f"no worker answered within {timeout_s:g} s: is `omc worker` running?"
            )
        typer.echo("a worker answered")
    finally:
        runtime.close()


@app.command("version")
def show_version() -> None:
    """Print the version of omc."""
    typer.echo(version("omc"))


def _settings_error_line(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = "OMC_" + "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "invalid settings: " + "; ".join(parts)


def main() -> None:
    """Entry point: run a command; errors become one line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        app()
    except ValidationError as exc:
        if debug or exc.title != Settings.__name__:
            raise
        typer.echo(f"error: {_settings_error_line(exc)}", err=True)
        sys.exit(EXIT_CONFIG)
    except OmcError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG if isinstance(exc, ConfigError) else EXIT_FAILURE)
    except ValueError as exc:
        if debug:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILURE)
