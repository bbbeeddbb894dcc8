"""The error tree of Oh My Coins.

Every error the platform raises on purpose derives from `OmcError`. Each area adds
its own subclasses; each docstring says what the caller should do about it. Edges
(the API, the CLI, the scheduler loop) map these to status codes, exit codes or log
lines; deeper code raises and lets them travel.

    OmcError
    ├── ConfigError          fix the setting named in the message, then restart
    ├── StorageError         the database is unreachable or refused the statement
    │   └── MigrationError   the schema is not at the revision this code expects
    ├── CacheError           Redis is unreachable; retry later
    ├── AuthError            credentials are wrong, missing or expired
    │   └── PermissionDenied the caller is known but its role may not do this
    ├── NotFound             the named object does not exist
    ├── Conflict             the object exists already or is in the wrong state
    └── RateLimited          slow down; retry after `retry_after_s`
"""

__all__ = [
    "AuthError",
    "CacheError",
    "ConfigError",
    "Conflict",
    "MigrationError",
    "NotFound",
    "OmcError",
    "PermissionDenied",
    "RateLimited",
    "StorageError",
]


class OmcError(Exception):
    """Base of every error the platform raises on purpose."""


class ConfigError(OmcError):
    """A setting is missing or wrong: fix the setting named in the message."""


class StorageError(OmcError):
    """The database is unreachable or refused a statement: retry, or check the server."""


class MigrationError(StorageError):
    """The database schema is not where the code expects it: run `omc migrate`."""


class CacheError(OmcError):
    """Redis is unreachable or refused a command: retry later, or check the server."""


class AuthError(OmcError):
    """Credentials are missing, wrong or expired: sign in again."""


class PermissionDenied(AuthError):
    """The caller is signed in but its role does not allow this action."""


class NotFound(OmcError):
    """The named object does not exist: check the identifier."""


class Conflict(OmcError):
    """The object already exists or is in a state that forbids the action."""


class RateLimited(OmcError):
    """Too many requests: wait `retry_after_s` seconds and try again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
