"""The collaborators one process shares, built once from the settings.

Edges (the CLI commands, the API app, a worker) build a `Runtime` at start and hand
its parts to the code they call; deeper code never reaches for globals.
"""

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from omc.cache import CacheRole, Store, open_store
from omc.db.engine import create_db_engine
from omc.logs import configure_logging
from omc.queue import TaskQueue
from omc.settings import Settings

__all__ = ["Runtime", "start_process"]


@dataclass
class Runtime:
    """Settings, database, stores by role and the task queue of one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    stores: dict[CacheRole, Store]
    queue: TaskQueue
    closed: bool = field(default=False, init=False)

    @classmethod
    def build(cls, settings: Settings) -> "Runtime":
        """Open every connection pool the settings describe (lazily connecting)."""
        engine = create_db_engine(settings)
        redis_url = (
            settings.redis_url.get_secret_value() if settings.redis_url else None
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            stores={role: open_store(redis_url, role) for role in CacheRole},
            queue=TaskQueue.open(redis_url=redis_url, data_dir=settings.data_dir),
        )

    def store(self, role: CacheRole) -> Store:
        """The store for one Redis role."""
        return self.stores[role]

    def close(self) -> None:
        """Release the database pool."""
        if not self.closed:
            self.engine.dispose()
            self.closed = True


def start_process(settings: Settings | None = None) -> Runtime:
    """Read the settings, set up logging and build the runtime of this process."""
    settings = settings or Settings()
    configure_logging(
        level=settings.log_level,
        log_format=settings.log_format,
        secrets=settings.secret_values(),
    )
    return Runtime.build(settings)
