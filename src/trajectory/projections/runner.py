"""The projection runner: follows the event log and keeps the read models caught up.

It reads the log in pages (`select_notifications`, ~500 events) from the lowest tracked
position of the projections it runs, decodes each event once, folds it into its
trajectory (`StateCache`), and hands it to every projection that has not applied it yet.
Each page is one transaction: the rows of every projection and their new positions
commit together, after the tracked positions were locked and found to be the ones the
page started from. A second runner, or a rebuild, that moved a position in the meantime
makes the page roll back and start again from the new positions: nothing is applied
twice.

- Erased trajectories: an event whose trajectory was crypto-shredded cannot be decoded
  (`TrajectoryErased`); it is skipped and counted in `erased_skipped`. A trajectory
  erased while its page was in flight is caught in the page's transaction (its data key
  is gone) and its rows are left out.
- Failures: when a projection fails on an event, the events before it are committed, the
  failure is logged (`projection_failed`, with the projection's name and the position)
  and `ProjectionFailed` is raised. The next run starts from that same event again: an
  event is never skipped silently. Lost connections and busy databases are retried by
  `run_forever`.
- SQLite cannot notify subscribers, so the runner polls, on both stores: simple, and a
  poll of an idle log costs one indexed query.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import NoReturn
from uuid import UUID

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, Notification, OperationalError

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.trajectory import Trajectory
from trajectory.application import TrajectoryApplication, project_trajectory
from trajectory.crypto import TrajectoryErased
from trajectory.persistence.database import Transaction, placeholders
from trajectory.persistence.schema import lock_schema, schema_is_someone_elses
from trajectory.projections.framework import (
    TRACKING_TABLE,
    VERSIONS_TABLE,
    Change,
    Projection,
    chunks,
    tracking_ddl,
)
from trajectory.projections.states import StateCache

log = structlog.get_logger("trajectory.projections")

PAGE_SIZE = 500
REBUILD_PAGE_SIZE = 8_000
"""A rebuild reads at least this many events per page (and transaction): per-page work
(the commit, the position checks, a trajectory's caseload, handover and core-element
trajectory rows, rewritten once per page it appears in) is then done less often. A log
interleaves a few hundred trajectories at a time, each over some 16,000 events: pages of
2,000 rewrote each of their rows about eight times, pages of 8,000 about three. Measured on
100k events (CPU time of the rebuild, SQLite): 500 -> 2,000 made a rebuild about 1.5x
faster, 2,000 -> 10,000 another 15%. The price: the write transaction of a page (on
SQLite, the one writer) lasts as long as writing its rows, a few tenths of a second."""

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
"""Errors of the database, not of a projection: worth another try after a pause."""

ProgressFn = Callable[..., None]


class ProjectionFailed(Exception):
    """A projection could not apply an event; it stays at the position before it."""

    def __init__(self, names: Sequence[str], position: int, event_type: str, trajectory_id: str):
        self.names = tuple(names)
        self.position = position
        self.event_type = event_type
        self.trajectory_id = trajectory_id
        super().__init__(
            f"projection {', '.join(self.names)} failed on event {position}"
            f" ({event_type} of trajectory {trajectory_id}); it resumes there once fixed"
        )


class ProjectionStatusOut(msgspec.Struct, frozen=True, kw_only=True):
    """Where a projection is in the log, and how far behind (in notification ids)."""

    name: str
    position: int
    lag: int
    erased_skipped: int
    updated_at: datetime | None


class _Failed(Exception):
    def __init__(
        self,
        names: Sequence[str],
        notification: Notification,
        cause: BaseException,
        *,
        in_flush: bool = False,
    ):
        super().__init__(type(cause).__name__)
        self.names = tuple(names)
        self.notification = notification
        self.cause = cause
        self.in_flush = in_flush


class _Conflict(Exception):
    """Another runner (or a rebuild) moved a position since the page began."""


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic garbage collection while a rebuild runs.

    A rebuild allocates millions of short-lived objects next to the long-lived states it
    keeps; the collector would walk those states again and again (a tenth of the time).
    What exists before is frozen out of its view; what the rebuild leaves in cycles is
    collected once at the end."""
    if not gc.isenabled():
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


class ProjectionRunner:
    """Runs a set of projections over the log of one application."""

    def __init__(
        self,
        app: TrajectoryApplication,
        projections: Sequence[Projection],
        *,
        page_size: int = PAGE_SIZE,
        cache_size: int = 50_000,
    ):
        self.app = app
        self.db = app.db
        self.projections: dict[str, Projection] = {p.name: p for p in projections}
        self.page_size = page_size
        self.states = StateCache(self._load, cache_size)
        self._route_of: dict[type[TrajectoryEvent], tuple[Projection, ...]] = {}
        self._erasures_seen = -1

    # -- set-up -----------------------------------------------------------------------------
    def create_tables(self) -> None:
        """Create the tracking table and every projection's tables (idempotent)."""
        with self.db.transaction() as tx:
            lock_schema(tx)  # several processes may start at once
            if not schema_is_someone_elses(tx):  # else the owner role made them
                for statement in tracking_ddl(self.db.dialect):
                    tx.execute(statement)
                self._ensure_tracking(tx, list(self.projections))
                for p in self.projections.values():
                    self._create_or_renew(tx, p)
            self._ensure_tracking(tx, list(self.projections))

    def _create_or_renew(self, tx: Transaction, p: Projection) -> None:
        """Create a projection's tables; when its stored shape is an older version, drop
        them first and start it at the beginning of the log (the runner, or the next
        `catch_up`, rebuilds it)."""
        row = tx.fetchone(f"SELECT version FROM {VERSIONS_TABLE} WHERE name = ?", [p.name])
        stored = 1 if row is None else int(row["version"])
        tracked = tx.fetchone(f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?", [p.name])
        if row is None and (tracked is None or int(tracked["position"]) == 0):
            # Nothing applied yet: whatever shape its tables had, make them this version's.
            p.drop_tables(tx)
        elif stored != p.version:
            log.info("projection_shape_changed", projection=p.name, stored=stored,
                     version=p.version)
            tx.execute(
                f"UPDATE {TRACKING_TABLE} SET position = 0, erased_skipped = 0, updated_at = ?"
                " WHERE name = ?",
                [self.app.clock().isoformat(), p.name],
            )
            p.drop_tables(tx)
        p.create_tables(tx)
        if row is None:
            tx.execute(
                f"INSERT INTO {VERSIONS_TABLE} (name, version) VALUES (?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                [p.name, p.version],
            )
        elif stored != p.version:
            tx.execute(
                f"UPDATE {VERSIONS_TABLE} SET version = ? WHERE name = ?", [p.version, p.name]
            )

    def _ensure_tracking(self, tx: Transaction, names: Sequence[str]) -> None:
        for name in names:
            tx.execute(
                f"INSERT INTO {TRACKING_TABLE} (name, position, erased_skipped)"
                " VALUES (?, 0, 0) ON CONFLICT (name) DO NOTHING",
                [name],
            )

    def _select(self, names: Sequence[str] | str | None) -> list[Projection]:
        if names is None:
            return list(self.projections.values())
        if isinstance(names, str):
            names = [names]
        unknown = [n for n in names if n not in self.projections]
        if unknown:
            known = ", ".join(self.projections)
            raise KeyError(f"no projection named {', '.join(unknown)} (known: {known})")
        return [self.projections[n] for n in names]

    def _load(self, trajectory_id: UUID, version: int) -> Trajectory:
        t = self.app.repository.get(
            trajectory_id, version=version, projector_func=project_trajectory
        )
        assert isinstance(t, Trajectory)
        return t

    # -- positions ------------------------------------------------------------------------
    def positions(self, names: Sequence[str] | None = None) -> dict[str, int]:
        selected = [p.name for p in self._select(names)]
        rows = self.db.fetchall(
            f"SELECT name, position FROM {TRACKING_TABLE}"
            f" WHERE name IN ({placeholders(len(selected))})",
            selected,
        )
        found = {str(r["name"]): int(r["position"]) for r in rows}
        missing = [n for n in selected if n not in found]
        if missing:
            with self.db.transaction() as tx:
                self._ensure_tracking(tx, missing)
            found.update(dict.fromkeys(missing, 0))
        return {n: found[n] for n in selected}

    def status(self) -> list[ProjectionStatusOut]:
        """Position and lag per projection (lag: the newest notification id minus position;
        on PostgreSQL ids can have gaps, so it is an upper bound on events behind)."""
        head = self.app.recorder.max_notification_id() or 0
        names = list(self.projections)
        self.positions(names)
        rows = self.db.fetchall(
            f"SELECT name, position, erased_skipped, updated_at FROM {TRACKING_TABLE}"
            f" WHERE name IN ({placeholders(len(names))}) ORDER BY name",
            names,
        )
        return [
            ProjectionStatusOut(
                name=str(r["name"]),
                position=int(r["position"]),
                lag=max(head - int(r["position"]), 0),
                erased_skipped=int(r["erased_skipped"]),
                updated_at=datetime.fromisoformat(r["updated_at"]) if r["updated_at"] else None,
            )
            for r in rows
        ]

    def wait_for(
        self,
        position: int,
        timeout: float = 2.0,
        names: Sequence[str] | None = None,
        interval: float = 0.005,
    ) -> bool:
        """Wait until the projections have applied the log up to `position` (a write's
        `Recorded.position`): read your own write. False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while True:
            if min(self.positions(names).values(), default=position) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    # -- catching up ----------------------------------------------------------------------
    def catch_up(
        self,
        names: Sequence[str] | None = None,
        *,
        progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
        page_size: int | None = None,
    ) -> int:
        """Apply every event not yet applied, page by page. Returns how many events were
        applied (to at least one projection); skipped events of erased trajectories and
        events every projection already had are not counted."""
        limit = page_size or self.page_size
        selected = self._select(names)
        if progress is None and self._nothing_new([p.name for p in selected]):
            return 0
        self.sweep_erased()
        positions = self.positions([p.name for p in selected])
        head = (self.app.recorder.max_notification_id() or 0) if progress else 0
        applied = 0
        while stop is None or not stop.is_set():
            start = min(positions.values())
            page = self.app.recorder.select_notifications(
                start=start, limit=limit, inclusive_of_start=False
            )
            if not page:
                break
            try:
                applied += self._page(selected, positions, page)
            except _Conflict:
                log.info("projection_position_moved", projections=list(positions))
                positions = self.positions(list(positions))
                continue
            except _Failed as failed:
                self._stop_at(selected, positions, page, failed)
            if progress is not None:
                progress(page[-1].id, max(head, page[-1].id))
        return applied

    def _stop_at(
        self,
        selected: list[Projection],
        positions: dict[str, int],
        page: Sequence[Notification],
        failed: _Failed,
    ) -> NoReturn:
        """Commit what came before the failing event, log, raise."""
        at = failed.notification
        before = [n for n in page if n.id < at.id]
        if before and not failed.in_flush:
            try:
                self._page(selected, positions, before)
            except _Conflict:
                pass  # another runner got there first; it stops at the same event
            except _Failed as earlier:  # loaded afresh, an earlier event failed after all
                self._stop_at(selected, positions, before, earlier)
        log.error(
            "projection_failed",
            projections=list(failed.names),
            position=at.id,
            trajectory_id=str(at.originator_id),
            version=at.originator_version,
            event_type=at.topic.rsplit(":", 1)[-1],
            error_type=type(failed.cause).__name__,
            in_flush=failed.in_flush,
        )
        raise ProjectionFailed(
            failed.names, at.id, at.topic.rsplit(":", 1)[-1], str(at.originator_id)
        ) from failed.cause

    def _decode(self, notification: Notification) -> TrajectoryEvent:
        event = self.app.mapper.to_domain_event(notification)
        if not isinstance(event, TrajectoryEvent):
            raise TypeError(f"not a trajectory event: {notification.topic}")
        return event

    def _routes(self, event_class: type[TrajectoryEvent]) -> tuple[Projection, ...]:
        """The projections that want every event of this class as it comes: asked once per
        class, so that an event none of them reads costs no call at all."""
        route = self._route_of.get(event_class)
        if route is None:
            route = self._route_of[event_class] = tuple(
                p for p in self.projections.values() if not p.follows_state and p.wants(event_class)
            )
        return route

    def _page(
        self, selected: list[Projection], positions: dict[str, int], page: Sequence[Notification]
    ) -> int:
        """Apply one page in one transaction; `positions` moves on when it commits.

        Events go to the projections that want them (`Projection.wants`), one at a time, in
        log order. A projection that `follows_state` gets only the last event of each
        trajectory in the page, after the others: the state then is the same as after
        every event (it is shared, and folded no further before the flush), and a page of
        2,000 events touches a few hundred trajectories."""
        skipped = {p.name: 0 for p in selected}
        if self.app.keys is not None:  # the page's data keys in a few statements, not one each
            self.app.keys.prefetch(
                n.originator_id for n in page if isinstance(n.originator_id, UUID)
            )
        # Trajectories of the page by the id's integer (hashed in C, unlike a UUID), and
        # their ids as text: every event needs both.
        touched: dict[int, UUID] = {}
        names: dict[int, str] = {}
        lasts: dict[int, Change] = {}
        applied = 0
        moving: list[Projection] = []
        last = page[-1].id
        decode, fold, routes = self._decode, self.states.fold, self._routes
        new_change = tuple.__new__
        chosen = frozenset(selected)
        everyone = len(chosen) == len(self.projections)
        followers = [p for p in selected if p.follows_state]
        try:
            ahead = max(positions[p.name] for p in selected)
            for n in page:
                # Past every position (the usual case): every projection is due.
                if n.id > ahead:
                    due = selected
                else:
                    due = [p for p in selected if n.id > positions[p.name]]
                    if not due:
                        continue
                trajectory_id = n.originator_id
                assert isinstance(trajectory_id, UUID)
                key = trajectory_id.int
                name = names.get(key)
                if name is None:
                    touched[key] = trajectory_id
                    name = names[key] = str(trajectory_id)
                version = n.originator_version
                try:
                    event = decode(n)
                    state = fold(event, key, version)
                except TrajectoryErased:
                    for p in due:
                        skipped[p.name] += 1
                    continue
                except TRANSIENT:
                    raise
                except Exception as e:
                    raise _Failed([p.name for p in due], n, e) from e
                # Change(...) without the Python frame of a NamedTuple's __new__ (per event).
                change = lasts[key] = new_change(Change, (n.id, event, state, name, version))
                route = routes(type(event))
                if due is not selected or not everyone:
                    route = tuple(p for p in route if p in chosen and n.id > positions[p.name])
                for p in route:
                    try:
                        p.apply(change)
                    except Exception as e:
                        raise _Failed([p.name], n, e) from e
                applied += 1
            for p in followers:
                for change in lasts.values():
                    if change.position > positions[p.name]:
                        try:
                            p.apply(change)
                        except Exception as e:
                            at = next(n for n in page if n.id == change.position)
                            raise _Failed([p.name], at, e) from e
            with self.db.transaction() as tx:
                moving = [p for p in selected if last > positions[p.name]]
                self._check_positions(tx, moving, positions)
                erased = self._erased_among(tx, names.values())
                now = self.app.clock().isoformat()
                for p in moving:
                    try:
                        p.flush(tx, erased)
                        for trajectory_id in sorted(erased):
                            p.delete_trajectory(tx, trajectory_id)
                    except TRANSIENT:
                        raise
                    except Exception as e:
                        first = next(n for n in page if n.id > positions[p.name])
                        raise _Failed([p.name], first, e, in_flush=True) from e
                    tx.execute(
                        f"UPDATE {TRACKING_TABLE} SET position = ?,"
                        " erased_skipped = erased_skipped + ?, updated_at = ? WHERE name = ?",
                        [last, skipped[p.name], now, p.name],
                    )
        except BaseException:
            # Rolled back: what was gathered and folded for this page no longer holds.
            for p in selected:
                p.discard()
            self.states.forget(touched.values())
            raise
        for p in moving:
            positions[p.name] = last
        return applied

    def _check_positions(
        self, tx: Transaction, moving: list[Projection], positions: dict[str, int]
    ) -> None:
        """Lock the tracking rows, then check they are where the page began.

        Writing first takes the lock on both stores: PostgreSQL locks the rows until the
        page commits, and SQLite makes the page a writer at once (waiting for the lock
        instead of failing when another process wrote since the page began reading)."""
        if not moving:
            return
        names = sorted(p.name for p in moving)
        marks = placeholders(len(names))
        tx.execute(
            f"UPDATE {TRACKING_TABLE} SET position = position WHERE name IN ({marks})", names
        )
        rows = tx.fetchall(
            f"SELECT name, position FROM {TRACKING_TABLE} WHERE name IN ({marks})", names
        )
        found = {str(r["name"]): int(r["position"]) for r in rows}
        if any(found.get(n) != positions[n] for n in names):
            raise _Conflict

    def _erased_among(self, tx: Transaction, touched: Iterable[str]) -> frozenset[str]:
        """Trajectories of this page whose data key is gone. On PostgreSQL the keys found
        are locked (FOR SHARE) until the page commits, so an erasure running now waits
        for the page and then deletes its rows; it cannot slip in between."""
        ids = sorted(touched)
        if self.app.keys is None or not ids:
            return frozenset()
        lock = " FOR SHARE" if self.db.dialect == "postgres" else ""
        found: set[str] = set()
        for part in chunks(ids):
            rows = tx.fetchall(
                "SELECT trajectory_id FROM data_keys"
                f" WHERE trajectory_id IN ({placeholders(len(part))}){lock}",
                list(part),
            )
            found.update(str(r["trajectory_id"]) for r in rows)
        return frozenset(ids) - found

    def _nothing_new(self, names: Sequence[str]) -> bool:
        """Whether every named projection has applied the whole log and no erasure came
        since the last sweep: one statement, where a catch-up that finds nothing takes three
        or more (every read of a read model asks this first, in-process)."""
        if self._erasures_seen < 0:
            return False
        head = (
            "SELECT MAX(rowid) FROM stored_events"
            if self.db.dialect == "sqlite"
            else "SELECT MAX(notification_id) FROM trajectory_events"
        )
        row = self.db.fetchone(
            f"SELECT ({head}) AS head, (SELECT COUNT(*) FROM erasures) AS erasures,"
            f" (SELECT COUNT(*) FROM {TRACKING_TABLE} WHERE name IN ({placeholders(len(names))})"
            f" AND position >= COALESCE(({head}), 0)) AS current",
            list(names),
        )
        return (
            row is not None
            and int(row["erasures"]) == self._erasures_seen
            and int(row["current"]) == len(names)
        )

    def sweep_erased(self) -> int:
        """Delete the rows of every erased trajectory that are still there.

        Erasure deletes them in its own transaction through the hooks registered by
        `setup_projections`; a process that erased without registering them (or that did
        not know this projection) would leave rows behind. Checked whenever the number of
        erasures changed since the last look (one small count otherwise); returns how many
        erasures were new to this runner."""
        row = self.db.fetchone("SELECT COUNT(*) AS n FROM erasures")
        count = int(row["n"]) if row else 0
        if count == self._erasures_seen:
            return 0
        with self.db.transaction() as tx:
            for p in self.projections.values():
                for table in p.tables:
                    tx.execute(
                        f"DELETE FROM {table} WHERE trajectory_id IN"
                        " (SELECT trajectory_id FROM erasures)"
                    )
        swept, self._erasures_seen = count - max(self._erasures_seen, 0), count
        return swept

    # -- rebuilding ---------------------------------------------------------------------------
    def rebuild(self, name: str | None = None, progress: ProgressFn | None = None) -> int:
        """Empty the projection (all when `name` is None) and apply the whole log again.

        Readers see the tables fill up while this runs. Returns the events applied."""
        selected = self._select(None if name is None else [name])
        names = [p.name for p in selected]
        with self.db.transaction() as tx:
            self._ensure_tracking(tx, names)
            # The tracking rows first, the tables after: a runner's page takes them in that
            # order too, so that it waits for the rebuild instead of deadlocking with it.
            tx.execute(
                f"UPDATE {TRACKING_TABLE} SET position = 0, erased_skipped = 0, updated_at = ?"
                f" WHERE name IN ({placeholders(len(names))})",
                [self.app.clock().isoformat(), *names],
            )
            for p in selected:
                p.clear(tx)
        log.info("projections_rebuilding", projections=names)
        started = time.monotonic()
        with _collector_paused():
            applied = self.catch_up(
                names, progress=progress, page_size=max(self.page_size, REBUILD_PAGE_SIZE)
            )
        seconds = time.monotonic() - started
        log.info(
            "projections_rebuilt",
            projections=names,
            events=applied,
            seconds=round(seconds, 2),
            events_per_second=round(applied / seconds) if seconds > 0 else None,
        )
        return applied

    # -- running ------------------------------------------------------------------------------
    def run_forever(
        self,
        poll_interval: float = 1.0,
        stop_event: threading.Event | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        """Follow the log until `stop_event` is set. Database trouble is retried with a
        growing pause; a projection that fails on an event raises `ProjectionFailed`."""
        stop = stop_event or threading.Event()
        selected = [p.name for p in self._select(names)]
        log.info("projections_running", projections=selected, poll_interval=poll_interval)
        retries = 0
        while not stop.is_set():
            try:
                applied = self.catch_up(selected, stop=stop)
            except TRANSIENT as e:
                retries += 1
                pause = min(poll_interval * 2**retries, 30.0)
                log.warning("projections_retrying", error_type=type(e).__name__, retry_in=pause)
                self.states.clear()
                stop.wait(pause)
                continue
            retries = 0
            if applied:
                log.info(
                    "projections_caught_up", events=applied, positions=self.positions(selected)
                )
            else:
                stop.wait(poll_interval)
        log.info("projections_stopped", projections=selected)

    def start_in_thread(self, poll_interval: float = 0.2) -> RunnerThread:
        """Run in a background thread of this process (the embedded default)."""
        runner_thread = RunnerThread(self, poll_interval)
        runner_thread.start()
        return runner_thread


class RunnerThread:
    """A runner in a daemon thread; `stop()` ends it after the page in hand."""

    def __init__(self, runner: ProjectionRunner, poll_interval: float):
        self.runner = runner
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(poll_interval,), name="projection-runner", daemon=True
        )

    def _run(self, poll_interval: float) -> None:
        try:
            self.runner.run_forever(poll_interval, self.stop_event)
        except BaseException as e:  # kept for whoever supervises the thread
            self.error = e

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self._thread.join(timeout)
