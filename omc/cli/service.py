"""The long-running processes: `omc up`, `omc api`, `omc worker`, `omc scheduler`."""

import logging
import threading
from typing import TYPE_CHECKING

from omc.cli._app import HostOption, PortOption, app, start

if TYPE_CHECKING:
    from omc.probe_server import ProbeServer
    from omc.runtime import Runtime
    from omc.scheduler import Scheduler

__all__: list[str] = []

logger = logging.getLogger(__name__)


def _scheduler(runtime: "Runtime") -> "Scheduler":
    from omc.cache import CacheRole
    from omc.scheduler import Scheduler
    from omc.tasks import periodic_jobs

    return Scheduler(
        runtime.queue, runtime.store(CacheRole.APP), periodic_jobs(runtime.settings)
    )


def _serve(runtime: "Runtime", host: str | None, port: int | None) -> None:
    import uvicorn

    from omc.api.app import create_app

    settings = runtime.settings
    host, port = host or settings.api_host, port or settings.api_port
    application = create_app(runtime)
    logger.info("api listening", extra={"host": host, "port": port})
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _serve_probes(runtime: "Runtime") -> "ProbeServer | None":
    """Serve /metrics, /health and /ready for a process without the API."""
    from omc.probe_server import ProbeServer
    from omc.readiness import failing, run_checks

    settings = runtime.settings
    if not settings.metrics_port:
        return None
    server = ProbeServer(
        settings.api_host,
        settings.metrics_port,
        ready=lambda: failing(run_checks(runtime)),
    )
    server.start()
    return server


@app.command()
def up(host: HostOption = None, port: PortOption = None) -> None:
    """Run API, worker and scheduler in one process; migrates the database first."""
    from omc.db import migrate
    from omc.queue import QueueWorker

    runtime = start()
    migrate.upgrade(runtime.engine)
    worker_threads = QueueWorker(runtime.queue, threads=runtime.settings.worker_threads)
    schedule = _scheduler(runtime)
    schedule_thread = threading.Thread(target=schedule.run_forever, name="scheduler")
    worker_threads.start_background()
    schedule_thread.start()
    try:
        _serve(runtime, host, port)
    finally:
        schedule.stop()
        worker_threads.stop()
        schedule_thread.join()
        runtime.close()


@app.command()
def api(host: HostOption = None, port: PortOption = None) -> None:
    """Run the API server."""
    runtime = start()
    try:
        _serve(runtime, host, port)
    finally:
        runtime.close()


@app.command()
def worker() -> None:
    """Run queued tasks until stopped; serves probes and /metrics on OMC_METRICS_PORT."""
    from omc.queue import QueueWorker

    runtime = start()
    probes = _serve_probes(runtime)
    try:
        QueueWorker(
            runtime.queue, threads=runtime.settings.worker_threads
        ).run_forever()
    finally:
        if probes:
            probes.stop()
        runtime.close()


@app.command()
def scheduler() -> None:
    """Enqueue periodic jobs on their cadences until stopped."""
    runtime = start()
    probes = _serve_probes(runtime)
    try:
        _scheduler(runtime).run_forever()
    except KeyboardInterrupt:
        logger.info("scheduler stopped")
    finally:
        if probes:
            probes.stop()
        runtime.close()
