"""The `omc` command: run the service's processes and administer an install.

`main()` is the entry point: it runs a command and turns errors into one line on
standard error and an exit code (2 for a configuration problem, 1 otherwise);
`--debug` shows the traceback instead.
"""

import sys

import typer
from pydantic import ValidationError

from omc.cli import admin, data, lab, service  # noqa: F401  (importing registers the commands)
from omc.cli._app import EXIT_CONFIG, EXIT_FAILURE, app
from omc.errors import ConfigError, OmcError
from omc.settings import Settings

__all__ = ["app", "main"]


def _settings_error_line(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = "OMC_" + "_".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "invalid settings: " + "; ".join(parts)


def main() -> None:
    """Run a command; errors become one line and an exit code."""
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
