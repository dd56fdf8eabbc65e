"""Scale-out: two API processes and a separate projection runner on one PostgreSQL store.

The API processes run with TRAJECTORY_PROJECTIONS=external and `trajectory projections
run` keeps the read models, as in production (docs/operations.md). Under the concurrent
load of the crash test, first against one API process, then against two, the guarantees
hold: nothing acknowledged lost, nothing recorded twice, every chain intact, and the read
models, once the runner has caught up, equal a rebuild. Throughput is printed per number
of API processes (on one small machine with the database on it, expect no gain: writers
serialise on the event table's lock, eventsourcing-notes pitfall 2).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability_support import (
    Load,
    Process,
    Server,
    assert_read_models_equal_a_rebuild,
    check_store,
    figure,
    open_app,
    prepare_store,
    running,
    scratch_database,
    server_env,
)
from trajectory.projections import setup_projections

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WRITERS = 8
SECONDS = 5.0


@pytest.fixture
def store_url(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url, "scale") as url:
        yield url


def wait_until_caught_up(store_url: str, timeout: float = 60) -> None:
    app = open_app(store_url)
    try:
        runner = setup_projections(app, create_tables=False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head = app.recorder.max_notification_id() or 0
            if min(runner.positions().values()) >= head:
                return
            time.sleep(0.2)
        raise AssertionError(f"the runner did not catch up: {runner.status()}")
    finally:
        app.close()


def test_two_api_processes_and_a_runner_lose_nothing_and_duplicate_nothing(
    store_url: str, tmp_path: Path
) -> None:
    prepared = prepare_store(store_url, users=2, trajectories=WRITERS)
    apis = [
        Server(store_url, tmp_path / f"api{n}.log", projections="external") for n in (1, 2)
    ]
    runner = Process(
        ["projections", "run", "--poll-interval", "0.2"],
        server_env(store_url, port=1),
        tmp_path / "runner.log",
    )
    throughput: dict[int, float] = {}
    writes = []
    with running(runner, *apis):
        # started together, as a supervisor would: none may trip over another's start-up
        for process in (runner, *apis):
            process.start()
        for api in apis:
            api.wait_ready()
        for count in (1, 2):
            urls = [api.base_url for api in apis[:count]]
            load = Load(urls, prepared, writers=WRITERS, seed=count, tag=f"scale-{count}",
                        abandon_rate=0.0)
            load.run_for(SECONDS)
            unexpected = {s: n for s, n in load.statuses.items() if s != "201"}
            assert not unexpected, (unexpected, load.failures[:3])
            throughput[count] = len(load.acknowledged) / (load.stopped_at - load.started_at)
            writes += load.writes
        wait_until_caught_up(store_url)
        assert runner.running, runner.output()[-3000:]
        assert runner.stop() == 0
        for api in apis:
            assert api.stop() in (0, -signal.SIGTERM)
    app = open_app(store_url)
    try:
        result = check_store(app, writes, "scale")
        applied = assert_read_models_equal_a_rebuild(app)
    finally:
        app.close()
    figure(result.line("scale-out (2 API processes + runner, postgresql)"))
    figure(
        "scale-out throughput, acknowledged writes/s with"
        f" {WRITERS} writers: 1 API process {throughput[1]:.0f},"
        f" 2 API processes {throughput[2]:.0f} ({throughput[2] / throughput[1]:.2f}x);"
        f" rebuild applied {applied} events"
    )
    assert result.present == result.acknowledged == len(writes)
    for process in (runner, *apis):
        names = {e.get("event") for e in process.log_events()}
        assert not names & {"unhandled_error", "projection_failed"}, process.output()[-3000:]
