"""Each database role connects and may do exactly what its purpose needs."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from omc.db.roles import ROLES, create_roles

INSERT_RUN = (
    "INSERT INTO collectors.collector_runs"
    " (collector, started_at, status, fetched, stored, skipped)"
    " VALUES ('coinspot', :t, 'ok', 0, 0, 0)"
)


@pytest.fixture
def roles(pg: Engine) -> Iterator[Engine]:
    """The roles created twice (idempotent), plus a lab table created afterwards."""
    create_roles(
        pg, {"collector_user": None, "agent_user": None, "readonly_user": None}
    )
    create_roles(
        pg, {"collector_user": None, "agent_user": None, "readonly_user": None}
    )
    with pg.begin() as conn:
        # Created after the grants: default privileges must cover it.
        conn.execute(text("CREATE TABLE lab.role_probe (id integer)"))
    yield pg
    with pg.begin() as conn:
        conn.execute(text("DROP TABLE lab.role_probe"))


def connect_as(pg: Engine, role: str) -> Engine:
    return create_engine(make_url(pg.url).set(username=role, password=None))


def can(engine: Engine, statement: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), {"t": datetime.now(UTC)})
    except ProgrammingError as exc:
        assert "permission denied" in str(exc)
        return False
    return True


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "collector_user",
            {
                "write collectors": True,
                "read collectors": True,
                "read lab": False,
                "write lab": False,
                "read app": False,
            },
        ),
        (
            "agent_user",
            {
                "write collectors": False,
                "read collectors": True,
                "read lab": True,
                "write lab": True,
                "read app": False,
            },
        ),
        (
            "readonly_user",
            {
                "write collectors": False,
                "read collectors": True,
                "read lab": True,
                "write lab": False,
                "read app": False,
            },
        ),
    ],
)
def test_each_role_may_do_only_what_it_needs(
    roles: Engine, role: str, expected: dict[str, bool]
) -> None:
    engine = connect_as(roles, role)
    statements = {
        "write collectors": INSERT_RUN,
        "read collectors": "SELECT count(*) FROM collectors.collector_runs",
        "read lab": "SELECT count(*) FROM lab.role_probe",
        "write lab": "INSERT INTO lab.role_probe VALUES (1)",
        "read app": "SELECT count(*) FROM app.users",
    }
    try:
        actual = {name: can(engine, sql) for name, sql in statements.items()}
    finally:
        engine.dispose()

    assert actual == expected


def test_every_role_can_log_in(roles: Engine) -> None:
    for role in ROLES:
        engine = connect_as(roles, role.name)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == role.name
        engine.dispose()


def test_a_configured_password_is_set_on_the_role(pg: Engine) -> None:
    create_roles(pg, {"readonly_user": SecretStr("it's a 'quoted' pw")})

    with pg.connect() as conn:
        has_password = conn.execute(
            text(
                "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'readonly_user'"
            )
        ).scalar()

    assert has_password is True
