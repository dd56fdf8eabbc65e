"""`trajectory serve --workers 2`: several API processes on one address, each with its own
in-process projection runner, lose nothing, record nothing twice, keep the read models
equal to a rebuild, and stop cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.reliability_support import (
    Load,
    Server,
    assert_read_models_equal_a_rebuild,
    check_store,
    open_app,
    prepare_store,
    running,
)

pytestmark = pytest.mark.slow


def test_two_worker_processes_share_one_address_and_lose_nothing(
    database_url: str, tmp_path: Path
) -> None:
    # given a prepared store and `trajectory serve` with two workers on it
    prepared = prepare_store(database_url, users=2, trajectories=6)
    server = Server(database_url, tmp_path / "serve.log", workers="2")
    with running(server):
        server.start_and_wait(timeout=60)
        # when six writers record facts through the one address for a few seconds
        load = Load([server.base_url], prepared, writers=6, seed=7, tag="workers",
                    abandon_rate=0.0)
        load.run_for(3.0)
        unexpected = {s: n for s, n in load.statuses.items() if s != "201"}
        assert not unexpected, (unexpected, load.failures[:3])
        # then both workers answered (each logs its own start)
        workers = [e for e in server.log_events() if e.get("event") == "worker_ready"]
        assert len(workers) == 2, server.output()[-3000:]
        server.wait_caught_up(timeout=60)
        # and SIGTERM stops the supervisor and its workers cleanly
        assert server.stop() in (0, -signal.SIGTERM)
    # and every acknowledged write is present exactly once, the chains intact, the read
    # models (kept by two runners at once) equal to a rebuild
    app = open_app(database_url)
    try:
        result = check_store(app, load.writes, "workers")
        assert_read_models_equal_a_rebuild(app)
    finally:
        app.close()
    assert result.present == result.acknowledged == len(load.acknowledged)
    assert result.acknowledged > 0
    names = {e.get("event") for e in server.log_events()}
    assert not names & {"unhandled_error", "projection_failed"}, server.output()[-3000:]
