"""Crash: `trajectory serve` killed with SIGKILL at random moments under a load of
concurrent writers, and restarted, several times. Afterwards every acknowledged write is
there exactly once, no unacknowledged write is half there, every hash chain and index row
verifies, and the read models the server kept across its deaths equal a rebuild."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability_support import (
    Load,
    Server,
    assert_read_models_equal_a_rebuild,
    check_store,
    figure,
    open_app,
    prepare_store,
    running,
    scratch_database,
)

KILLS = 4
SEED = 7
WRITERS = 6

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite'}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    with scratch_database(server_url, "crash") as url:
        yield url


def test_every_acknowledged_write_survives_sigkill_and_nothing_is_half_written(
    store_url: str, tmp_path: Path
) -> None:
    prepared = prepare_store(store_url)
    server = Server(store_url, tmp_path / "serve.log")
    rng = random.Random(SEED)
    tag = "crash"
    load = Load([server.base_url], prepared, writers=WRITERS, seed=SEED, tag=tag)
    restarts: list[float] = []
    with running(server):
        server.start_and_wait()
        load.start()
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(0.4, 1.6))  # a random moment under load
                server.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                restarts.append(server.start_and_wait())
            time.sleep(1.0)  # the writers' retries land on the last server
        finally:
            load.stop()
        server.wait_caught_up()
        # uvicorn shuts down gracefully, then ends by the signal it caught
        assert server.stop() in (0, -signal.SIGTERM)
    assert server.starts == KILLS + 1
    app = open_app(store_url)
    try:
        result = check_store(app, load.writes, tag)
        applied = assert_read_models_equal_a_rebuild(app)
    finally:
        app.close()
    dialect = store_url.split(":", 1)[0]
    figure(
        result.line(f"crash ({dialect}, {KILLS} SIGKILLs)")
        + f"; restart {max(restarts):.1f} s at most; rebuild applied {applied} events"
    )
    # Not vacuous: writes were acknowledged, and some were cut off by a kill and retried.
    assert result.acknowledged >= 50, load.statuses
    assert result.present == result.acknowledged
    assert sum(not s.isdigit() for s in load.statuses) > 0, load.statuses
    unexpected = {s: n for s, n in load.statuses.items() if s.isdigit() and s != "201"}
    assert not unexpected, (unexpected, load.failures[:3])
