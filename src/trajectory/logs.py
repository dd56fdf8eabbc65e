"""Structured logs (structlog): JSON lines, or readable lines on a terminal; and progress
for long work.

Log events are snake_case and carry opaque ids only: never a name or free text.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import TextIO

import structlog


class _CurrentStderr:
    """Whatever `sys.stderr` is at the moment of writing, not at configuration: a caller
    that swaps it for a while (a test capturing output, a daemon redirecting it) must not
    leave the logs writing to a stream it has since closed.

    Whole lines only, one at a time: structlog prints a line as two writes (the text, then
    the newline) under a lock of its own, the standard library's handler as one under
    another, so two threads logging at once could join two JSON objects on one line. Each
    thread's text is held until its newline, and complete lines go out under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = threading.local()

    def write(self, text: str) -> int:
        held: str = getattr(self._pending, "text", "")
        lines, newline, rest = (held + text).rpartition("\n")
        self._pending.text = rest
        if newline:
            with self._lock:
                sys.stderr.write(lines + newline)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


def is_terminal(stream: TextIO) -> bool:
    """Whether a person reads this stream (a closed or odd one is taken for a file)."""
    try:
        return bool(stream.isatty())
    except (ValueError, AttributeError, OSError):
        return False


def renderer(console: bool) -> structlog.types.Processor:
    """Lines a person reads on a terminal (structlog's console renderer: aligned, coloured
    unless NO_COLOR is set), JSON lines for a machine everywhere else."""
    if console:
        return structlog.dev.ConsoleRenderer(colors=not os.environ.get("NO_COLOR"))
    return structlog.processors.JSONRenderer()


def configure_logging(
    level: str = "info", stream: TextIO | None = None, *, console: bool | None = None
) -> None:
    """Log lines on stderr (stdout is for the command's own output): JSON, unless stderr is
    a terminal (`console`: decided here from the stream unless given), where a person
    reads them. Under systemd, in a pipe, in a file and in the tests stderr is no terminal:
    JSON, as every tool that reads the logs expects.

    The standard library's loggers (uvicorn's, the libraries') are rendered as the same
    lines, so that every line of the service can be parsed.
    """
    if console is None:
        console = is_terminal(stream or sys.stderr)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    out = stream or _CurrentStderr()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer(console),
            ],
        )
    )
    handler.set_name("trajectory-json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "trajectory-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    structlog.configure(
        processors=[
            *shared,
            # (the console renderer lays out a traceback itself)
            *([] if console else [structlog.processors.format_exc_info]),
            renderer(console),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


class Progress:
    """A progress bar on a terminal; structured log lines (every 10%) elsewhere."""

    def __init__(self, what: str, total: int, stream: TextIO | None = None):
        self.what = what
        self.total = max(total, 0)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_decile = -1
        self._log = structlog.get_logger("trajectory.progress")

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        total_ = max(self.total, 1)
        if self.tty:
            width = 30
            filled = int(width * done / total_)
            self.stream.write(
                f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}"
            )
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = int(10 * done / total_)
        if decile != self._last_decile or done >= self.total:
            self._last_decile = decile
            self._log.info(
                "progress",
                task=self.what,
                done=done,
                total=self.total,
                seconds=round(time.monotonic() - self.started, 2),
            )
