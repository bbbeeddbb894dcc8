import pytest

from omc.lab.checkpoints import open_checkpointer
from omc.lab.graph import build_lab_graph
from omc.lab.state import LabDeps
from omc.runtime import Runtime


@pytest.fixture
def lab_graph(runtime: Runtime):
    """A compiled Lab graph on the runtime's database with its real checkpointer."""
    with open_checkpointer(runtime.settings) as saver:
        yield build_lab_graph(
            LabDeps(engine=runtime.engine, settings=runtime.settings), saver
        )
