"""One run of one collector, from the lock to the run record.

`CollectorRunner.run(collector)` never raises; it returns a `RunOutcome`:

1. a collector with a `disabled_reason` records a `disabled` run and stops;
2. take the collector's lock (`omc.collectors.lock`), or fail with `LockHeld`
   without touching anything; close any run row a dead run left `running`;
3. insert the run row (`running`), then fetch and parse within the run budget;
4. upsert every table and mark the run `ok` in ONE transaction, so a database
   failure leaves no half-written data and no `ok` without its data;
5. cache the latest values in Redis db 0 with a TTL of two cadences (a Redis
   failure is a WARNING: the data is stored already);
6. on any failure record the run `failed`, retrying while the database is away;
   if it stays away, the next run closes the row; finally release the lock.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from omc.cache import Store, cache_key
from omc.collectors.base import Collector, CollectResult
from omc.collectors.errors import CollectorError, LockHeld, ProviderUnavailable
from omc.collectors.lock import acquire_lock, new_holder_id, release_lock
from omc.collectors.runs import close_stale_runs, finish_run, record_disabled, start_run
from omc.db.bulk import upsert_rows
from omc.errors import CacheError, StorageError
from omc.logs import bind_context

__all__ = ["LOCK_MARGIN_S", "CollectorRunner", "RunOutcome", "latest_cache_key"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The lock outlives the run budget by this much, for the final database writes.
LOCK_MARGIN_S = 60
CACHE_TTL_CADENCES = 2
# A change of this column alone is no change: it only says when we looked.
BOOKKEEPING_COLUMNS = frozenset({"collected_at"})


@dataclass(frozen=True)
class RunOutcome:
    """How one run ended; `summary()` is what `omc collect --json` prints."""

    collector: str
    status: str
    fetched: int = 0
    stored: int = 0
    skipped: int = 0
    duration_s: float = 0.0
    error: str | None = None
    run_id: int | None = None

    def summary(self) -> dict[str, Any]:
        """The outcome without the run id, durations rounded to milliseconds."""
        fields = asdict(self)
        del fields["run_id"]
        fields["duration_s"] = round(self.duration_s, 3)
        return fields


def latest_cache_key(collector: str) -> str:
    """The Redis key holding a collector's latest values."""
    return cache_key("collectors", "latest", collector)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class CollectorRunner:
    """Runs collectors against one database and one cache store."""

    def __init__(
        self,
        engine: Engine,
        cache: Store,
        *,
        clock: Callable[[], datetime] = _utc_now,
        db_retries: int = 5,
        db_retry_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._engine = engine
        self._cache = cache
        self._clock = clock
        self._db_retries = db_retries
        self._db_retry_delay_s = db_retry_delay_s
        self._sleep = sleep

    def run(self, collector: Collector) -> RunOutcome:
        """Run the collector once; never raises, the outcome says what happened."""
        started = time.monotonic()
        with bind_context(collector=collector.name):
            try:
                outcome = self._run(collector, started)
            except LockHeld as exc:
                # An overlap is expected now and then (a manual run during a
                # scheduled one): worth a warning, not an error.
                outcome = self._outcome(collector, started, "failed", error=str(exc))
                logger.warning("collector run not started", extra=outcome.summary())
                return outcome
            except (CollectorError, StorageError) as exc:
                outcome = self._outcome(collector, started, "failed", error=str(exc))
            except Exception as exc:
                # One broken collector must never stop the others: log and go on.
                logger.exception("collector run crashed")
                error = f"unexpected {type(exc).__name__}: {exc}"
                outcome = self._outcome(collector, started, "failed", error=error)
            self._log(outcome)
        return outcome

    def _run(self, collector: Collector, started: float) -> RunOutcome:
        now = self._clock()
        reason = collector.disabled_reason()
        if reason is not None:
            with self._transaction() as conn:
                run_id = record_disabled(conn, collector.name, reason=reason, now=now)
            return self._outcome(
                collector, started, "disabled", error=reason, run_id=run_id
            )

        holder = new_holder_id()
        ttl_s = collector.settings.collector_run_budget_s + LOCK_MARGIN_S
        with self._transaction() as conn:
            if not acquire_lock(
                conn, collector.name, holder=holder, ttl_s=ttl_s, now=now
            ):
                raise LockHeld(
                    f"{collector.name}: another run holds the lock; this one did "
                    "not start"
                )
            closed = close_stale_runs(conn, collector.name, now=now)
            run_id = start_run(conn, collector.name, now=now)
        if closed:
            logger.warning("stale runs closed", extra={"runs": closed})
        try:
            return self._fetch_and_store(collector, run_id, now, started)
        finally:
            self._retrying_db(
                "lock not released",
                lambda conn: release_lock(conn, collector.name, holder=holder),
            )

    def _fetch_and_store(
        self, collector: Collector, run_id: int, now: datetime, started: float
    ) -> RunOutcome:
        result = CollectResult()
        try:
            result = asyncio.run(self._bounded_fetch(collector, now))
            with self._transaction() as conn:
                stored = self._store(conn, result)
                finish_run(
                    conn,
                    run_id,
                    status="ok",
                    now=self._clock(),
                    fetched=result.fetched,
                    stored=stored,
                    skipped=result.skipped,
                )
        except (CollectorError, StorageError) as exc:
            return self._fail(collector, run_id, started, result, str(exc))
        except Exception as exc:
            logger.exception("collector run crashed", extra={"run_id": run_id})
            error = f"unexpected {type(exc).__name__}: {exc}"
            return self._fail(collector, run_id, started, result, error)
        self._cache_latest(collector, result, now)
        return self._outcome(
            collector,
            started,
            "ok",
            fetched=result.fetched,
            stored=stored,
            skipped=result.skipped,
            run_id=run_id,
        )

    async def _bounded_fetch(
        self, collector: Collector, now: datetime
    ) -> CollectResult:
        budget_s = collector.settings.collector_run_budget_s
        try:
            return await asyncio.wait_for(collector.fetch(now=now), timeout=budget_s)
        except TimeoutError:
            raise ProviderUnavailable(
                f"{collector.name}: the run took longer than its budget of "
                f"{budget_s:g} s"
            ) from None

    @staticmethod
    def _store(conn: Connection, result: CollectResult) -> int:
        stored = 0
        for model, rows in result.rows.items():
            if not rows:
                continue
            unchanging = BOOKKEEPING_COLUMNS | {
                column.name for column in inspect(model).primary_key
            }
            compared = [name for name in rows[0] if name not in unchanging]
            stored += upsert_rows(conn, model, rows, compare_columns=compared)
        return stored

    def _fail(
        self,
        collector: Collector,
        run_id: int,
        started: float,
        result: CollectResult,
        error: str,
    ) -> RunOutcome:
        self._retrying_db(
            "run outcome not recorded",
            lambda conn: finish_run(
                conn,
                run_id,
                status="failed",
                now=self._clock(),
                fetched=result.fetched,
                skipped=result.skipped,
                error=error,
            ),
        )
        return self._outcome(
            collector,
            started,
            "failed",
            fetched=result.fetched,
            skipped=result.skipped,
            error=error,
            run_id=run_id,
        )

    def _cache_latest(
        self, collector: Collector, result: CollectResult, now: datetime
    ) -> None:
        if not result.latest:
            return
        payload = json.dumps(
            {"collected_at": now.isoformat(), "values": result.latest}, default=str
        )
        try:
            self._cache.set(
                latest_cache_key(collector.name),
                payload,
                ttl_s=collector.cadence_s * CACHE_TTL_CADENCES,
            )
        except CacheError as exc:
            logger.warning(
                "latest values not cached",
                extra={"collector": collector.name, "error": str(exc)},
            )

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(
                f"database statement failed: {type(exc).__name__}"
            ) from exc

    def _retrying_db(self, event: str, action: Callable[[Connection], T]) -> None:
        """Run `action` in a transaction, retrying while the database is away."""
        for attempt in range(self._db_retries + 1):
            try:
                with self._transaction() as conn:
                    action(conn)
                return
            except StorageError as exc:
                if attempt == self._db_retries:
                    logger.error(event, extra={"error": str(exc)})
                    return
                self._sleep(self._db_retry_delay_s)

    @staticmethod
    def _outcome(
        collector: Collector, started: float, status: str, **fields: Any
    ) -> RunOutcome:
        return RunOutcome(
            collector=collector.name,
            status=status,
            duration_s=time.monotonic() - started,
            **fields,
        )

    @staticmethod
    def _log(outcome: RunOutcome) -> None:
        fields = {**outcome.summary(), "run_id": outcome.run_id}
        if outcome.status == "failed":
            logger.error("collector run failed", extra=fields)
        else:
            logger.info("collector run finished", extra=fields)
