"""Collector metrics for Prometheus, read from the run records at scrape time.

Runs happen in CronJob pods, workers or `omc collect`, which live too briefly or
too far away to be scraped; their run records are shared, so the API computes every
family of `omc.metrics.COLLECTOR_FAMILIES` from the database whenever /metrics is
scraped. `install_exporter` registers the exporter on `omc.metrics.REGISTRY`.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from omc.collectors.quality import CollectorQuality, assess
from omc.collectors.registry import build_collector, collector_names
from omc.metrics import COLLECTOR_FAMILIES, REGISTRY
from omc.settings import Settings

__all__ = ["CollectorMetricsExporter", "install_exporter"]

logger = logging.getLogger(__name__)

_install_lock = threading.Lock()
_installed: list["CollectorMetricsExporter"] = []


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CollectorMetricsExporter:
    """A Prometheus custom collector yielding the collector families."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    def describe(self) -> list[Metric]:
        """The families without samples, so registering never queries the database."""
        return list(_empty_families().values())

    def collect(self) -> Iterator[Metric]:
        """Every collector family, with one sample set per registered collector."""
        started = time.perf_counter()
        families = _empty_families()
        now = self._clock()
        try:
            with Session(self._engine) as session:
                for name in collector_names():
                    collector = build_collector(name, self._settings)
                    _add_samples(families, assess(session, collector, now=now))
        except SQLAlchemyError as exc:
            logger.warning(
                "collector metrics unavailable", extra={"error": type(exc).__name__}
            )
            return iter(list(_empty_families().values()))
        logger.debug(
            "collector metrics read",
            extra={"duration_s": round(time.perf_counter() - started, 4)},
        )
        return iter(list(families.values()))


def _empty_families() -> dict[str, CounterMetricFamily | GaugeMetricFamily]:
    families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
    for name, (kind, help_text, labels) in COLLECTOR_FAMILIES.items():
        family_class = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        families[name] = family_class(name, help_text, labels=list(labels))
    return families


def _add_samples(
    families: dict[str, CounterMetricFamily | GaugeMetricFamily],
    quality: CollectorQuality,
) -> None:
    name = quality.collector
    for status, count in quality.runs_by_status.items():
        families["omc_collector_runs"].add_metric([name, status], count)
    if quality.last_success_at is not None:
        families["omc_collector_last_success_timestamp_seconds"].add_metric(
            [name], quality.last_success_at.timestamp()
        )
    run = quality.last_finished
    if run is not None:
        duration_s = quality.last_run_duration_s
        if duration_s is not None:
            families["omc_collector_last_run_duration_seconds"].add_metric(
                [name], duration_s
            )
        for kind in ("fetched", "stored", "skipped"):
            families["omc_collector_last_run_records"].add_metric(
                [name, kind], getattr(run, kind)
            )
    families["omc_collector_consecutive_failures"].add_metric(
        [name], quality.consecutive_failures
    )
    families["omc_collector_stale"].add_metric([name], 1.0 if quality.stale else 0.0)
    if quality.completeness_ratio is not None:
        families["omc_collector_completeness_ratio"].add_metric(
            [name], quality.completeness_ratio
        )
    if quality.malformed_ratio is not None:
        families["omc_collector_malformed_ratio"].add_metric(
            [name], quality.malformed_ratio
        )


def install_exporter(engine: Engine, settings: Settings) -> CollectorMetricsExporter:
    """Register an exporter on the shared registry, replacing any earlier one.

    One process serves one API; tests build many apps in one process, and the
    registry refuses two collectors with the same metric names.
    """
    exporter = CollectorMetricsExporter(engine, settings)
    with _install_lock:
        for previous in _installed:
            REGISTRY.unregister(previous)
        _installed[:] = [exporter]
        REGISTRY.register(exporter)
    return exporter
