"""`trajectory serve`: the API under uvicorn, with graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import io
import socket
import sys
import threading
import time
from typing import Any, TextIO

import structlog
import uvicorn
from litestar import Litestar

from trajectory.api.connection_guard import GuardedHttpToolsProtocol
from trajectory.api.context import Services
from trajectory.application import TrajectoryApplication
from trajectory.clock import Clock, system_clock
from trajectory.composition import build_application
from trajectory.composition.http import build_api, build_services, runs_projections_in_process
from trajectory.logs import configure_logging
from trajectory.settings import Settings
from trajectory.web.demo import enrol_demo_accounts

log = structlog.get_logger("trajectory.server")

# (user id, name, role, organisation, display name): the ids match the actors of the demo
# data; the pages name each by the display name, as they would a colleague.
DEMO_USERS = [
    ("demo-coord-1", "demo-coordinator", "coordinator", "demo-org-noord", "Demo Coördinator"),
    # the coordinator of the organisation's other team (`trajectory.demo.TEAMS`)
    ("demo-coord-2", "demo-coordinator-2", "coordinator", "demo-org-noord",
     "Demo Coördinator 2"),
    ("demo-after-1", "demo-aftercare", "aftercare", "demo-nazorg", "Demo Nazorgmedewerker"),
    ("demo-researcher", "demo-researcher", "researcher", "demo-research", "Demo Onderzoeker"),
    ("demo-admin", "demo-admin", "admin", "demo-org-noord", "Demo Beheerder"),
    ("demo-quality", "demo-quality", "quality", "demo-org-noord", "Demo Kwaliteitsmedewerker"),
    ("demo-inspector", "demo-inspector", "inspector", "demo-inspectie", "Demo Inspecteur"),
    # a privacy officer per organisation: she reviews its emergency accesses
    ("demo-privacy", "demo-privacy", "privacy", "demo-org-noord", "Demo Privacyfunctionaris"),
    ("demo-privacy-midden", "demo-privacy-midden", "privacy", "demo-org-midden",
     "Demo Privacyfunctionaris Midden"),
    ("demo-privacy-zuid", "demo-privacy-zuid", "privacy", "demo-org-zuid",
     "Demo Privacyfunctionaris Zuid"),
]


def serve(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    demo: bool,
    workers: int | None = None,
    clock: Clock = system_clock,
) -> int:
    """Serve until stopped. `clock`: the application's time (the single-process server;
    workers read the system clock)."""
    warn_if_interpreter_outdated()
    workers = workers or settings.workers
    if workers > 1:
        return _serve_workers(settings, host=host, port=port, demo=demo, workers=workers)
    started = time.monotonic()
    application = build_application(settings, clock=clock)
    try:
        services = build_services(application)
        host = host or settings.host
        port = port or settings.port
        if demo:
            announce_when_listening(host, port, _prepare_demo(application, services, host, port))
        in_process = runs_projections_in_process(application)
        if in_process:
            services.projections.catch_up()
        app = build_api(services, run_projections=in_process)
        log.info(
            "server_ready",
            host=host,
            port=port,
            store=application.dialect,
            seconds=round(time.monotonic() - started, 3),
        )
        config = uvicorn.Config(app, host=host, port=port, **UVICORN)
        uvicorn.Server(config).run()
    finally:
        application.close()
    return 0


UVICORN: dict[str, Any] = {
    "server_header": False,
    "date_header": True,
    "log_config": None,
    "access_log": False,
    "timeout_graceful_shutdown": 10,
    "proxy_headers": False,
    # A request head must arrive in time and within the edge's limits (api.edge), counted
    # on the raw bytes; uvicorn's own httptools protocol has no limit on either.
    "http": GuardedHttpToolsProtocol,
}


def interpreter_fixes_cookie_parsing(version: tuple[int, int, int]) -> bool:
    """Whether this interpreter has the fix of CVE-2024-7592 (quadratic cookie unquoting):
    3.11.10, 3.12.6 and every 3.13 have it."""
    return version >= (3, 13, 0) or (3, 12, 6) <= version < (3, 13, 0) or (
        (3, 11, 10) <= version < (3, 12, 0)
    )


def warn_if_interpreter_outdated(version: tuple[int, int, int] | None = None) -> None:
    """A warning, not a refusal: our own code never hands a cookie to the interpreter's
    parser (api.edge), so the server is safe from that CVE on any 3.11; but the later
    releases fix others (tarfile, zipfile, email, urllib.parse), and production should
    run one. pyproject.toml cannot demand it: distributions and CI images still ship
    3.11.7, and an uninstallable project helps no one."""
    found = version or (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
    if not interpreter_fixes_cookie_parsing(found):
        log.warning(
            "interpreter_outdated",
            python=".".join(map(str, found)),
            wanted="3.11.10 or later (3.12.6 or later on 3.12)",
        )


def _serve_workers(
    settings: Settings, *, host: str | None, port: int | None, demo: bool, workers: int
) -> int:
    """Several API processes on one address (uvicorn's supervisor starts, watches and
    stops them). This process prepares the store once (tables, the demo, the read models
    caught up); each worker then builds the app from the same environment
    (`worker_app`) with its own in-process projection runner: runners share the
    tracking rows and apply each event once, whichever gets there first."""
    application = build_application(settings)
    host, port = host or settings.host, port or settings.port
    if settings.metrics_token:
        # Each worker counts its own: a scrape of the shared address sees one of them
        # (trajectory.metrics says why, docs/operations.md what to run instead).
        log.warning("metrics_per_worker", workers=workers)
    try:
        services = build_services(application)
        if demo:
            announce_when_listening(host, port, _prepare_demo(application, services, host, port))
        if runs_projections_in_process(application):
            services.projections.catch_up()
    finally:
        application.close()
    log.info("server_starting_workers", workers=workers, store=application.dialect)
    uvicorn.run(
        "trajectory.api.server:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **UVICORN,
    )
    return 0


def worker_app() -> Litestar:
    """One worker's app, from the environment (`serve --workers`). Its runner thread and
    store are closed when the worker shuts down."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    application = build_application(settings)
    app = build_api(
        build_services(application),
        run_projections=runs_projections_in_process(application),
        close_application=True,
    )
    log.info("worker_ready", store=application.dialect)
    return app


def _prepare_demo(
    application: TrajectoryApplication, services: Services, host: str = "127.0.0.1",
    port: int = 8000,
) -> str:
    """Load demo data into an empty store (a store that holds data keeps it, and is told
    so), and make a fresh token, password and TOTP secret for each demo account: what
    is printed once the server listens."""
    from trajectory.demo import DEMO_STUDY, approve_demo_study, run_demo

    out = io.StringIO()
    held = len(application.index())
    if held:
        out.write(
            f"The store already held {held} trajectories: no demo data was loaded. The demo"
            " accounts below work on what is there.\n\n"
        )
    else:
        run_demo(application)
    now = application.clock()
    out.write("demo tokens (new at each start; the previous ones stop working):\n")
    for user_id, name, role, org, display_name in DEMO_USERS:
        found = services.users.find(name)
        if found is None:
            _, token = services.users.add(
                name=name, role=role, organisation=org, now=now, user_id=user_id,
                display_name=display_name,
            )
        else:
            if not found.display_name:  # a demo store from before display names
                services.users.set_display_name(found.user_id, display_name)
            token = services.users.reissue(name, now)
        out.write(f"  {role:12} {name:18} {token}\n")
    # The demo researcher's approved project (every export needs one).
    approve_demo_study(application)
    out.write(f"demo research project: {DEMO_STUDY} (approved, demo-researcher bound)\n\n")
    # The web pages' demo accounts: a password and a TOTP secret each.
    enrol_demo_accounts(
        application, [name for _, name, *_ in DEMO_USERS], f"http://{host}:{port}", out
    )
    return out.getvalue()


def announce_when_listening(
    host: str, port: int, text: str, *, out: TextIO | None = None, timeout: float = 120.0
) -> threading.Thread:
    """Print `text` on standard output once the server accepts connections: after the
    start-up's log lines, where a person looks (the logs go to stderr). Nothing is
    printed if it never listens within `timeout`."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)

    def wait_and_print() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((target, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            return
        stream = out or sys.stdout
        stream.write(text)
        stream.flush()

    thread = threading.Thread(target=wait_and_print, name="demo-announce", daemon=True)
    thread.start()
    return thread
