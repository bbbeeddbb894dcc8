import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from omc.lab.graph import build_lab_graph
from omc.lab.state import LabDeps
from omc.runtime import Runtime


@contextmanager
def open_checkpointer(runtime: Runtime) -> Iterator[SqliteSaver | PostgresSaver]:
    """The real checkpointer of the runtime's mode: SQLite file or PostgreSQL."""
    if runtime.settings.is_embedded_db:
        path = runtime.settings.data_dir / "checkpoints.db"
        conn = sqlite3.connect(path, check_same_thread=False)
        saver = SqliteSaver(conn)
        saver.setup()
        try:
            yield saver
        finally:
            conn.close()
        return
    url = runtime.settings.database_url_value.replace("+psycopg", "")
    with PostgresSaver.from_conn_string(url) as pg_saver:
        pg_saver.setup()
        yield pg_saver


@pytest.fixture
def lab_graph(runtime: Runtime):
    """A compiled Lab graph on the runtime's database with its real checkpointer."""
    with open_checkpointer(runtime) as saver:
        yield build_lab_graph(
            LabDeps(engine=runtime.engine, settings=runtime.settings), saver
        )
