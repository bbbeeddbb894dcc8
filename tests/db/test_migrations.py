from sqlalchemy import Engine, inspect

from omc.db import migrate
from omc.db.base import Base
from omc.db.engine import create_db_engine
from omc.settings import Settings


def tables(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    if engine.dialect.name == "sqlite":
        return set(inspector.get_table_names()) - {"alembic_version"}
    return {
        f"{schema}.{name}"
        for schema in ("app", "collectors", "lab")
        if schema in inspector.get_schema_names()
        for name in inspector.get_table_names(schema=schema)
    }


def model_tables(*, with_schema: bool) -> set[str]:
    return {
        f"{t.schema}.{t.name}" if with_schema else t.name
        for t in Base.metadata.tables.values()
    }


def test_upgrade_downgrade_upgrade_on_postgres(pg: Engine) -> None:
    migrate.downgrade(pg, "base")
    assert tables(pg) == set()
    assert migrate.current_revision(pg) is None

    migrate.upgrade(pg)
    assert tables(pg) == model_tables(with_schema=True)
    assert migrate.is_at_head(pg)

    migrate.downgrade(pg, "base")
    migrate.upgrade(pg)
    assert tables(pg) == model_tables(with_schema=True)


def test_every_revision_steps_down_and_up_on_postgres(pg: Engine) -> None:
    revisions = [migrate.head_revision()]
    while True:
        migrate.downgrade(pg, "-1")
        current = migrate.current_revision(pg)
        if current is None:
            break
        revisions.append(current)

    for _ in revisions:
        migrate.upgrade(pg, "+1")

    assert migrate.is_at_head(pg)
    assert len(revisions) >= 2


def test_upgrade_twice_changes_nothing(pg: Engine) -> None:
    before = tables(pg)

    migrate.upgrade(pg)

    assert tables(pg) == before
    assert migrate.is_at_head(pg)


def test_sqlite_has_the_same_tables_without_schema_names(
    embedded_settings: Settings,
) -> None:
    engine = create_db_engine(embedded_settings)

    migrate.upgrade(engine)
    assert tables(engine) == model_tables(with_schema=False)
    migrate.downgrade(engine, "base")
    assert tables(engine) == set()
    migrate.upgrade(engine)

    assert migrate.is_at_head(engine)
    assert (embedded_settings.data_dir / "omc.db").exists()
