"""The access-log entries of reads go through the application's one group commit, on both
stores: reads and commands arriving together share one transaction and one commit, each
still answered on its own, and the access log's hash chain links them in that transaction.

A lone read does not wait for a batch that will not come; a read entry that cannot be
written fails its own read only, never a command it shared a batch with, nor the other way
round."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.builders import COORDINATOR
from tests.test_group_commit import SIGNAL, at_once, girl
from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.errors import WriteRefused
from trajectory.application import TrajectoryApplication
from trajectory.persistence.database import RowWrite
from trajectory.persistence.group_commit import GroupCommit, Pending
from trajectory.persistence.recorders import TransactionAborted
from trajectory.verify import verify_store
from trajectory.writing import WritePath

Batches = list[tuple[str, int]]


def a_read(n: int, trajectory_id: UUID | None = None) -> AccessEntry:
    return AccessEntry(
        at=datetime(2026, 11, 2, 9, 0, n % 60, tzinfo=UTC), user_id=f"user-{n}",
        on_behalf_of=None, role="coordinator", organisation="org-a", client="127.0.0.1",
        action="read", trajectory_id=str(trajectory_id) if trajectory_id else None,
        outcome="ok", request_id=f"read-{n}",
    )


def an_unwritable_entry() -> RowWrite:
    """An entry the store refuses (it names no action)."""
    return RowWrite("access_log", {"at": "2026-11-02T09:00:00+00:00", "action": None,
                                   "outcome": "ok", "request_id": "unwritable"})


def the_reads_log(app: TrajectoryApplication) -> AccessLog:
    """The access log as the HTTP services build it: through the application's commits."""
    return AccessLog(app.db, commit=app.commit_rows)


def commits_of(app: TrajectoryApplication) -> Batches:
    """Every commit of the application that committed: its kind and its batch size."""
    seen: Batches = []
    app.commit_observers.append(
        lambda kind, seconds, batch, ok: seen.append((kind, batch)) if ok else None
    )
    return seen


def entries_with(app: TrajectoryApplication, request_id: str) -> int:
    row = app.db.fetchone("SELECT COUNT(*) AS n FROM access_log WHERE request_id = ?",
                          [request_id])
    assert row is not None
    return int(row["n"])


@contextmanager
def a_commit_in_flight(app: TrajectoryApplication) -> Iterator[Callable[[int], None]]:
    """A read's commit held in flight, so that what arrives meanwhile waits for the next
    batch; `release(n)` lets it finish once `n` others are waiting."""
    group = app.group
    commit = group._commit
    gate = threading.Event()
    first = threading.Event()

    def held(batch: list[Pending]) -> list[Any]:
        if not first.is_set():
            first.set()
            gate.wait(10)
        return commit(batch)

    group._commit = held
    holder = threading.Thread(target=lambda: app.commit_rows([a_read(999).row()]))
    holder.start()
    assert first.wait(10)

    def release(waiting: int) -> None:
        deadline = time.monotonic() + 10
        while len(group._waiting) < waiting:
            assert time.monotonic() < deadline, "the others never arrived"
            time.sleep(0.001)
        gate.set()

    try:
        yield release
    finally:
        gate.set()
        holder.join(10)
        group._commit = commit


def writing(path: WritePath, t: UUID) -> Callable[[], Any]:
    return lambda: path.record(COORDINATOR, t, SIGNAL)


def reading(log: AccessLog, n: int, t: UUID) -> Callable[[], None]:
    return lambda: log.append(a_read(n, t))


def in_threads(jobs: list[Callable[[], Any]]) -> tuple[list[threading.Thread], list[Any]]:
    out: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            out[i] = jobs[i]()
        except Exception as e:  # the job's own answer
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    return threads, out


def in_one_batch(app: TrajectoryApplication, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread while a commit is in flight, so that all of them
    wait and then share the next batch; their results or errors."""
    with a_commit_in_flight(app) as release:
        threads, out = in_threads(jobs)
        release(len(jobs))
        for thread in threads:
            thread.join(10)
    return out


# -- the batcher alone ----------------------------------------------------------------------------


def rows_only() -> Pending:
    return Pending(None, 0, [], [])


def test_rows_only_commits_share_a_batch_beside_one_command_per_trajectory() -> None:
    # given a command, three entries of reads (no trajectory) and a second command for the
    # first one's trajectory, waiting
    group = GroupCommit(lambda b: [], lambda p: False)
    same = uuid4()
    first, second = Pending(same, 0, [], []), Pending(same, 0, [], [])
    reads = [rows_only() for _ in range(3)]
    group._waiting = [first, *reads, second]
    # when a batch is taken
    batch = group._take()
    # then every read goes with the first command; the second command waits for the next
    assert batch == [first, *reads]
    assert group._waiting == [second]


def test_a_failing_read_in_a_batch_whose_command_moved_is_still_its_own() -> None:
    # given a batch whose command's trajectory another writer moved, and two reads, one of
    # which the store refuses
    moved = Pending(uuid4(), 0, [], [])
    bad, good = rows_only(), rows_only()
    committed: list[Pending] = []

    def commit(batch: list[Pending]) -> list[Any]:
        if moved in batch or bad in batch:
            raise RuntimeError("refused")
        committed.extend(batch)
        return []

    group = GroupCommit(commit, lambda p: p.trajectory_id is not None and p is moved)
    # when it is written
    group._write([moved, bad, good])
    # then the moved command and the refused read fail, each with its own error; the
    # other read is committed
    assert moved.error is not None
    assert bad.error is not None
    assert committed == [good]
    assert good.committed
    assert good.error is None


# -- on the stores ------------------------------------------------------------------------------


def test_reads_and_a_command_arriving_together_share_one_commit(
    app: TrajectoryApplication,
) -> None:
    # given a trajectory, and the access log of the HTTP services
    path = WritePath(app, quiet=True)
    t = path.open(COORDINATOR, girl()).trajectory_id
    log = the_reads_log(app)
    seen = commits_of(app)
    # when a command and five reads arrive while a commit is in flight
    out = in_one_batch(app, [writing(path, t)] + [reading(log, n, t) for n in range(5)])
    # then each was answered on its own
    assert not any(isinstance(o, Exception) for o in out), out
    assert app.current_version(t) == 2
    assert all(entries_with(app, f"read-{n}") == 1 for n in range(5))
    # and the command and the five reads were committed in one transaction (after the
    # read that was in flight, alone)
    assert seen == [("access_log", 1), ("write", 6)], seen
    assert verify_store(app).ok


def test_a_refused_read_entry_fails_its_read_only_not_the_command_beside_it(
    app: TrajectoryApplication,
) -> None:
    # given a trajectory
    path = WritePath(app, quiet=True)
    t = path.open(COORDINATOR, girl()).trajectory_id
    log = the_reads_log(app)
    # when a command, a read and a read whose entry the store refuses share a batch
    out = in_one_batch(app, [
        lambda: path.record(COORDINATOR, t, SIGNAL),
        lambda: log.append(a_read(1, t)),
        lambda: app.commit_rows([an_unwritable_entry()]),
    ])
    # then the refused entry's caller alone is told
    recorded, read, refused = out
    assert isinstance(refused, Exception), out
    assert not isinstance(recorded, Exception), out
    assert read is None, out
    # and the command and the other read are stored, the refused entry is not
    assert app.current_version(t) == 2
    assert entries_with(app, "read-1") == 1
    assert entries_with(app, "unwritable") == 0
    assert verify_store(app).ok


def test_a_refused_command_fails_alone_and_the_reads_beside_it_are_written(
    app: TrajectoryApplication,
) -> None:
    # given a trajectory
    path = WritePath(app, quiet=True)
    t = path.open(COORDINATOR, girl()).trajectory_id
    log = the_reads_log(app)
    # when a command whose own rows the store refuses shares a batch with two reads
    out = in_one_batch(app, [
        lambda: app.execute(t, SIGNAL, COORDINATOR, also=[an_unwritable_entry()]),
        lambda: log.append(a_read(1, t)),
        lambda: log.append(a_read(2, t)),
    ])
    # then the command alone is refused (PostgreSQL's pipeline names no cause), and
    # nothing of it is stored
    assert isinstance(out[0], WriteRefused | TransactionAborted), out
    assert app.current_version(t) == 1
    # and both reads are answered and logged
    assert out[1:] == [None, None], out
    assert entries_with(app, "read-1") == entries_with(app, "read-2") == 1
    assert verify_store(app).ok


def test_the_chain_verifies_after_concurrent_reads_and_writes(
    app: TrajectoryApplication,
) -> None:
    # given eight trajectories
    path = WritePath(app, quiet=True)
    ids = [path.open(COORDINATOR, girl()).trajectory_id for _ in range(8)]
    log = the_reads_log(app)
    seen = commits_of(app)
    before = log.count()
    # when each is written and read at once, by a writer and two readers each, four rounds
    rounds = 4
    answers: list[Any] = []
    for r in range(rounds):
        jobs: list[Callable[[], Any]] = []
        for i, t in enumerate(ids):
            jobs.append(writing(path, t))
            jobs += [reading(log, 100 * r + 10 * i + k, t) for k in range(2)]
        answers += at_once(jobs)
    # then everyone was answered, and every write and read is logged
    assert not any(isinstance(a, Exception) for a in answers), answers
    assert all(app.current_version(t) == 1 + rounds for t in ids)
    assert log.count() == before + rounds * len(ids) * 3
    # in fewer commits than acts
    assert sum(batch for _, batch in seen) == rounds * len(ids) * 3
    assert len(seen) < rounds * len(ids) * 3, seen
    # and the access log's chain (and every trajectory's) verifies
    report = verify_store(app)
    assert report.ok, (report.findings, report.ledger_findings)


@pytest.fixture
def patient_app(app: TrajectoryApplication) -> TrajectoryApplication:
    """The application, its group commit willing to wait a whole second for writers."""
    app.group.max_wait = 1.0
    return app


def test_a_lone_read_commits_at_once(patient_app: TrajectoryApplication) -> None:
    # given an application that would wait a second for writers still preparing
    log = the_reads_log(patient_app)
    seen = commits_of(patient_app)
    # when one read is logged, alone
    began = time.perf_counter()
    log.append(a_read(1))
    # then it was committed at once, alone, as an access-log commit
    assert time.perf_counter() - began < 0.5
    assert seen == [("access_log", 1)]
    assert entries_with(patient_app, "read-1") == 1
