"""The `omc` command: run the service's processes and administer an install."""

import logging
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from prometheus_client import start_http_server
from pydantic import ValidationError

from omc.api.accounts import create_user
from omc.api.app import create_app
from omc.cache import CacheRole
from omc.db import migrate as migrations
from omc.db.engine import session_scope
from omc.db.models import UserRole
from omc.db.roles import create_roles
from omc.envdocs import render_env_docs
from omc.errors import ConfigError, OmcError
from omc.lab.checkpoints import setup_checkpoints
from omc.lab.command import lab_app
from omc.metrics import REGISTRY
from omc.queue import QueueWorker
from omc.runtime import Runtime, start_process
from omc.scheduler import Scheduler
from omc.settings import Settings
from omc.tasks import periodic_jobs, register_tasks

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
app.add_typer(lab_app, name="lab")

HostOption = Annotated[
    str | None, typer.Option(help="Address to listen on [OMC_API_HOST].")
]
PortOption = Annotated[
    int | None, typer.Option(help="Port to listen on [OMC_API_PORT].")
]


def _start() -> Runtime:
    """The runtime of a service process, with every task registered on its queue."""
    runtime = start_process()
    register_tasks(runtime)
    return runtime


def _migrate(runtime: Runtime) -> None:
    migrations.upgrade(runtime.engine)
    setup_checkpoints(runtime.settings)


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
    _migrate(runtime)
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
    application = create_app(runtime)
    logger.info("api listening", extra={"host": host, "port": port})
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _serve_metrics(settings: Settings) -> None:
    """Serve /metrics for a process without the API (worker, scheduler)."""
    if settings.metrics_port:
        start_http_server(
            settings.metrics_port, addr=settings.api_host, registry=REGISTRY
        )
        logger.info("metrics served", extra={"port": settings.metrics_port})


@app.command()
def worker() -> None:
    """Run queued tasks until stopped; serves /metrics on OMC_METRICS_PORT."""
    runtime = _start()
    _serve_metrics(runtime.settings)
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
    _serve_metrics(runtime.settings)
    try:
        Scheduler(
            runtime.queue, runtime.store(CacheRole.APP), periodic_jobs(runtime.settings)
        ).run_forever()
    except KeyboardInterrupt:
        logger.info("scheduler stopped")
    finally:
        runtime.close()


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
    runtime = start_process()
    try:
        if downgrade_to:
            migrations.downgrade(runtime.engine, downgrade_to)
        else:
            _migrate(runtime)
        revision = migrations.current_revision(runtime.engine) or "base"
        typer.echo(f"database at revision {revision}")
    finally:
        runtime.close()


@db_app.command("roles")
def db_roles() -> None:
    """Create the roles collector_user, agent_user and readonly_user with their grants."""
    runtime = start_process()
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
    runtime = start_process()
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
    runtime = start_process()
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
