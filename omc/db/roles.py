"""Least-privilege PostgreSQL roles for the parts of the platform.

- `collector_user` reads and writes the `collectors` schema, nothing else;
- `agent_user` reads and writes `lab` and reads `collectors`;
- `readonly_user` reads `collectors` and `lab`.
No role sees the `app` schema (accounts); only the owner that runs migrations does.
Default privileges make tables added by later migrations follow the same rules.
"""

import logging
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import Connection, Engine, text

from omc.db.base import COLLECTORS_SCHEMA, LAB_SCHEMA
from omc.errors import ConfigError

__all__ = ["ROLES", "RoleGrant", "create_roles"]

logger = logging.getLogger(__name__)

READ = "SELECT"
WRITE = "SELECT, INSERT, UPDATE, DELETE"


@dataclass(frozen=True)
class RoleGrant:
    """A role and what it may do in each schema."""

    name: str
    privileges: dict[str, str]


ROLES = (
    RoleGrant("collector_user", {COLLECTORS_SCHEMA: WRITE}),
    RoleGrant("agent_user", {LAB_SCHEMA: WRITE, COLLECTORS_SCHEMA: READ}),
    RoleGrant("readonly_user", {COLLECTORS_SCHEMA: READ, LAB_SCHEMA: READ}),
)


def create_roles(engine: Engine, passwords: dict[str, SecretStr | None]) -> None:
    """Create or update the roles and their grants; running it again changes nothing."""
    if engine.dialect.name != "postgresql":
        raise ConfigError(
            "OMC_DATABASE_URL: database roles need PostgreSQL; the embedded SQLite "
            "database has no roles"
        )
    with engine.begin() as conn:
        for role in ROLES:
            _ensure_role(conn, role.name, passwords.get(role.name))
            for schema, privileges in role.privileges.items():
                _grant(conn, role.name, schema, privileges)
            logger.info("database role ready", extra={"role": role.name})


def _ensure_role(conn: Connection, name: str, password: SecretStr | None) -> None:
    exists = conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": name}
    ).scalar()
    if not exists:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
    if password is not None:
        # Role DDL takes no bind parameters; quote_literal escapes the value server-side.
        quoted = conn.execute(
            text("SELECT quote_literal(:pw)"), {"pw": password.get_secret_value()}
        ).scalar_one()
        conn.execute(text(f'ALTER ROLE "{name}" LOGIN PASSWORD {quoted}'))


def _grant(conn: Connection, role: str, schema: str, privileges: str) -> None:
    statements = [
        f'GRANT USAGE ON SCHEMA {schema} TO "{role}"',
        f'GRANT {privileges} ON ALL TABLES IN SCHEMA {schema} TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {privileges} ON TABLES TO "{role}"',
    ]
    if privileges == WRITE:
        statements += [
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO "{role}"',
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f'GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
        ]
    for statement in statements:
        conn.execute(text(statement))
