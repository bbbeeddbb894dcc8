"""Storage: engines, sessions, table models and migrations."""

from omc.db.base import Base
from omc.db.engine import check_database, create_db_engine, session_scope

__all__ = ["Base", "check_database", "create_db_engine", "session_scope"]
