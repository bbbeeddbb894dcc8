from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
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


CHECKPOINT_TABLES = {
    "lab.checkpoints",
    "lab.checkpoint_blobs",
    "lab.checkpoint_writes",
    "lab.checkpoint_migrations",
}


def model_tables(*, with_schema: bool) -> set[str]:
    """Every table the models define, plus LangGraph's checkpoint tables on PostgreSQL."""
    if not with_schema:
        return {t.name for t in Base.metadata.tables.values()}
    return {
        f"{t.schema}.{t.name}" for t in Base.metadata.tables.values()
    } | CHECKPOINT_TABLES


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


def test_the_models_match_the_migrations(pg: Engine) -> None:
    with pg.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_schemas": True})
        differences = compare_metadata(context, Base.metadata)

    assert [d for d in differences if not _is_checkpoint_table(d)] == []


def _is_checkpoint_table(difference: object) -> bool:
    # LangGraph's tables are not models: migration 0004 lets its saver create them.
    if not isinstance(difference, tuple) or difference[0] not in {
        "remove_table",
        "remove_index",
    }:
        return False
    table = difference[1] if difference[0] == "remove_table" else difference[1].table
    return f"lab.{table.name}" in CHECKPOINT_TABLES


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
