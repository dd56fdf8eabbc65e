"""Concurrency: many clients on one trajectory at once, over HTTP, on both stores.

With If-Match at the same version exactly one write wins and the others get 412; without
If-Match every write is recorded, one after another (none lost to another's update);
parallel retries with one Idempotency-Key record once and all get the first answer.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api_support import assert_problem
from tests.builders import COORDINATOR, open_trajectory
from tests.live import Live, live_server
from tests.reliability_support import marker_of
from trajectory.api.throttle import FailureThrottle
from trajectory.application import TrajectoryApplication

pytestmark = pytest.mark.slow

CLIENTS = 12
ROUNDS = 4


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app, throttle=FailureThrottle(limit=100_000)) as server:
        yield server


@pytest.fixture
def token(live: Live) -> str:
    return live.token("coord", "coordinator", COORDINATOR.organisation, COORDINATOR.user_id)


def all_at_once(work: Callable[[int, httpx.Client], Any], live: Live, token: str) -> list[Any]:
    """Run `work(n, client)` in CLIENTS threads released together; their results in order."""
    barrier = threading.Barrier(CLIENTS)
    results: list[Any] = [None] * CLIENTS

    def run(n: int) -> None:
        with live.client(token) as client:
            client.get("/health")  # connected before the start
            barrier.wait(timeout=30)
            try:
                results[n] = work(n, client)
            except Exception as e:  # reported by the test, not lost in a thread
                results[n] = e

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def markers(app: TrajectoryApplication, tid: UUID) -> Counter[str]:
    """The notes of the signals recorded on the trajectory."""
    _opened, *events = app.stream(tid)
    return Counter(m for e in events if (m := marker_of(e)) is not None)


def signal(client: httpx.Client, tid: UUID, note: str, **headers: str) -> httpx.Response:
    return client.post(
        f"/trajectories/{tid}/signals", json={"kind": "loverboy", "note": note}, headers=headers
    )


def test_at_one_version_exactly_one_write_wins_and_the_others_get_412(
    app: TrajectoryApplication, live: Live, token: str
) -> None:
    tid = open_trajectory(app)
    for round_ in range(ROUNDS):
        version = app.current_version(tid)

        def write(n: int, client: httpx.Client, v: int = version, r: int = round_) -> Any:
            return signal(client, tid, f"if-match-{r}-{n}", **{"If-Match": f'"{v}"'})

        answers: list[httpx.Response] = all_at_once(write, live, token)
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {201: 1, 412: CLIENTS - 1}, statuses
        for a in answers:
            if a.status_code == 412:
                assert assert_problem(a, 412)["rule"] == "version-mismatch"
        (winner,) = (n for n, a in enumerate(answers) if a.status_code == 201)
        assert answers[winner].json()["version"] == version + 1
        assert app.current_version(tid) == version + 1
        last = list(app.stream(tid))[-1]
        assert marker_of(last) == f"if-match-{round_}-{winner}"
    assert sum(markers(app, tid).values()) == ROUNDS


def test_without_if_match_every_write_is_recorded_one_after_another(
    app: TrajectoryApplication, live: Live, token: str
) -> None:
    tid = open_trajectory(app)
    before = app.current_version(tid)

    def writes(n: int, client: httpx.Client) -> list[httpx.Response]:
        return [signal(client, tid, f"serial-{n}-{k}") for k in range(ROUNDS)]

    answers = [a for batch in all_at_once(writes, live, token) for a in batch]
    assert Counter(a.status_code for a in answers) == {201: CLIENTS * ROUNDS}, [
        a.text for a in answers if a.status_code != 201
    ][:3]
    versions = sorted(a.json()["version"] for a in answers)
    assert versions == list(range(before + 1, before + CLIENTS * ROUNDS + 1))
    assert app.current_version(tid) == before + CLIENTS * ROUNDS
    found = markers(app, tid)
    assert found == Counter({f"serial-{n}-{k}": 1 for n in range(CLIENTS) for k in range(ROUNDS)})


def test_parallel_retries_with_one_idempotency_key_record_once(
    app: TrajectoryApplication, live: Live, token: str
) -> None:
    tid = open_trajectory(app)
    for round_ in range(ROUNDS):
        version = app.current_version(tid)
        key = f"retry-{round_}"

        def retry(n: int, client: httpx.Client, key: str = key) -> httpx.Response:
            return signal(client, tid, key, **{"Idempotency-Key": key})

        answers: list[httpx.Response] = all_at_once(retry, live, token)
        assert {a.status_code for a in answers} == {201}, [a.text for a in answers][:3]
        assert len({a.text for a in answers}) == 1, "every retry gets the first answer"
        assert answers[0].json()["version"] == version + 1
        assert app.current_version(tid) == version + 1
    assert markers(app, tid) == Counter({f"retry-{r}": 1 for r in range(ROUNDS)})
