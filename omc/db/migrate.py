"""Run Alembic migrations from code, so `omc migrate` needs no alembic.ini."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from omc.errors import MigrationError, StorageError

__all__ = ["current_revision", "downgrade", "head_revision", "is_at_head", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`; a no-op when it is there already."""
    _run(command.upgrade, engine, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to `revision` (`base` removes every table)."""
    _run(command.downgrade, engine, revision)


def _run(step: object, engine: Engine, revision: str) -> None:
    try:
        step(_config(engine), revision)  # type: ignore[operator]
    except SQLAlchemyError as exc:
        raise StorageError(
            f"migration to {revision} failed: {exc.__class__.__name__}"
        ) from exc


def head_revision() -> str:
    """The newest revision this code ships."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:
        raise MigrationError("no migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    """Whether the database schema matches this code."""
    return current_revision(engine) == head_revision()
