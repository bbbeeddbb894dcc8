"""Administration: migrations, database roles, users, settings, the queue, version."""

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from omc.cli._app import app, db_app, queue_app, settings_app, start, users_app
from omc.db.models.app import UserRole
from omc.errors import ConfigError, OmcError

__all__: list[str] = []


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
    from omc.db import migrate as migrations

    runtime = start()
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
    from omc.db.roles import create_roles

    runtime = start()
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
    from omc.api.accounts import create_user
    from omc.db.engine import session_scope

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = start()
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
    from omc.envdocs import render_env_docs

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
    runtime = start()
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
