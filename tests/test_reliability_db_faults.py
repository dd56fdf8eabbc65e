"""Database faults: the database goes away under load and comes back.

The shared PostgreSQL server is not ours to stop, so "the database" is a TCP proxy in
front of a scratch database: cutting it drops every connection of the app and refuses new
ones, as a stopped server does; restoring it is the server coming back. While it is gone,
requests fail fast with 503 problem+json (no hang, no 500, nothing internal in the
answer); when it returns, the same server process recovers by itself and nothing
acknowledged is lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api_support import leaks
from tests.reliability_support import (
    Load,
    Server,
    TcpProxy,
    assert_read_models_equal_a_rebuild,
    check_store,
    figure,
    open_app,
    prepare_store,
    running,
    scratch_database,
    with_port,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGES = (3.0, 8.0)
"""Seconds the database is gone: a blip shorter than a request's wait for a connection
(it rides through), and an outage longer than that (503s)."""
FAIL_FAST_SECONDS = 7.0
"""The slowest any request may be: a request waits for a pooled connection at most
`db_lock_timeout_seconds` (5 s) once, then answers 503."""


@pytest.fixture
def store_url(postgres_url: str) -> Iterator[str]:
    with scratch_database(postgres_url, "faults") as url:
        yield url


def test_requests_fail_fast_with_503_while_the_database_is_gone_and_recover_after(
    store_url: str, tmp_path: Path
) -> None:
    prepared = prepare_store(store_url)
    parts = urlsplit(store_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    proxy.start()
    server = Server(with_port(store_url, proxy.port), tmp_path / "serve.log")
    load = Load([server.base_url], prepared, writers=4, seed=11, tag="fault", abandon_rate=0.0,
                retry_for=60.0)
    probe = httpx.Client(base_url=server.base_url, timeout=30)
    recovery: list[float] = []
    health_down: list[int] = []
    try:
        with running(server):
            server.start_and_wait()
            pid = server.popen.pid if server.popen else None
            load.start()
            try:
                for seconds in OUTAGES:
                    time.sleep(1.5)
                    proxy.cut()
                    gone = time.monotonic()
                    while time.monotonic() - gone < seconds:
                        health_down.append(probe.get("/health").status_code)
                        time.sleep(0.3)
                    proxy.restore()
                    back = time.monotonic()
                    while probe.get("/health").status_code != 200:
                        assert time.monotonic() - back < 30, "the service did not recover"
                        time.sleep(0.1)
                    recovery.append(time.monotonic() - back)
                time.sleep(2.0)  # writes retried after the outage land
            finally:
                load.stop()
            server.wait_caught_up()
            assert server.popen is not None
            assert server.popen.pid == pid, "the server process was replaced"
            assert server.running, "the server process died"
            events = server.log_events()
    finally:
        probe.close()
        proxy.close()
    app = open_app(store_url)
    try:
        result = check_store(app, load.writes, "fault")
        assert_read_models_equal_a_rebuild(app)
    finally:
        app.close()

    refused = load.failures
    slowest_any = max(seconds for _, seconds, _ in load.timings)
    slowest = max((a.seconds for a in refused), default=0.0)
    outages = " + ".join(f"{s:.0f} s" for s in OUTAGES)
    figure(
        result.line(f"database outages ({outages}, postgresql)")
        + f"; {len(refused)} answers 503 (slowest {slowest:.1f} s, any request {slowest_any:.1f}"
        f" s); recovered {max(recovery):.1f} s after the database returned"
    )
    # While it was gone: only 503 problem+json, fast, revealing nothing.
    assert refused, "no request met the outage"
    assert {a.status for a in refused} == {503}, {a.status for a in refused}
    for answer in refused:
        assert answer.content_type.startswith("application/problem+json"), answer
        assert not leaks(answer.text), answer.text
    assert slowest_any < FAIL_FAST_SECONDS, sorted(load.timings, key=lambda t: t[1])[-5:]
    assert set(health_down) <= {200, 503}, health_down
    assert 503 in health_down, health_down
    # Nothing lost; the service came back by itself; the logs say what happened.
    assert result.present == result.acknowledged >= 50
    assert all(w.acknowledged for w in load.writes[: -load.writers]), "a write gave up"
    names = {e.get("event") for e in events}
    assert "store_unavailable" in names
    assert "unhandled_error" not in names, [e for e in events if "error" in str(e.get("event"))]
