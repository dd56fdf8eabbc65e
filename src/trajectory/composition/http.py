"""The composition root, HTTP side: the API's services and the Litestar app, for the
server (one process or several workers), the benchmarks and the tests.

`create_app` (api.app) only mounts what it is handed; what it is handed is built here,
and so is what the app owns for its lifetime: the read models' runner thread (in-process
projections), the event loop's own SQLite reader, the access log's writer threads, and,
when asked, the application itself. Each is started with the app and stopped with it.
"""

from __future__ import annotations

import anyio
from litestar import Litestar

from trajectory import __version__
from trajectory.access_log import AccessLog
from trajectory.api.app import create_app
from trajectory.api.context import SQLITE_WRITERS, Services, access_writer_pool
from trajectory.api.throttle import FailureThrottle
from trajectory.application import TrajectoryApplication
from trajectory.composition import projection_runner
from trajectory.idempotency import IdempotencyStore
from trajectory.identity.users import UserStore
from trajectory.metrics import DiskCollector, LagCollector, Metrics, PoolCollector
from trajectory.persistence.database import LoopReader
from trajectory.projections import ProjectionRunner, RunnerThread
from trajectory.settings import sqlite_path

POLL_SECONDS = 0.5
"""How often an in-process runner looks for new events when it has caught up."""


def build_services(
    application: TrajectoryApplication,
    *,
    throttle: FailureThrottle | None = None,
    create_tables: bool = True,
) -> Services:
    """What every handler needs, built once per process around one application."""
    db = application.db
    # Reads' entries share the application's group commit with the commands.
    access = AccessLog(db, commit=application.commit_rows)
    runner = projection_runner(application, create_tables=create_tables)
    return Services(
        application=application,
        users=UserStore(db, token_days=application.settings.token_days),
        access=access,
        idempotency=IdempotencyStore(db),
        throttle=throttle or FailureThrottle(),
        max_body_bytes=application.settings.max_body_bytes,
        projections=runner,
        fresh_reads=application.settings.projections == "in-process",
        write_limiter=(
            anyio.CapacityLimiter(SQLITE_WRITERS) if application.dialect == "sqlite" else None
        ),
        loop_reader=_loop_reader(application),
        access_writers=access_writer_pool(),
        metrics=_metrics(application, access, runner),
    )


def _metrics(
    application: TrajectoryApplication, access: AccessLog, runner: ProjectionRunner
) -> Metrics | None:
    """The app's metrics, when `/metrics` is on (a token set): its own registry, told of
    every commit of this application and of this access log, and reading the read models'
    lag, the pool (PostgreSQL) or the disk (SQLite) at each scrape."""
    if not application.settings.metrics_token:
        return None
    metrics = Metrics(version=__version__, store=application.dialect)
    application.commit_observers.append(metrics.observe_commit)
    access.commit_observers.append(metrics.observe_commit)
    metrics.watch(LagCollector(runner.status))
    pool = getattr(application.db.datastore, "pool", None)
    if application.dialect == "postgres" and hasattr(pool, "get_stats"):
        metrics.watch(PoolCollector(pool))
    if (path := sqlite_path(application.settings.database_url)) is not None:
        metrics.watch(DiskCollector(path))
    return metrics



def _loop_reader(application: TrajectoryApplication) -> LoopReader | None:
    if application.dialect != "sqlite":
        return None
    pool = application.recorder.datastore.pool  # type: ignore[attr-defined]
    return None if pool.is_sqlite_memory_mode else LoopReader(pool.db_name)


def build_api(
    services: Services, *, run_projections: bool = False, close_application: bool = False
) -> Litestar:
    """The Litestar app over `services`. `run_projections`: keep the read models caught
    up in a thread of this process while the app runs (the in-process mode).
    `close_application`: the app owns the application and closes it when it stops (a
    worker process, whose app is all there is)."""
    app = create_app(services)
    if run_projections:
        runner: list[RunnerThread] = []

        def start_runner(_: Litestar) -> None:
            runner.append(services.projections.start_in_thread(poll_interval=POLL_SECONDS))

        def stop_runner(_: Litestar) -> None:
            while runner:
                runner.pop().stop()

        app.on_startup.append(start_runner)
        app.on_shutdown.insert(0, stop_runner)
    if close_application:

        def close(_: Litestar) -> None:
            services.application.close()

        app.on_shutdown.append(close)
    return app


def runs_projections_in_process(application: TrajectoryApplication) -> bool:
    return application.settings.projections == "in-process"
