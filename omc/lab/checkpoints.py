"""Graph checkpoint stores: PostgreSQL in production, a SQLite file when embedded.

Checkpoints live beside the session rows: in the `lab` schema on PostgreSQL (its
tables come with migration 0004), in `checkpoints.db` in the data folder when
embedded (the saver creates its tables there by itself). There is no in-memory stand-in: a
store that cannot be opened fails the session with the reason recorded.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection, OperationalError
from psycopg.rows import dict_row
from sqlalchemy.engine import make_url

from omc.db.base import LAB_SCHEMA
from omc.errors import StorageError
from omc.settings import Settings

__all__ = ["open_checkpointer"]

CHECKPOINT_FILE = "checkpoints.db"


def _libpq_url(settings: Settings) -> str:
    url = make_url(settings.database_url_value).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextmanager
def open_checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    """Open the checkpoint store of this install; StorageError if it cannot be reached."""
    if settings.is_embedded_db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            settings.data_dir / CHECKPOINT_FILE, check_same_thread=False
        )
        try:
            yield SqliteSaver(connection)
        finally:
            connection.close()
        return
    try:
        conn = Connection.connect(
            _libpq_url(settings),
            autocommit=True,
            prepare_threshold=0,
            row_factory=dict_row,
            options=f"-c search_path={LAB_SCHEMA}",
            connect_timeout=5,
        )
    except OperationalError as exc:
        raise StorageError(
            f"checkpoint store unreachable: {type(exc).__name__}"
        ) from exc
    with conn:
        yield PostgresSaver(conn)
