"""`trajectory projections run|rebuild [NAME]|status`.

Wiring into the main parser takes two lines: `add_projection_parser(sub)` where the
subcommands are built, and `return projections_command(app, args, sys.stdout)` when
`args.command == "projections"`.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from types import FrameType
from typing import Any, TextIO

import structlog

from trajectory.application import TrajectoryApplication
from trajectory.logs import Progress
from trajectory.projections import PROJECTION_NAMES, setup_projections
from trajectory.projections.runner import ProjectionFailed, ProjectionRunner

log = structlog.get_logger("trajectory.projections")

EXIT_OK = 0
EXIT_FAILED = 1


def add_projection_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add `projections` with its actions to the main parser's subcommands."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "projections", help="read models: follow the log, rebuild, show the lag"
    )
    actions = parser.add_subparsers(dest="projections_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="follow the log until SIGINT or SIGTERM")
    run.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        help="seconds between looks at an idle log (default 1)",
    )
    rebuild = actions.add_parser("rebuild", help="empty and rebuild from the whole log")
    rebuild.add_argument(
        "name", nargs="?", choices=PROJECTION_NAMES, help="one projection (default: all)"
    )
    actions.add_parser("status", help="position and lag per projection")
    return parser


def projections_command(
    app: TrajectoryApplication,
    args: argparse.Namespace,
    out: TextIO,
    *,
    stop_event: threading.Event | None = None,
) -> int:
    runner = setup_projections(app)
    action = args.projections_command
    try:
        if action == "status":
            return _status(runner, out, external=app.settings.projections == "external")
        if action == "rebuild":
            name: str | None = args.name
            total = app.recorder.max_notification_id() or 0
            started = time.monotonic()
            applied = runner.rebuild(name, Progress(f"rebuild {name or 'all'}", total))
            seconds = time.monotonic() - started
            rate = f", {applied / seconds:,.0f} events/s" if seconds > 0 and applied else ""
            what = name or "all projections"
            out.write(f"rebuilt {what}: {applied} events in {seconds:.1f} s{rate}\n")
            return EXIT_OK
        if action == "run":
            stop = stop_event or threading.Event()
            restore = _stop_on_signals(stop)
            try:
                runner.run_forever(args.poll_interval, stop)
            finally:
                restore()
            return EXIT_OK
    except ProjectionFailed as e:
        out.write(f"trajectory: {e}\n")
        return EXIT_FAILED
    raise ValueError(f"unknown projections action {action!r}")


def _status(runner: ProjectionRunner, out: TextIO, *, external: bool) -> int:
    """The table, then (after a blank line) what to do about a read model that lags."""
    rows = runner.status()
    width = max(len(r.name) for r in rows)
    out.write(f"{'projection':<{width}}  {'position':>10}  {'lag':>8}  {'erased skipped':>14}\n")
    for r in rows:
        out.write(f"{r.name:<{width}}  {r.position:>10}  {r.lag:>8}  {r.erased_skipped:>14}\n")
    out.write("\n" + what_to_run([r.name for r in rows if r.lag > 0], external=external))
    return EXIT_OK


def what_to_run(lagging: list[str], *, external: bool) -> str:
    """What an operator runs when read models lag, in the projections mode she runs."""
    if not lagging:
        return "Every read model is current.\n"
    names = ", ".join(lagging)
    if external:
        keeper = (
            "Nothing but the runner applies the log here (TRAJECTORY_PROJECTIONS=external):"
            " run `trajectory projections run` (under systemd: start its unit)."
        )
    else:
        keeper = (
            "The server keeps them current while it runs (TRAJECTORY_PROJECTIONS=in-process):"
            " start `trajectory serve`, or catch them up now with `trajectory projections run`"
            " (Ctrl-C once the lag is 0)."
        )
    return (
        f"Behind the log: {names}. {keeper} One that stays behind while the log is followed"
        " has failed on an event (`projection_failed` in the log names it): fix the cause,"
        " or rebuild it with `trajectory projections rebuild NAME`.\n"
    )


def _stop_on_signals(stop: threading.Event) -> Any:
    """SIGINT and SIGTERM end the run after the page in hand (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("projections_stopping", signal=signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    return restore
