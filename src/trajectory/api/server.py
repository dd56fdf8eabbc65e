"""`trajectory serve`: the API under uvicorn, with graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import sys
import time

import structlog
import uvicorn

from trajectory.settings import Settings

log = structlog.get_logger("trajectory.server")

# (user id, name, role, organisation): the ids match the actors of the demo data.
DEMO_USERS = [
    ("demo-coord-1", "demo-coordinator", "coordinator", "demo-org-noord"),
    ("demo-after-1", "demo-aftercare", "aftercare", "demo-nazorg"),
    ("demo-researcher", "demo-researcher", "researcher", "demo-research"),
    ("demo-admin", "demo-admin", "admin", "demo-org-noord"),
]


def serve(settings: Settings, *, host: str | None, port: int | None, demo: bool) -> int:
    from trajectory.api.app import build_services, create_app
    from trajectory.application import TrajectoryApplication
    from trajectory.protocol import registry_from_settings

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
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        server_header=False,
        date_header=True,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        proxy_headers=False,
    )
    try:
        uvicorn.Server(config).run()
    finally:
        if runner_thread is not None:
            runner_thread.stop()
        application.close()
    return 0


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
