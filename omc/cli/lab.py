"""`omc lab run "GOAL"`: one Lab session, run to the end in this process."""

import json
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from omc.cli._app import EXIT_FAILURE, lab_app, start
from omc.errors import MigrationError, OmcError

if TYPE_CHECKING:
    from omc.db.models import LabSession
    from omc.lab.sessions import SessionEvents
    from omc.runtime import Runtime

__all__ = ["CLI_OWNER_ID", "run_session"]

# Sessions started from the command line belong to no API user.
CLI_OWNER_ID = 0
PROGRESS_POLL_S = 0.3
# What `--yes` answers: the commonest coin and target, and approval of a search.
DEFAULT_ANSWERS = {"coin": "BTC", "target": "direction"}


class _Progress:
    """Prints each node of the session as it finishes, on standard error."""

    def __init__(
        self, events: "SessionEvents", session_id: str, console: Console
    ) -> None:
        self._events, self._session_id, self._console = events, session_id, console
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._follow, name="lab-progress", daemon=True
        )

    def __enter__(self) -> "_Progress":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._show()

    def _follow(self) -> None:
        while not self._stop.wait(PROGRESS_POLL_S):
            self._show()

    def _show(self) -> None:
        try:
            events = self._events.read(self._session_id, self._seen)
        except OmcError:
            return
        for event in events:
            if event["kind"] == "node":
                self._console.print(
                    f"[green]✓[/green] {event['node'].replace('_', ' ')}"
                )
        self._seen += len(events)


def _answer(question: dict[str, Any], *, yes: bool, console: Console) -> str | bool:
    if yes:
        if question.get("kind") == "approval":
            return True
        missing = question.get("missing", [])
        return " ".join(DEFAULT_ANSWERS[m] for m in missing if m in DEFAULT_ANSWERS)
    if not sys.stdin.isatty():
        raise OmcError(
            f"the session asks: {question.get('question')} Run in a terminal to "
            "answer, or pass --yes to take the defaults"
        )
    if question.get("kind") == "approval":
        return typer.confirm(str(question.get("question")), default=False, err=True)
    console.print(f"[bold]?[/bold] {question.get('question')}")
    return str(typer.prompt("answer", err=True))


def _summary(row: "LabSession") -> dict[str, Any]:
    result = row.result or {}
    artifacts = result.get("artifacts")
    return {
        "session_id": row.id,
        "status": row.status,
        "plan": row.plan,
        "verdict": row.verdict,
        "best_model": result.get("best_model"),
        "baseline": result.get("baseline"),
        "metrics": result.get("metrics", {}),
        "report_path": f"{artifacts['location']}/report.html" if artifacts else None,
        "artifacts": artifacts,
    }


def run_session(
    runtime: "Runtime", goal: str, *, yes: bool, console: Console
) -> dict[str, Any]:
    """Run one session to its end, answering its questions; return its summary."""
    from omc.db.engine import session_scope
    from omc.db.models import LabSession
    from omc.lab.service import events_for, runner_for
    from omc.lab.sessions import create_session_row

    runner = runner_for(runtime)
    with session_scope(runtime.sessions) as session:
        session_id = create_session_row(session, CLI_OWNER_ID, goal).id
    answer: str | bool | None = None
    with _Progress(events_for(runtime), session_id, console):
        while runner.run(session_id, answer) == "waiting":
            with session_scope(runtime.sessions) as session:
                row = session.get(LabSession, session_id)
                question = (row.question if row else None) or {}
            answer = _answer(question, yes=yes, console=console)
    with session_scope(runtime.sessions) as session:
        row = session.get(LabSession, session_id)
        if row is None:
            raise OmcError(f"session {session_id} disappeared while it ran")
        return _summary(row)


def _ensure_schema(runtime: "Runtime") -> None:
    """Migrate the embedded database; a server database must be migrated already."""
    from omc.db import migrate

    if runtime.settings.is_embedded_db:
        migrate.upgrade(runtime.engine)
    elif not migrate.is_at_head(runtime.engine):
        raise MigrationError(
            "the database is not at the newest revision: run omc migrate"
        )


def _print_summary(summary: dict[str, Any], *, as_json: bool, console: Console) -> None:
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    console.print(f"session {summary['session_id']}: {summary['status']}")
    if summary["verdict"]:
        console.print(
            f"verdict: [bold]{summary['verdict']}[/bold] "
            f"(best model {summary['best_model']}, baseline {summary['baseline']})"
        )
    if summary["report_path"]:
        console.print(f"report: {summary['report_path']}")


@lab_app.command("run")
def run(
    goal: Annotated[
        str, typer.Argument(help="The question, e.g. 'will BTC rise in the next hour?'")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Take default answers instead of asking.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object.")
    ] = False,
) -> None:
    """Run a Lab session to the end here, asking questions on the terminal."""
    runtime = start()
    console = Console(stderr=True)
    try:
        _ensure_schema(runtime)
        summary = run_session(runtime, goal, yes=yes, console=console)
    finally:
        runtime.close()
    _print_summary(summary, as_json=as_json, console=console)
    if summary["status"] == "failed":
        raise typer.Exit(EXIT_FAILURE)
