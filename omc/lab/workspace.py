"""Heavy intermediate results of running sessions, kept in memory between nodes.

Graph checkpoints hold only small, JSON-ready values. Frames, feature tables and
fitted models stay here, keyed by session; after a restart they are missing and the
node that needs one recomputes it from the checkpointed plan and dataset reference,
which gives the same result because the data window is pinned and seeds are fixed.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Workspace"]

T = TypeVar("T")
MAX_SESSIONS = 4


class Workspace:
    """A small, thread-safe, least-recently-used store of per-session objects."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._max_sessions = max_sessions
        self._lock = threading.Lock()

    def put(self, session_id: str, name: str, value: object) -> None:
        """Keep one object of a session."""
        with self._lock:
            self._sessions.setdefault(session_id, {})[name] = value
            self._sessions.move_to_end(session_id)
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)

    def get_or_compute(self, session_id: str, name: str, compute: Callable[[], T]) -> T:
        """The stored object, or a freshly computed one that is then stored."""
        with self._lock:
            found = self._sessions.get(session_id, {}).get(name)
        if found is not None:
            value: T = found
            return value
        value = compute()
        self.put(session_id, name, value)
        return value

    def drop(self, session_id: str) -> None:
        """Forget a finished session."""
        with self._lock:
            self._sessions.pop(session_id, None)
