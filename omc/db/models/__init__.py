"""Table models by schema. Importing this package registers every table."""

from omc.db.models.app import User, UserRole

__all__ = ["User", "UserRole"]
