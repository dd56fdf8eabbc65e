"""Structured logs keep working when the process's stderr is swapped and the old one closed
(a test capturing output, a daemon redirecting it)."""

from __future__ import annotations

import io
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
import structlog

from tests.reliability_support import Server, running
from trajectory.logs import configure_logging


def test_logs_go_to_the_current_stderr_not_the_one_at_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given logging configured while stderr was a stream that has since been closed
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("info")
    first.close()
    # when stderr is another stream and something logs
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    structlog.get_logger("trajectory.test").info("still_logging", n=1)
    # then the line is written, as JSON, to the stream that is stderr now
    line = json.loads(second.getvalue().strip().splitlines()[-1])
    assert line["event"] == "still_logging"
    assert line["n"] == 1


@pytest.mark.slow
def test_every_line_the_server_writes_is_json(tmp_path: Path) -> None:
    # given `trajectory serve` on an SQLite store
    server = Server(f"sqlite:///{tmp_path / 'store.sqlite'}", tmp_path / "serve.log")
    with running(server):
        server.start_and_wait(timeout=60)
        # when it answers a request and is stopped
        assert server.health()["status"]
        assert server.stop() in (0, -signal.SIGTERM)
    # then every line it wrote, uvicorn's own included, is a JSON object
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    assert any(json.loads(line).get("logger") == "uvicorn.error" for line in lines)


class _SlowStream(io.StringIO):
    """A stderr that yields to other threads inside every write, as a pipe under load does."""

    def write(self, text: str) -> int:
        time.sleep(0)
        return super().write(text)


def test_two_threads_logging_at_once_never_share_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the logs configured on stderr, which yields inside every write
    stream = _SlowStream()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("info")

    def ours() -> None:
        for n in range(300):
            structlog.get_logger("trajectory.test").info("ours", n=n)

    def theirs() -> None:
        for n in range(300):
            logging.getLogger("uvicorn.test").info("theirs %d", n)

    # when structlog and a standard-library logger (uvicorn's) write at the same time
    threads = [threading.Thread(target=ours), threading.Thread(target=theirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every line is one JSON object, and none was lost
    lines = stream.getvalue().splitlines()
    assert len(lines) == 600
    assert all(isinstance(json.loads(line), dict) for line in lines)


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in a person's shell."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_readable_lines_and_anything_else_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    # given stderr is a terminal
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # when logging is configured and something logs (structlog's and the standard library's)
    configure_logging("info")
    structlog.get_logger("trajectory.test").info("server_ready", port=8000)
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    # then a person reads the lines: the event first, its fields as key=value, no JSON
    lines = terminal.getvalue().splitlines()
    assert any("server_ready" in line and "port=8000" in line for line in lines), lines
    assert any("Application startup complete." in line for line in lines), lines
    assert lines
    assert not any(line.lstrip().startswith("{") for line in lines), lines
    # given stderr is a pipe, a file or systemd's journal (no terminal)
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    configure_logging("info")
    structlog.get_logger("trajectory.test").info("server_ready", port=8000)
    # then every line is JSON
    assert json.loads(plain.getvalue().splitlines()[-1])["port"] == 8000
    # and the choice can be made without looking
    configure_logging("info", console=False)
    monkeypatch.setattr(sys, "stderr", terminal)
    structlog.get_logger("trajectory.test").info("chosen", n=2)
    assert json.loads(terminal.getvalue().splitlines()[-1])["n"] == 2
