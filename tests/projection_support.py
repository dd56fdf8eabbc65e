"""Helpers for the projection tests: table contents, and test-only projections that count
(so that an event applied twice shows) or fail on purpose (so that a stop shows)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from trajectory.application import TrajectoryApplication
from trajectory.persistence.database import Transaction
from trajectory.projections import Change, Projection, ProjectionRunner
from trajectory.projections.framework import execute_many

Contents = dict[str, list[tuple[tuple[str, Any], ...]]]


def contents(app: TrajectoryApplication, runner: ProjectionRunner) -> Contents:
    """Every row of every table of the runner's projections, in a comparable order."""
    out: Contents = {}
    for p in runner.projections.values():
        for table in p.tables:
            rows = app.db.fetchall(f"SELECT * FROM {table}")
            out[table] = sorted((tuple(sorted(r.items())) for r in rows), key=repr)
    return out


def rows_of(
    app: TrajectoryApplication, runner: ProjectionRunner, trajectory_id: str
) -> dict[str, int]:
    """How many rows each table of the runner's projections holds for one trajectory."""
    return {
        table: len(
            app.db.fetchall(f"SELECT * FROM {table} WHERE trajectory_id = ?", [trajectory_id])
        )
        for p in runner.projections.values()
        for table in p.tables
    }


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it on the way."""


class EventCounts(Projection):
    """Counts events per trajectory and type by adding to the stored count: unlike the real
    read models, applying an event twice (or losing one) changes its rows."""

    name = "event_counts"
    tables = ("test_event_counts",)

    def __init__(
        self,
        *args: Any,
        crash_after: int | None = None,
        crash_in_flush: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._pending: Counter[tuple[str, str]] = Counter()
        self.crash_after = crash_after
        self.crash_in_flush = crash_in_flush
        self.applied = 0
        self.flushes = 0

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS test_event_counts (
                trajectory_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (trajectory_id, event_type)
            )"""
        ]

    def apply(self, change: Change) -> None:
        if self.crash_after is not None and self.applied >= self.crash_after:
            raise Crash
        self.applied += 1
        self._pending[(change.trajectory_id, type(change.event).__name__)] += 1

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        self.flushes += 1
        if self.crash_in_flush is not None and self.flushes >= self.crash_in_flush:
            raise Crash
        rows = [(t, e, n) for (t, e), n in sorted(self._pending.items()) if t not in erased]
        self._pending.clear()
        execute_many(
            tx,
            "INSERT INTO test_event_counts (trajectory_id, event_type, n) VALUES (?, ?, ?)"
            " ON CONFLICT (trajectory_id, event_type) DO UPDATE"
            " SET n = test_event_counts.n + excluded.n",
            rows,
        )

    def discard(self) -> None:
        self._pending.clear()


class Breaks(Projection):
    """Fails on every event of one type while `broken` is set, like a projection with a
    bug; counts what it applied, like `EventCounts`."""

    name = "breaks"
    tables = ("test_breaks",)

    def __init__(self, *args: Any, on: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.on = on
        self.broken = True
        self._pending: list[tuple[str, int]] = []

    def ddl(self) -> list[str]:
        return [
            """CREATE TABLE IF NOT EXISTS test_breaks (
                trajectory_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                PRIMARY KEY (trajectory_id, position)
            )"""
        ]

    def apply(self, change: Change) -> None:
        if self.broken and type(change.event).__name__ == self.on:
            raise ValueError("this projection cannot handle the event yet")
        self._pending.append((change.trajectory_id, change.position))

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        rows = [r for r in self._pending if r[0] not in erased]
        self._pending = []
        # A plain INSERT: a second application of an event would violate the key.
        execute_many(tx, "INSERT INTO test_breaks (trajectory_id, position) VALUES (?, ?)", rows)

    def discard(self) -> None:
        self._pending = []


def event_counts_in_log(app: TrajectoryApplication) -> dict[tuple[str, str], int]:
    """What `EventCounts` must hold: every decodable event of the log, by trajectory and type."""
    from trajectory.crypto import TrajectoryErased

    counts: Counter[tuple[str, str]] = Counter()
    start = 0
    while True:
        page = app.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
        if not page:
            return dict(counts)
        for n in page:
            try:
                event = app.mapper.to_domain_event(n)
            except TrajectoryErased:
                continue
            counts[(str(n.originator_id), type(event).__name__)] += 1
        start = page[-1].id


def stored_event_counts(app: TrajectoryApplication) -> dict[tuple[str, str], int]:
    return {
        (str(r["trajectory_id"]), str(r["event_type"])): int(r["n"])
        for r in app.db.fetchall("SELECT trajectory_id, event_type, n FROM test_event_counts")
    }
