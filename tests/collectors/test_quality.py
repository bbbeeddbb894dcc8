from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from omc.collectors.coinspot import CoinSpotCollector
from omc.collectors.exporter import CollectorMetricsExporter
from omc.collectors.quality import assess
from omc.db.models import CollectorRun
from omc.settings import Settings

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
CADENCE = timedelta(seconds=300)


class DisabledCoinSpot(CoinSpotCollector):
    def disabled_reason(self) -> str | None:
        return "switched off"


def add_runs(engine: Engine, *runs: tuple[str, int, int]) -> None:
    """Add finished coinspot runs, oldest first, one cadence apart, ending at NOW."""
    start = NOW - CADENCE * len(runs)
    with engine.begin() as conn:
        for index, (status, fetched, skipped) in enumerate(runs):
            started = start + CADENCE * index
            conn.execute(
                insert(CollectorRun).values(
                    collector="coinspot",
                    started_at=started,
                    finished_at=started + timedelta(seconds=4),
                    status=status,
                    fetched=fetched,
                    stored=fetched - skipped,
                    skipped=skipped,
                )
            )


def quality_of(engine: Engine, collector: CoinSpotCollector, *, now: datetime):
    with Session(engine) as session:
        return assess(session, collector, now=now)


@pytest.fixture
def coinspot(pg_settings: Settings) -> CoinSpotCollector:
    return CoinSpotCollector(pg_settings)


def test_a_collector_that_never_succeeded_is_stale(
    pg: Engine, coinspot: CoinSpotCollector
) -> None:
    quality = quality_of(pg, coinspot, now=NOW)

    assert quality.stale
    assert quality.last_run is None
    assert quality.completeness_ratio is None


def test_a_recent_success_is_fresh_and_three_cadences_later_stale(
    pg: Engine, coinspot: CoinSpotCollector
) -> None:
    add_runs(pg, ("ok", 10, 0))

    fresh = quality_of(pg, coinspot, now=NOW)
    later = quality_of(pg, coinspot, now=NOW + 3 * CADENCE)

    assert not fresh.stale
    assert later.stale


def test_a_disabled_collector_is_never_stale(pg: Engine, pg_settings: Settings) -> None:
    quality = quality_of(pg, DisabledCoinSpot(pg_settings), now=NOW)

    assert not quality.stale
    assert quality.disabled_reason == "switched off"


def test_completeness_compares_the_latest_run_with_the_median_of_successes(
    pg: Engine, coinspot: CoinSpotCollector
) -> None:
    add_runs(pg, ("ok", 100, 0), ("ok", 90, 0), ("ok", 110, 0), ("ok", 50, 5))

    quality = quality_of(pg, coinspot, now=NOW)

    assert quality.completeness_ratio == 0.5
    assert quality.malformed_ratio == 0.1


def test_consecutive_failures_count_failed_runs_since_the_last_success(
    pg: Engine, coinspot: CoinSpotCollector
) -> None:
    add_runs(pg, ("failed", 0, 0), ("ok", 10, 0), ("failed", 0, 0), ("failed", 0, 0))

    quality = quality_of(pg, coinspot, now=NOW)

    assert quality.consecutive_failures == 2
    assert quality.runs_by_status == {"ok": 1, "failed": 3, "disabled": 0}
    assert quality.last_success_at == NOW - 3 * CADENCE + timedelta(seconds=4)


def test_exporter_yields_every_collector_family_from_the_run_records(
    pg: Engine, pg_settings: Settings
) -> None:
    add_runs(pg, ("ok", 100, 0), ("ok", 80, 8))
    exporter = CollectorMetricsExporter(pg, pg_settings, clock=lambda: NOW)

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in exporter.collect()
        for sample in family.samples
        if sample.labels.get("collector") == "coinspot"
    }

    def value(name: str, **labels: str) -> float:
        return samples[
            (name, tuple(sorted({"collector": "coinspot", **labels}.items())))
        ]

    assert value("omc_collector_runs_total", status="ok") == 2
    assert value("omc_collector_runs_total", status="failed") == 0
    assert (
        value("omc_collector_last_success_timestamp_seconds")
        == (NOW - CADENCE + timedelta(seconds=4)).timestamp()
    )
    assert value("omc_collector_last_run_duration_seconds") == 4
    assert value("omc_collector_last_run_records", kind="fetched") == 80
    assert value("omc_collector_last_run_records", kind="stored") == 72
    assert value("omc_collector_last_run_records", kind="skipped") == 8
    assert value("omc_collector_consecutive_failures") == 0
    assert value("omc_collector_stale") == 0
    assert value("omc_collector_completeness_ratio") == 0.8
    assert value("omc_collector_malformed_ratio") == 0.1


def test_exporter_yields_empty_families_when_the_database_is_down(
    pg_settings: Settings,
) -> None:
    from sqlalchemy import create_engine

    dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    exporter = CollectorMetricsExporter(dead, pg_settings)

    families = list(exporter.collect())

    assert families
    assert all(family.samples == [] for family in families)
