"""`trajectory serve`: the API under uvicorn, with graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import sys
import time
from typing import Any

import structlog
import uvicorn
from litestar import Litestar

from trajectory.settings import Settings

log = structlog.get_logger("trajectory.server")

# (user id, name, role, organisation): the ids match the actors of the demo data.
DEMO_USERS = [
    ("demo-coord-1", "demo-coordinator", "coordinator", "demo-org-noord"),
    ("demo-after-1", "demo-aftercare", "aftercare", "demo-nazorg"),
    ("demo-researcher", "demo-researcher", "researcher", "demo-research"),
    ("demo-admin", "demo-admin", "admin", "demo-org-noord"),
]


def serve(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    demo: bool,
    workers: int | None = None,
) -> int:
    from trajectory.api.app import build_services, create_app
    from trajectory.application import TrajectoryApplication
    from trajectory.protocol import registry_from_settings

    workers = workers or settings.workers
    if workers > 1:
        return _serve_workers(settings, host=host, port=port, demo=demo, workers=workers)
    started = time.monotonic()
    application = TrajectoryApplication(settings, protocols=registry_from_settings(settings))
    services = build_services(application)
    if demo:
        _prepare_demo(application, services)
    app = create_app(services)
    runner_thread = None
    if settings.projections == "in-process":
        services.projections.catch_up()
        runner_thread = services.projections.start_in_thread(poll_interval=0.5)
    host = host or settings.host
    port = port or settings.port
    if demo:  # the web pages' demo accounts: a password and a TOTP secret each
        from trajectory.web.demo import enrol_demo_accounts

        enrol_demo_accounts(
            application, [name for _, name, _, _ in DEMO_USERS], f"http://{host}:{port}",
            sys.stderr,
        )
    log.info(
        "server_ready",
        host=host,
        port=port,
        store=application.dialect,
        seconds=round(time.monotonic() - started, 3),
    )
    config = uvicorn.Config(app, host=host, port=port, **UVICORN)
    try:
        uvicorn.Server(config).run()
    finally:
        if runner_thread is not None:
            runner_thread.stop()
        application.close()
    return 0


UVICORN: dict[str, Any] = {
    "server_header": False,
    "date_header": True,
    "log_config": None,
    "access_log": False,
    "timeout_graceful_shutdown": 10,
    "proxy_headers": False,
}


def _serve_workers(
    settings: Settings, *, host: str | None, port: int | None, demo: bool, workers: int
) -> int:
    """Several API processes on one address (uvicorn's supervisor starts, watches and
    stops them). This process prepares the store once (tables, the demo, the read models
    caught up); each worker then builds the app from the same environment
    (`worker_app`) with its own in-process projection runner: runners share the
    tracking rows and apply each event once, whichever gets there first."""
    from trajectory.api.app import build_services
    from trajectory.application import TrajectoryApplication
    from trajectory.protocol import registry_from_settings

    application = TrajectoryApplication(settings, protocols=registry_from_settings(settings))
    try:
        services = build_services(application)
        if demo:
            _prepare_demo(application, services)
            from trajectory.web.demo import enrol_demo_accounts

            enrol_demo_accounts(
                application,
                [name for _, name, _, _ in DEMO_USERS],
                f"http://{host or settings.host}:{port or settings.port}",
                sys.stderr,
            )
        if settings.projections == "in-process":
            services.projections.catch_up()
    finally:
        application.close()
    log.info("server_starting_workers", workers=workers, store=application.dialect)
    uvicorn.run(
        "trajectory.api.server:worker_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        **UVICORN,
    )
    return 0


def worker_app() -> Litestar:
    """One worker's app, from the environment (`serve --workers`). Its runner thread and
    store are closed when the worker shuts down."""
    from trajectory.api.app import build_services, create_app
    from trajectory.application import TrajectoryApplication
    from trajectory.logs import configure_logging
    from trajectory.protocol import registry_from_settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    application = TrajectoryApplication(settings, protocols=registry_from_settings(settings))
    services = build_services(application)
    app = create_app(services)
    runner = (
        services.projections.start_in_thread(poll_interval=0.5)
        if settings.projections == "in-process"
        else None
    )

    def close(_: Litestar) -> None:
        if runner is not None:
            runner.stop()
        application.close()

    app.on_shutdown.append(close)
    log.info("worker_ready", store=application.dialect)
    return app


def _prepare_demo(application: object, services: object) -> None:
    """Load demo data into an empty store and print a fresh token for each demo role."""
    from trajectory.api.context import Services
    from trajectory.application import TrajectoryApplication
    from trajectory.demo import run_demo

    assert isinstance(application, TrajectoryApplication)
    assert isinstance(services, Services)
    if not application.index():
        run_demo(application)
    now = application.clock()
    print("demo tokens (new at each start; the previous ones stop working):", file=sys.stderr)
    for user_id, name, role, org in DEMO_USERS:
        if services.users.find(name) is None:
            _, token = services.users.add(
                name=name, role=role, organisation=org, now=now, user_id=user_id
            )
        else:
            token = services.users.reissue(name)
        print(f"  {role:12} {name:18} {token}", file=sys.stderr)
    sys.stderr.flush()
