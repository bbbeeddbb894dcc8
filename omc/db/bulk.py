"""Bulk upserts keyed by a table's primary key, on PostgreSQL and SQLite.

`upsert_rows(target, table, rows)` writes many rows at once and returns how many
rows it inserted or actually changed, so that storing the same data twice returns
0 the second time and touches nothing.

PostgreSQL: the rows are streamed with psycopg's `COPY ... FROM STDIN` into a
temporary staging table; then one `UPDATE ... FROM` changes the rows that differ and
one `INSERT ... SELECT ... WHERE NOT EXISTS` adds the new ones. Should another writer
add one of the keys in between, the pair is rolled back to a savepoint and one
`INSERT ... ON CONFLICT (primary key) DO UPDATE ... WHERE <row differs>` does the
work instead. Row-by-row inserts or large multi-row `VALUES` statements are tens of
times slower than `COPY`.

SQLite: one `executemany` of `INSERT ... ON CONFLICT DO UPDATE ... WHERE
<row differs>`, inside the caller's transaction.

Values go through the columns' own Python-side conversions first: `UtcDateTime`
rejects naive datetimes and stores UTC, JSON columns are serialised. Rows that
share a primary key within one call are collapsed, the last one winning, because
PostgreSQL refuses to update one row twice in one statement.
"""

import itertools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC
from functools import partial
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    and_,
    cast,
    exists,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from omc.db.types import UtcDateTime

__all__ = ["upsert_rows"]

Row = Mapping[str, Any]
_stage_numbers = itertools.count()
# SQLAlchemy type -> PostgreSQL type of the binary COPY encoding; order matters
# where one class derives from another (BigInteger from Integer).
_COPY_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (BigInteger, "int8"),
    (SmallInteger, "int2"),
    (Integer, "int4"),
    (Float, "float8"),
    (Numeric, "numeric"),
    (Boolean, "bool"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (JSON, "json"),
    (String, "text"),
)


def upsert_rows(
    target: Connection | Engine,
    table: Table | type[DeclarativeBase],
    rows: Iterable[Row],
    *,
    update_columns: Sequence[str] | None = None,
    compare_columns: Sequence[str] | None = None,
) -> int:
    """Insert rows, or update the existing rows with the same primary key.

    Args:
        target: a connection (its transaction is used, not committed) or an engine
            (one transaction is opened and committed).
        table: the table, or its declarative model class.
        rows: mappings of column name to value; every row has the same keys, and
            every primary-key column among them.
        update_columns: columns overwritten on a conflict; default every non-key
            column given in the rows.
        compare_columns: columns whose change makes an existing row count as
            changed; default `update_columns`. Leave out bookkeeping columns such
            as `collected_at` so that seeing the same values again is no change.

    Returns:
        The number of rows inserted plus the number of rows whose compared
        columns changed.
    """
    resolved = _table_of(table)
    unique = _dedupe(resolved, rows)
    if not unique:
        return 0
    columns = list(unique[0].keys())
    updates = _update_columns(resolved, columns, update_columns)
    compared = list(compare_columns) if compare_columns is not None else updates
    _check_columns(resolved, columns, updates, compared)
    if isinstance(target, Engine):
        with target.begin() as conn:
            return _upsert(conn, resolved, unique, columns, updates, compared)
    return _upsert(target, resolved, unique, columns, updates, compared)


def _table_of(table: Table | type[DeclarativeBase]) -> Table:
    if isinstance(table, Table):
        return table
    resolved = table.__table__
    if not isinstance(resolved, Table):
        raise TypeError(f"{table!r} is not mapped to a table")
    return resolved


def _key_names(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _dedupe(table: Table, rows: Iterable[Row]) -> list[Row]:
    rows = list(rows)
    try:
        keys = list(map(_picker(_key_names(table)), rows))
    except KeyError as exc:
        raise ValueError(
            f"row for {table.fullname} lacks primary-key column {exc.args[0]!r}"
        ) from None
    if len(set(keys)) == len(keys):
        return rows
    return list(dict(zip(keys, rows, strict=True)).values())


def _update_columns(
    table: Table, columns: list[str], requested: Sequence[str] | None
) -> list[str]:
    if requested is not None:
        return list(requested)
    keys = set(_key_names(table))
    return [name for name in columns if name not in keys]


def _check_columns(
    table: Table, columns: list[str], updates: list[str], compared: list[str]
) -> None:
    unknown = [name for name in columns if name not in table.c]
    if unknown:
        raise ValueError(f"{table.fullname} has no column(s) {unknown}")
    missing = [name for name in {*updates, *compared} if name not in columns]
    if missing:
        raise ValueError(f"update or compare column(s) {missing} are not in the rows")


def _upsert(
    conn: Connection,
    table: Table,
    rows: list[Row],
    columns: list[str],
    updates: list[str],
    compared: list[str],
) -> int:
    dialect = conn.dialect
    if dialect.name == "postgresql":
        return _upsert_postgres(conn, table, rows, columns, updates, compared)
    if dialect.name == "sqlite":
        return _upsert_sqlite(conn, table, rows, updates, compared)
    raise NotImplementedError(f"bulk upsert does not support {dialect.name}")


def _converters(
    table: Table, columns: list[str], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    """The columns' own bind conversions COPY would otherwise skip, one per column."""
    converters: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UtcDateTime):
            converters.append(_utc_converter(column_type, dialect))
        elif isinstance(column_type, TypeDecorator):
            converters.append(partial(column_type.process_bind_param, dialect=dialect))
        else:
            converters.append(None)
    return converters


def _utc_converter(column_type: UtcDateTime, dialect: Dialect) -> Callable[[Any], Any]:
    """`UtcDateTime`'s conversion, skipped for values already in UTC (the usual)."""
    convert = column_type.process_bind_param

    def to_utc(value: Any) -> Any:
        if value is None or getattr(value, "tzinfo", None) is UTC:
            return value
        return convert(value, dialect)

    return to_utc


def _copy_type(column_type: TypeEngine[Any]) -> str:
    """The PostgreSQL type name binary COPY encodes a column's values as."""
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    for kind, name in _COPY_TYPES:
        if isinstance(column_type, kind):
            if name == "timestamp" and getattr(column_type, "timezone", False):
                return "timestamptz"
            return name
    raise NotImplementedError(
        f"bulk upsert cannot COPY a {column_type!r} column: add it to _COPY_TYPES"
    )


def _upsert_postgres(
    conn: Connection,
    table: Table,
    rows: list[Row],
    columns: list[str],
    updates: list[str],
    compared: list[str],
) -> int:
    stage = Table(
        f"omc_stage_{next(_stage_numbers)}",
        MetaData(),
        *[Column(name, table.c[name].type) for name in columns],
        prefixes=["TEMPORARY"],
    )
    stage.create(conn)
    _copy_into(conn, stage.name, table, rows, columns)
    # Row estimates for the joins below; a fresh temporary table has none.
    conn.execute(text(f"ANALYZE {stage.name}"))
    try:
        with conn.begin_nested():
            changed = _update_then_insert(
                conn, table, stage, columns, updates, compared
            )
    except IntegrityError:
        # Another writer added one of these keys between our two statements.
        changed = _insert_on_conflict(conn, table, stage, columns, updates, compared)
    stage.drop(conn)
    return changed


def _keys_match(table: Table, stage: Table) -> ColumnElement[bool]:
    return and_(*(table.c[name] == stage.c[name] for name in _key_names(table)))


def _update_then_insert(
    conn: Connection,
    table: Table,
    stage: Table,
    columns: list[str],
    updates: list[str],
    compared: list[str],
) -> int:
    """Update the rows that differ, then insert the new ones.

    Two plain statements instead of one `INSERT ... ON CONFLICT`: PostgreSQL's
    speculative insertion for ON CONFLICT costs about as much again as the insert
    itself, which halves the write rate of new rows.
    """
    updated = 0
    if updates and compared:
        update = (
            table.update()
            .where(
                _keys_match(table, stage),
                _differs(table, stage.c, compared, jsonb=True),
            )
            .values({name: stage.c[name] for name in updates})
        )
        updated = conn.execute(update).rowcount
    new_rows = select(*[stage.c[name] for name in columns]).where(
        ~exists().where(_keys_match(table, stage))
    )
    insert = table.insert().from_select(columns, new_rows)
    inserted = conn.execute(insert.execution_options(preserve_rowcount=True)).rowcount
    return int(updated) + int(inserted)


def _insert_on_conflict(
    conn: Connection,
    table: Table,
    stage: Table,
    columns: list[str],
    updates: list[str],
    compared: list[str],
) -> int:
    """One `INSERT ... ON CONFLICT` statement: slower, but safe against racing writers."""
    insert = postgresql.insert(table).from_select(
        columns, select(*[stage.c[name] for name in columns])
    )
    statement = insert.on_conflict_do_nothing(index_elements=_key_names(table))
    if updates and compared:
        statement = insert.on_conflict_do_update(
            index_elements=_key_names(table),
            set_={name: insert.excluded[name] for name in updates},
            where=_differs(table, insert.excluded, compared, jsonb=True),
        )
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    changed = conn.execute(statement.execution_options(preserve_rowcount=True)).rowcount
    return int(changed)


def _copy_into(
    conn: Connection, stage_name: str, table: Table, rows: list[Row], columns: list[str]
) -> None:
    quote = conn.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(name) for name in columns)
    copy_types = [_copy_type(table.c[name].type) for name in columns]
    converters = [
        (index, convert)
        for index, convert in enumerate(_converters(table, columns, conn.dialect))
        if convert is not None
    ]
    pick = _picker(columns)
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the database connection is closed")
    # Binary COPY: psycopg encodes each value in C, several times faster than text.
    sql = f"COPY {quote(stage_name)} ({column_list}) FROM STDIN (FORMAT BINARY)"
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(copy_types)
            for row in rows:
                values = pick(row)
                if converters:
                    values = list(values)
                    for index, convert in converters:
                        values[index] = convert(values[index])
                copy.write_row(values)
    except psycopg.Error as exc:
        # The raw cursor bypasses SQLAlchemy: raise what its own statements raise.
        raise DBAPIError.instance(
            sql, None, exc, psycopg.Error, dialect=conn.dialect
        ) from exc


def _picker(names: Sequence[str]) -> Callable[[Row], Sequence[Any]]:
    """A fast function that returns a row's values for `names`, as a sequence."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return operator.itemgetter(*names)


def _differs(
    table: Table, excluded: Any, compared: list[str], *, jsonb: bool
) -> ColumnElement[bool]:
    conditions = []
    for name in compared:
        current, incoming = table.c[name], excluded[name]
        # PostgreSQL's json type has no equality operator; jsonb compares by value.
        if jsonb and isinstance(current.type, JSON):
            conditions.append(
                cast(current, JSONB).is_distinct_from(cast(incoming, JSONB))
            )
        else:
            conditions.append(current.is_distinct_from(incoming))
    return or_(*conditions)


def _upsert_sqlite(
    conn: Connection,
    table: Table,
    rows: list[Row],
    updates: list[str],
    compared: list[str],
) -> int:
    insert = sqlite.insert(table)
    statement = insert.on_conflict_do_nothing(index_elements=_key_names(table))
    if updates and compared:
        statement = insert.on_conflict_do_update(
            index_elements=_key_names(table),
            set_={name: insert.excluded[name] for name in updates},
            where=_differs(table, insert.excluded, compared, jsonb=False),
        )
    result = conn.execute(
        statement.execution_options(preserve_rowcount=True),
        [dict(row) for row in rows],
    )
    return int(result.rowcount)
