"""Group commit: the commands of concurrent writers stored in one transaction, one commit.

Every command is still prepared on its own, in its caller's thread: its trajectory loaded,
its expected version checked, its rules judged, its events hash-chained and its rows (the
index row, the access-log entry, the idempotency record, a snapshot) made. Only the commit
is shared. The first writer to arrive while no commit is in flight leads: it takes what is
waiting (at most `max_batch` commands, one per trajectory) and commits it; those arriving
meanwhile wait, and the next of them leads the next batch. A leader waits for more only
while other writers are still preparing their command (at most `max_wait` seconds): a lone
writer commits at once. Each writer returns only once its own command is committed, or
raises its own error.

Two commands for one trajectory never share a batch: the second waits for the next, where
it meets the first's result (a version conflict, answered as one: the write path runs it
again on the new version, or answers 412 to an If-Match).

Rows alone, without events (the access-log entry of a read: `TrajectoryApplication.
commit_rows`), go through the same batcher as a commit of no trajectory: they share the
batch and the transaction of whatever commands are waiting, never wait for one another,
and no other writer can have moved them.

One command's failure is its own. When a batch's transaction fails, the commands whose
trajectory another writer moved meanwhile are answered with that failure, and the rest are
committed again without them; when no such command explains the failure, each is committed
on its own, so that only the one at fault fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from trajectory.persistence.database import RowWrite


@dataclass(eq=False)
class Ticket:
    """A writer preparing a command (`GroupCommit.preparing`)."""

    submitted: bool = False


@dataclass(eq=False)
class Pending:
    """One command, ready to be committed: its trajectory, the version it was read at, its
    new events and the rows of our own tables written with them. Rows alone (no events)
    name no trajectory."""

    trajectory_id: UUID | None
    before: int
    events: list[Any]
    rows: list[RowWrite]
    recordings: list[Any] = field(default_factory=list)
    committed: bool = False
    error: BaseException | None = None
    done: bool = False


Commit = Callable[[list[Pending]], list[Any]]
"""Stores the events and rows of every command given in one transaction; returns the
library's recordings (raises when the transaction failed: nothing of it is stored)."""

Moved = Callable[[Pending], bool]
"""Whether another writer moved this command's trajectory past the version it was read at
(never, for rows alone)."""


class GroupCommit:
    def __init__(
        self,
        commit: Commit,
        moved: Moved,
        *,
        max_batch: int = 64,
        max_wait: float = 0.002,
        observed: Callable[[int], Any] | None = None,
    ):
        self._commit = commit
        self._moved = moved
        self.max_batch = max(1, max_batch)
        self.max_wait = max(0.0, max_wait)
        self._observed = observed
        self._turn = threading.Condition()
        self._waiting: list[Pending] = []
        self._writing = False
        self._preparing = 0

    @contextmanager
    def preparing(self) -> Iterator[Ticket]:
        """Around the preparation of a command that may be submitted (with its ticket): a
        leader waits (briefly) for writers that are preparing, never for a batch that will
        not come. A preparation that ends in a refusal simply leaves."""
        ticket = Ticket()
        with self._turn:
            self._preparing += 1
        try:
            yield ticket
        finally:
            if not ticket.submitted:
                with self._turn:
                    self._preparing -= 1
                    self._turn.notify_all()

    def submit(self, mine: Pending, ticket: Ticket | None = None) -> None:
        """Commit one command with whatever else is waiting; raises its own error."""
        with self._turn:
            if ticket is not None and not ticket.submitted:
                ticket.submitted = True
                self._preparing -= 1
            self._waiting.append(mine)
            self._turn.notify_all()
            while not mine.done:
                if self._writing:
                    self._turn.wait()
                    continue
                self._writing = True
                self._gather()
                batch = self._take()
                self._turn.release()
                try:
                    self._write(batch)
                finally:
                    self._turn.acquire()
                    for pending in batch:
                        pending.done = True
                    self._writing = False
                    self._turn.notify_all()
        if mine.error is not None:
            raise mine.error

    def _gather(self) -> None:
        """Wait (the lock held by the caller) while others prepare, up to `max_wait`."""
        if self.max_wait <= 0:
            return
        deadline = time.monotonic() + self.max_wait
        while len(self._waiting) < self.max_batch and self._preparing > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._turn.wait(left)

    def _take(self) -> list[Pending]:
        """At most `max_batch` waiting commands, one per trajectory (rows alone name none:
        any number of them), in arrival order."""
        batch: list[Pending] = []
        seen: set[UUID] = set()
        rest: list[Pending] = []
        for pending in self._waiting:
            trajectory_id = pending.trajectory_id
            if len(batch) < self.max_batch and trajectory_id not in seen:
                if trajectory_id is not None:
                    seen.add(trajectory_id)
                batch.append(pending)
            else:
                rest.append(pending)
        self._waiting = rest
        return batch

    def _write(self, batch: list[Pending]) -> None:
        try:
            self._write_isolating(batch)
        except BaseException as e:  # never leave a writer without an answer
            for pending in batch:
                if not pending.committed and pending.error is None:
                    pending.error = e
            raise

    def _write_isolating(self, batch: list[Pending]) -> None:
        while batch:
            try:
                recordings = self._commit(batch)
            except Exception as e:
                if len(batch) == 1:
                    batch[0].error = e
                    return
                rest = []
                for pending in batch:
                    if self._moved(pending):
                        pending.error = e
                    else:
                        rest.append(pending)
                if len(rest) == len(batch):
                    # Nothing explains it: each on its own, so only the one at fault fails.
                    for pending in batch:
                        self._write_isolating([pending])
                    return
                batch = rest
                continue
            by_trajectory: dict[Any, list[Any]] = {}
            for recording in recordings:
                by_trajectory.setdefault(recording.domain_event.originator_id, []).append(
                    recording
                )
            for pending in batch:
                if pending.trajectory_id is not None:
                    pending.recordings = by_trajectory.get(pending.trajectory_id, [])
                pending.committed = True
            if self._observed is not None:
                self._observed(len(batch))
            return
