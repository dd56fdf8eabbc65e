"""Crash: `trajectory serve` killed with SIGKILL at random moments under a load of
concurrent writers, and restarted, several times. Afterwards every acknowledged write is
there exactly once, no unacknowledged write is half there, every hash chain and index row
verifies, and the read models the server kept across its deaths equal a rebuild."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

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
    crash_under_load(store_url, tmp_path, writers=WRITERS, kills=KILLS, tag="crash")


BATCHED_WRITERS = 16
BATCHED_KILLS = 3
METRICS_TOKEN = "crash-metrics-token"


def batched_commits(base_url: str) -> float:
    """How many of the server's write commits so far held more than one command (its
    `/metrics`, read with prometheus-client's own parser)."""
    answer = httpx.get(f"{base_url}/metrics", timeout=5,
                       headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    answer.raise_for_status()
    total = single = 0.0
    for family in text_string_to_metric_families(answer.text):
        if family.name != "trajectory_commit_batch_size":
            continue
        for sample in family.samples:
            if sample.labels.get("kind") != "write":
                continue
            if sample.name.endswith("_count"):
                total = sample.value
            elif sample.name.endswith("_bucket") and float(sample.labels["le"]) == 1.0:
                single = sample.value
    return total - single


def test_every_acknowledged_write_survives_sigkill_during_batched_commits(
    store_url: str, tmp_path: Path
) -> None:
    # given sixteen writers at once, and a leader that gathers for up to 20 ms: commits
    # hold several commands, so each kill lands among batched commits
    batches: list[float] = []
    crash_under_load(
        store_url, tmp_path, writers=BATCHED_WRITERS, kills=BATCHED_KILLS, tag="batched",
        settings={"write_batch_wait_ms": "20", "metrics_token": METRICS_TOKEN},
        before_kill=lambda url: batches.append(batched_commits(url)),
    )
    # then (checked inside) every acknowledged write was there once, and in every life
    # of the server that was killed, commits had held more than one command
    assert len(batches) == BATCHED_KILLS
    assert all(n > 0 for n in batches), batches


def crash_under_load(
    store_url: str,
    tmp_path: Path,
    *,
    writers: int,
    kills: int,
    tag: str,
    settings: dict[str, str] | None = None,
    before_kill: Callable[[str], None] | None = None,
) -> None:
    prepared = prepare_store(store_url)
    server = Server(store_url, tmp_path / "serve.log", **(settings or {}))
    rng = random.Random(SEED)
    load = Load([server.base_url], prepared, writers=writers, seed=SEED, tag=tag)
    restarts: list[float] = []
    with running(server):
        server.start_and_wait()
        load.start()
        try:
            for _ in range(kills):
                time.sleep(rng.uniform(0.4, 1.6))  # a random moment under load
                if before_kill is not None:
                    before_kill(server.base_url)
                server.kill()
                time.sleep(rng.uniform(0.0, 0.3))
                restarts.append(server.start_and_wait())
            time.sleep(1.0)  # the writers' retries land on the last server
        finally:
            load.stop()
        server.wait_caught_up()
        # uvicorn shuts down gracefully, then ends by the signal it caught
        assert server.stop() in (0, -signal.SIGTERM)
    assert server.starts == kills + 1
    app = open_app(store_url)
    try:
        result = check_store(app, load.writes, tag)
        applied = assert_read_models_equal_a_rebuild(app)
    finally:
        app.close()
    dialect = store_url.split(":", 1)[0]
    figure(
        result.line(f"{tag} ({dialect}, {kills} SIGKILLs, {writers} writers)")
        + f"; restart {max(restarts):.1f} s at most; rebuild applied {applied} events"
    )
    # Not vacuous: writes were acknowledged, and some were cut off by a kill and retried.
    assert result.acknowledged >= 50, load.statuses
    assert result.present == result.acknowledged
    assert sum(not s.isdigit() for s in load.statuses) > 0, load.statuses
    unexpected = {s: n for s, n in load.statuses.items() if s.isdigit() and s != "201"}
    assert not unexpected, (unexpected, load.failures[:3])
