"""The declarative base shared by every table, and the schema names."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

__all__ = ["APP_SCHEMA", "COLLECTORS_SCHEMA", "LAB_SCHEMA", "SCHEMAS", "Base"]

COLLECTORS_SCHEMA = "collectors"
LAB_SCHEMA = "lab"
# Accounts live apart from market and lab data so that read-only roles never see
# password hashes.
APP_SCHEMA = "app"
SCHEMAS = (APP_SCHEMA, COLLECTORS_SCHEMA, LAB_SCHEMA)

# Stable constraint names keep Alembic migrations identical on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table model; table names are unique across schemas."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
