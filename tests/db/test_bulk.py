from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import DataError, DBAPIError

from omc.db import migrate
from omc.db.bulk import upsert_rows
from omc.db.engine import create_db_engine
from omc.db.models import ChainTvl, PriceSnapshot, ProtocolTvl
from omc.settings import Settings

BUCKET = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
SEEN = datetime(2026, 12, 3, 13, 2, 7, tzinfo=UTC)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A migrated engine on PostgreSQL and on SQLite in turn."""
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def protocol(slug: str, tvl: float | None, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "slug": slug,
        "bucket_at": BUCKET,
        "name": slug.title(),
        "symbol": None,
        "category": "Dexs",
        "chains": ["Ethereum", "Arbitrum"],
        "tvl_usd": tvl,
        "change_1h_pct": None,
        "change_1d_pct": 0.5,
        "change_7d_pct": -1.25,
        "mcap_usd": None,
        "collected_at": SEEN,
    }
    row.update(extra)
    return row


def test_upsert_inserts_new_rows_and_counts_them(engine: Engine) -> None:
    rows = [protocol("uniswap", 5e9), protocol("aave", 1.2e10)]

    stored = upsert_rows(engine, ProtocolTvl, rows)

    assert stored == 2
    with engine.connect() as conn:
        found = conn.execute(select(ProtocolTvl.slug, ProtocolTvl.chains)).all()
    assert sorted(found) == [
        ("aave", ["Ethereum", "Arbitrum"]),
        ("uniswap", ["Ethereum", "Arbitrum"]),
    ]


def test_upsert_of_identical_rows_returns_zero_and_changes_nothing(
    engine: Engine,
) -> None:
    rows = [protocol("uniswap", 5e9), protocol("aave", 1.2e10)]
    upsert_rows(engine, ProtocolTvl, rows)

    stored = upsert_rows(engine, ProtocolTvl, rows)

    assert stored == 0


def test_upsert_counts_and_applies_only_rows_that_changed(engine: Engine) -> None:
    upsert_rows(engine, ProtocolTvl, [protocol("uniswap", 5e9), protocol("aave", 1)])

    stored = upsert_rows(
        engine,
        ProtocolTvl,
        [
            protocol("uniswap", 5e9),
            protocol("aave", 2, chains=["Ethereum"]),
            protocol("curve", None),
        ],
    )

    assert stored == 2
    with engine.connect() as conn:
        aave = conn.execute(
            select(ProtocolTvl.tvl_usd, ProtocolTvl.chains).where(
                ProtocolTvl.slug == "aave"
            )
        ).one()
    assert tuple(aave) == (2, ["Ethereum"])


def test_upsert_ignores_changes_outside_the_compared_columns(engine: Engine) -> None:
    row = {
        "exchange": "coinspot",
        "coin": "BTC",
        "bucket_at": BUCKET,
        "quote": "AUD",
        "bid": 1.0,
        "ask": 2.0,
        "last": 1.5,
        "collected_at": SEEN,
    }
    upsert_rows(engine, PriceSnapshot, [row])
    later = {**row, "collected_at": SEEN + timedelta(seconds=30)}

    stored = upsert_rows(
        engine,
        PriceSnapshot,
        [later],
        compare_columns=["quote", "bid", "ask", "last"],
    )

    assert stored == 0


def test_upsert_stores_aware_times_as_utc(engine: Engine) -> None:
    sydney = timezone(timedelta(hours=11))
    row = {
        "chain": "Ethereum",
        "bucket_at": BUCKET.astimezone(sydney),
        "token_symbol": "ETH",
        "tvl_usd": 6.1e10,
        "collected_at": SEEN.astimezone(sydney),
    }

    upsert_rows(engine, ChainTvl, [row])

    with engine.connect() as conn:
        bucket = conn.execute(select(ChainTvl.bucket_at)).scalar_one()
    assert bucket == BUCKET
    assert bucket.utcoffset() == timedelta(0)


def test_upsert_rejects_naive_times(engine: Engine) -> None:
    row = {
        "chain": "Ethereum",
        "bucket_at": BUCKET.replace(tzinfo=None),
        "token_symbol": None,
        "tvl_usd": 1.0,
        "collected_at": SEEN,
    }

    with pytest.raises(Exception, match="naive datetime"):
        upsert_rows(engine, ChainTvl, [row])


def test_upsert_keeps_the_last_of_rows_sharing_a_key(engine: Engine) -> None:
    rows = [protocol("aave", 1.0), protocol("aave", 3.0)]

    stored = upsert_rows(engine, ProtocolTvl, rows)

    assert stored == 1
    with engine.connect() as conn:
        assert conn.execute(select(ProtocolTvl.tvl_usd)).scalar_one() == 3.0


def test_upsert_of_no_rows_returns_zero(engine: Engine) -> None:
    assert upsert_rows(engine, ProtocolTvl, []) == 0


def test_upsert_inside_a_rolled_back_transaction_leaves_nothing(
    engine: Engine,
) -> None:
    with engine.connect() as conn:
        transaction = conn.begin()
        upsert_rows(conn, ProtocolTvl, [protocol("aave", 1.0)])
        transaction.rollback()

    with engine.connect() as conn:
        assert conn.execute(select(ProtocolTvl.slug)).all() == []


def test_upsert_rejects_unknown_columns(engine: Engine) -> None:
    with pytest.raises(ValueError, match="no column"):
        upsert_rows(engine, ProtocolTvl, [protocol("aave", 1.0, colour="red")])


def test_upsert_stores_unicode_and_huge_numbers(engine: Engine) -> None:
    row = protocol("ünï-swap", 1.7e308, name="Üni 🦄 swap", chains=["Ζ", "ラ"])

    upsert_rows(engine, ProtocolTvl, [row])

    with engine.connect() as conn:
        found = conn.execute(
            select(ProtocolTvl.name, ProtocolTvl.tvl_usd, ProtocolTvl.chains)
        ).one()
    assert tuple(found) == ("Üni 🦄 swap", 1.7e308, ["Ζ", "ラ"])


def test_a_value_postgres_refuses_raises_the_usual_sqlalchemy_error(
    pg: Engine,
) -> None:
    row = protocol("x" * 200, 1.0)

    with pytest.raises(DBAPIError) as caught:
        upsert_rows(pg, ProtocolTvl, [row])

    assert isinstance(caught.value, DataError)
    with pg.connect() as conn:
        assert conn.execute(select(ProtocolTvl.slug)).all() == []


def test_a_key_another_writer_adds_meanwhile_is_updated_not_refused(pg: Engine) -> None:
    """A second connection inserts one of our keys and commits while ours waits on it."""
    import threading
    import time

    from sqlalchemy import insert

    other = pg.connect()
    other_tx = other.begin()
    other.execute(insert(ProtocolTvl), [protocol("raced", 1.0)])

    def commit_soon() -> None:
        time.sleep(0.5)
        other_tx.commit()

    committer = threading.Thread(target=commit_soon)
    committer.start()
    try:
        with pg.begin() as conn:
            stored = upsert_rows(
                conn,
                ProtocolTvl,
                [protocol("raced", 2.0), protocol("fresh", 3.0)],
            )
    finally:
        committer.join()
        other.close()

    with pg.connect() as conn:
        tvl = dict(conn.execute(select(ProtocolTvl.slug, ProtocolTvl.tvl_usd)).all())
    assert stored == 2
    assert tvl == {"raced": 2.0, "fresh": 3.0}
