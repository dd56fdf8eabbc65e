"""The baselines: the eventsourcing library alone, with a tiny plain aggregate.

`Counter` is as small as an aggregate gets: one event class, one integer of state, the
library's own mapper and JSON transcoder, no encryption, no extra rows. Every figure of
`bench.run_all` is set next to what the library does with it on the same store, in the same
run: a command (get + mutate + save), a load from a snapshot at the head, and concurrent
saves from 16 threads.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from bench.common import timed
from trajectory.settings import eventsourcing_env


class Counter(Aggregate):
    """A plain aggregate: the smallest thing the library can store."""

    def __init__(self) -> None:
        self.count = 0

    class Incremented(Aggregate.Event):
        by: int

        def apply(self, aggregate: Any) -> None:
            aggregate.count += self.by

    def increment(self, by: int = 1) -> None:
        self.trigger_event(self.Incremented, by=by)


class PlainApplication(Application[UUID]):
    """The library's Application as it comes, on the same store as ours (its own tables on
    PostgreSQL; its own file on SQLite, where table names are fixed), snapshotting every
    `snapshot_interval` events like ours."""

    name = "plainbench"

    def __init__(self, database_url: str, *, snapshot_interval: int = 50):
        env = eventsourcing_env(database_url)
        # The library's own recorders: none of our extra rows, the same durability pragmas
        # are not applied (its SQLite default is synchronous=NORMAL in WAL; see README).
        env["PERSISTENCE_MODULE"] = (
            "eventsourcing.sqlite" if "SQLITE_DBNAME" in env else "eventsourcing.postgres"
        )
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
        env["CREATE_TABLE"] = "y"
        self.snapshotting_intervals = {Counter: snapshot_interval}  # type: ignore[misc]
        super().__init__(env=env)

    def construct_env(self, name: str, env: Any = None) -> Any:
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))

    def create(self) -> UUID:
        counter = Counter()
        self.save(counter)
        return counter.id

    def command(self, counter_id: UUID) -> None:
        """get + mutate + save: what one command costs the library."""
        counter: Counter = self.repository.get(counter_id)
        counter.increment()
        self.save(counter)


def command_latency(app: PlainApplication, aggregates: int, commands: int) -> list[float]:
    """Milliseconds per command, spread round-robin over `aggregates` counters."""
    ids = [app.create() for _ in range(aggregates)]
    for i in range(20):  # warm up
        app.command(ids[i % len(ids)])
    turn = iter(range(10**9))
    return timed(lambda: app.command(ids[next(turn) % len(ids)]), commands)


def grown(app: PlainApplication, events: int) -> UUID:
    """A counter of `events` events (the first is its creation), snapshotted at the head."""
    counter = Counter()
    for start in range(1, events, 500):
        for _ in range(min(500, events - start)):
            counter.increment()
        app.save(counter)
    with contextlib.suppress(IntegrityError):  # taken already, at the library's interval
        app.take_snapshot(counter.id)
    return counter.id


def snapshot_load(app: PlainApplication, counter_id: UUID, repeat: int) -> list[float]:
    """Milliseconds per `repository.get` from a snapshot at the head."""
    timed(lambda: app.repository.get(counter_id), 20)
    return timed(lambda: app.repository.get(counter_id), repeat)


def concurrent_saves(app: PlainApplication, threads: int, seconds: float) -> dict[str, Any]:
    """`threads` writers, each on its own counter, for `seconds`: events per second."""
    ids = [app.create() for _ in range(threads)]
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def writer(i: int) -> None:
        start.wait()
        try:
            while not stop.is_set():
                began = time.perf_counter()
                app.command(ids[i])
                latencies[i].append((time.perf_counter() - began) * 1000)
                counts[i] += 1
        except BaseException as e:  # reported, not swallowed
            errors.append(e)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return {
        "events": sum(counts),
        "seconds": round(elapsed, 2),
        "events_per_s": round(sum(counts) / elapsed, 1),
        "latencies": [x for xs in latencies for x in xs],
    }
