"""Group commit (persistence.group_commit), on both stores: the commands of concurrent
writers share one transaction and one commit, and each writer still gets its own answer.

A lone writer does not wait for a batch that will not come; one command's conflict or
refusal inside a batch is its own, the rest commit; two commands for one trajectory never
share a batch; every write keeps its access-log entry, its idempotency record, its index
row and its hash chain."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.builders import COORDINATOR, intake
from trajectory.aggregates.errors import VersionConflict
from trajectory.aggregates.events.intake import Identity
from trajectory.application import TrajectoryApplication
from trajectory.commands import OpenTrajectory, RecordSignal
from trajectory.persistence.group_commit import GroupCommit, Pending
from trajectory.verify import verify_store
from trajectory.writing import WritePath, Written

SIGNAL = RecordSignal(kind="loverboy", note="gezien bij het station")
WRITERS = 16
_girls = itertools.count()


def girl() -> OpenTrajectory:
    """An intake of a girl of her own (the same name and birth date twice is a duplicate)."""
    return intake(identity=Identity(name=f"Meisje {next(_girls)}",
                                    date_of_birth=date(2010, 4, 1), home_region="Utrecht"))


def batches_of(app: TrajectoryApplication) -> list[int]:
    sizes: list[int] = []
    app.commit_observers.append(
        lambda kind, seconds, batch, ok: sizes.append(batch) if ok and kind == "write" else None
    )
    return sizes


def at_once(jobs: list[Any]) -> list[Any]:
    """Run every job in its own thread, released together; their results or errors."""
    start = threading.Barrier(len(jobs))
    out: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            out[i] = jobs[i]()
        except Exception as e:  # the job's own answer
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


# -- the batcher alone ----------------------------------------------------------------------------


def pending(trajectory_id: UUID | None = None) -> Pending:
    return Pending(trajectory_id or uuid4(), 0, [], [])


def test_a_lone_writer_commits_at_once_without_waiting_for_a_batch() -> None:
    # given a batcher that would wait a whole second for writers still preparing
    commits: list[int] = []
    def commit(batch: list[Pending]) -> list[Any]:
        commits.append(len(batch))
        return []

    group = GroupCommit(commit, lambda p: False, max_wait=1.0)
    # when one writer prepares and submits alone
    began = time.perf_counter()
    with group.preparing() as ticket:
        group.submit(pending(), ticket)
    # then it committed at once, alone
    assert time.perf_counter() - began < 0.2
    assert commits == [1]


def test_a_failing_command_is_answered_alone_and_the_others_of_its_batch_commit() -> None:
    # given a store that refuses any transaction holding one particular command
    bad = pending()
    committed: list[Pending] = []

    def commit(batch: list[Pending]) -> list[Any]:
        if bad in batch:
            raise RuntimeError("refused")
        committed.extend(batch)
        return []

    group = GroupCommit(commit, lambda p: False)
    batch = [pending(), bad, pending(), pending()]
    # when the four are committed as one batch
    group._write(batch)
    # then the one at fault has its own error and the three others are committed
    assert isinstance(bad.error, RuntimeError)
    assert [p for p in batch if p.committed] == [batch[0], batch[2], batch[3]]
    assert all(p.error is None for p in batch if p is not bad)


def test_a_command_whose_trajectory_moved_is_dropped_and_the_rest_commit_together() -> None:
    # given a batch in which one command's trajectory was moved by another writer
    moved = pending()
    commits: list[int] = []

    def commit(batch: list[Pending]) -> list[Any]:
        if moved in batch:
            raise RuntimeError("duplicate version")
        commits.append(len(batch))
        return []

    group = GroupCommit(commit, lambda p: p is moved)
    batch = [pending(), moved, pending()]
    # when the batch is written
    group._write(batch)
    # then the two others commit in one transaction, and the moved one fails alone
    assert commits == [2]
    assert moved.error is not None
    assert not moved.committed


def test_two_commands_for_one_trajectory_never_share_a_batch() -> None:
    # given three commands waiting, two of them for the same trajectory
    group = GroupCommit(lambda b: [], lambda p: False)
    same = uuid4()
    first, other, second = pending(same), pending(), pending(same)
    group._waiting = [first, other, second]
    # when a batch is taken
    batch = group._take()
    # then the second for that trajectory waits for the next batch
    assert batch == [first, other]
    assert group._waiting == [second]


# -- on the stores ------------------------------------------------------------------------------


def test_concurrent_writers_share_commits_and_each_gets_its_own_answer(
    app: TrajectoryApplication,
) -> None:
    # given sixteen trajectories, each with a writer of its own
    path = WritePath(app, quiet=True)
    ids = [path.open(COORDINATOR, girl()).trajectory_id for _ in range(WRITERS)]
    sizes = batches_of(app)
    # when all of them write at once, several rounds, each with an idempotency key
    rounds = 4
    answers: list[Any] = []
    for r in range(rounds):
        answers += at_once([
            (lambda t=t, r=r: path.record(COORDINATOR, t, SIGNAL, expected_version=1 + r,
                                          idempotency_key=f"k-{t}-{r}", request_digest="d"))
            for t in ids
        ])
    # then every writer got its own answer, with its own trajectory's new version
    assert all(isinstance(a, Written) for a in answers), answers
    for r in range(rounds):
        for i, t in enumerate(ids):
            written = answers[r * WRITERS + i]
            assert written.trajectory_id == t
            assert written.recorded.version == 2 + r
            assert written.recorded.position is not None
    # and fewer commits than commands were made: writers shared them
    assert sum(sizes) == rounds * WRITERS
    assert len(sizes) < rounds * WRITERS, sizes
    assert max(sizes) > 1, sizes
    # and every write has its access-log entry, its idempotency record and its index row
    for t in ids:
        logged = app.db.fetchone(
            "SELECT COUNT(*) AS n FROM access_log WHERE trajectory_id = ? AND action = 'write'",
            [str(t)],
        )
        assert logged is not None
        assert logged["n"] == 1 + rounds
        assert app.current_version(t) == 1 + rounds
        replay = path.record(COORDINATOR, t, SIGNAL, idempotency_key=f"k-{t}-0",
                             request_digest="d")
        assert replay.replayed
        assert replay.recorded.version == 2
    # and every hash chain (the trajectories' and the access log's) verifies
    report = verify_store(app)
    assert report.ok, (report.findings, report.ledger_findings)


def test_a_conflict_in_a_batch_is_its_writers_alone(app: TrajectoryApplication) -> None:
    # given one contested trajectory and eight others
    path = WritePath(app, quiet=True)
    contested = path.open(COORDINATOR, girl()).trajectory_id
    others = [path.open(COORDINATOR, girl()).trajectory_id for _ in range(8)]

    def writing(t: UUID, expected: int | None = None) -> Callable[[], Written]:
        return lambda: path.record(COORDINATOR, t, SIGNAL, expected_version=expected)

    # when four writers race for the contested one at version 1 (If-Match), beside the others
    jobs = [writing(contested, 1) for _ in range(4)] + [writing(t, 1) for t in others]
    answers = at_once(jobs)
    # then exactly one of the four won, the three others were told of the conflict (412)
    raced = answers[:4]
    assert sum(isinstance(a, Written) for a in raced) == 1, raced
    assert sum(isinstance(a, VersionConflict) for a in raced) == 3, raced
    # and every other writer's command was recorded
    assert all(isinstance(a, Written) and a.recorded.version == 2 for a in answers[4:]), answers
    assert app.current_version(contested) == 2
    # and without If-Match, racing writers of one trajectory are all recorded in turn
    more = at_once([writing(contested) for _ in range(6)])
    assert all(isinstance(a, Written) for a in more), more
    assert sorted(a.recorded.version for a in more) == [3, 4, 5, 6, 7, 8]
    assert verify_store(app).ok


@pytest.mark.parametrize("writers", [8])
def test_concurrent_intakes_are_committed_together_and_all_there(
    app: TrajectoryApplication, writers: int
) -> None:
    # given several coordinators' intakes at once
    path = WritePath(app, quiet=True)
    # when they arrive together
    answers = at_once([(lambda: path.open(COORDINATOR, girl())) for _ in range(writers)])
    # then each opened her own trajectory, at version 1 (or 2 with a team), all stored
    assert all(isinstance(a, Written) for a in answers), answers
    ids = {a.trajectory_id for a in answers}
    assert len(ids) == writers
    for t in ids:
        assert app.get(t).version == app.current_version(t) >= 1
    assert verify_store(app).ok
