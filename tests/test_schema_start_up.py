"""Processes that start at once on one PostgreSQL database all come up.

CI once saw one of two API processes exit at start-up with PostgreSQL's "tuple
concurrently updated": the event store's own set-up (the library's `CREATE OR REPLACE
FUNCTION` for inserting events) ran outside the schema lock our tables take, and two
concurrent replacements of one function collide.
"""

from __future__ import annotations

import threading

import pytest

from trajectory.application import TrajectoryApplication
from trajectory.settings import Settings


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_many_processes_set_up_the_event_store_at_once_without_failing(
    settings: Settings, app: TrajectoryApplication
) -> None:
    # given the store exists (the fixture's application made it)
    apps = [TrajectoryApplication(settings) for _ in range(8)]
    recorders = [a.recorder for a in apps]
    failures: list[BaseException] = []
    start = threading.Barrier(len(recorders))

    def set_up(recorder: object) -> None:
        start.wait()
        try:
            for _ in range(5):
                recorder.create_table()  # type: ignore[attr-defined]
        except BaseException as e:
            failures.append(e)

    # when eight processes' recorders set up the store at the same moment, five times
    threads = [threading.Thread(target=set_up, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then none of them fails
    for other in apps:
        other.close()
    assert failures == []
