"""Structured logs keep working when the process's stderr is swapped and the old one closed
(a test capturing output, a daemon redirecting it)."""

from __future__ import annotations

import io
import json
import sys

import pytest
import structlog

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
