"""Database engines and sessions for PostgreSQL and the embedded SQLite file."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from omc.db.base import SCHEMAS
from omc.errors import StorageError
from omc.metrics import DB_QUERY_SECONDS
from omc.settings import Settings

__all__ = ["check_database", "create_db_engine", "session_scope"]

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000


def create_db_engine(settings: Settings) -> Engine:
    """Build the engine for the configured database, creating the SQLite folder."""
    url = settings.database_url_value
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings.data_dir)
    engine = create_engine(
        url,
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )
    _time_queries(engine)
    return engine


def _sqlite_engine(url: str, data_dir: Path) -> Engine:
    if url == f"sqlite:///{data_dir / 'omc.db'}":
        data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        },
        # SQLite has no schemas: the same tables live side by side in one file.
        execution_options={"schema_translate_map": dict.fromkeys(SCHEMAS)},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the API read while a worker writes; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    _time_queries(engine)
    return engine


def _time_queries(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, *_args: Any) -> None:
        conn.info.setdefault("omc_query_start", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, *_args: Any) -> None:
        starts = conn.info.get("omc_query_start")
        if starts:
            DB_QUERY_SECONDS.observe(time.perf_counter() - starts.pop())

    @event.listens_for(engine, "handle_error")
    def _drop_timer(context: Any) -> None:
        starts = (
            context.connection.info.get("omc_query_start")
            if context.connection
            else None
        )
        if starts:
            starts.pop()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise StorageError(f"database statement failed: {type(exc).__name__}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def check_database(engine: Engine) -> None:
    """Run a trivial query; raise StorageError if the database does not answer."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StorageError(f"database unreachable: {type(exc).__name__}") from exc
