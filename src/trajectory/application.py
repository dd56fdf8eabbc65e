"""The application service: commands in, trajectories stored; queries out.

One place where a command meets storage: load the trajectory (snapshots keep that fast),
check the expected version, run the command on the aggregate, and save its events in one
transaction together with the index row and whatever the caller adds (access log,
idempotency record). Queries return plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent

from trajectory.aggregates.errors import TrajectoryNotFound, VersionConflict, WriteRefused
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.snapshot import TrajectorySnapshot
from trajectory.aggregates.trajectory import Meta, Received, Trajectory, YouthCareAtIntake
from trajectory.clock import Clock, amsterdam_date, parse_occurred, system_clock
from trajectory.commands import AssignTeam, Command, OpenTrajectory
from trajectory.crypto import (
    KeyRing,
    MasterKey,
    MasterKeyUnavailable,
    TrajectoryCipher,
    TrajectoryErased,
    load_master_key,
)
from trajectory.metrics import CommitObserver, Timed
from trajectory.persistence.database import Database, Dialect, RowWrite
from trajectory.persistence.durability import check_durability
from trajectory.persistence.files import secure_sqlite_store
from trajectory.persistence.group_commit import GroupCommit, Pending, Ticket
from trajectory.persistence.mapper import TrajectoryMapper
from trajectory.persistence.recorders import TransactionAborted
from trajectory.persistence.schema import create_schema
from trajectory.protocol import Protocol, ProtocolRegistry, shipped_registry
from trajectory.settings import Settings, dialect_of, eventsourcing_env, sqlite_path

log = structlog.get_logger("trajectory.application")

Trajectory.Snapshot = TrajectorySnapshot


@dataclass(frozen=True)
class Actor:
    """Who acts: the user, their role and organisation, and whom they act for."""

    user_id: str
    role: str
    organisation: str
    on_behalf_of: str | None = None


@dataclass(frozen=True)
class Recorded:
    """The outcome of a command: the trajectory's id and new version, new positions, and
    the id of anything the command created (a network contact)."""

    trajectory_id: UUID
    version: int
    positions: tuple[int, ...]
    created: str | None = None
    position: int | None = None
    """The last new event's place in the whole log: read models at or past it include it."""


Also = Sequence[RowWrite] | Callable[[Recorded], Sequence[RowWrite]]
"""Rows to write in the command's transaction, or a function of its outcome giving them."""


def project_trajectory(aggregate: Trajectory | None, events: Iterable[Any]) -> Trajectory | None:
    """Fold events into a trajectory (the library's default spends its time on an assert)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class TrajectoryApplication(Application[UUID]):
    name = "trajectory"
    snapshotting_projectors = {Trajectory: project_trajectory}

    def __init__(
        self,
        settings: Settings,
        *,
        protocols: ProtocolRegistry | None = None,
        clock: Clock = system_clock,
        encrypt: bool = True,
        create_tables: bool = True,
    ):
        """`encrypt=False` stores plaintext payloads: for measurements only, never for care
        data (a store is either encrypted throughout or not at all)."""
        self.settings = settings
        self.protocols = protocols or shipped_registry()
        self.clock = clock
        self.snapshotting_intervals = {Trajectory: settings.snapshot_interval}  # type: ignore[misc]
        env = eventsourcing_env(settings.database_url, settings.db_lock_timeout_seconds)
        if (database_file := sqlite_path(settings.database_url)) is not None:
            secure_sqlite_store(database_file)
        env["IS_SNAPSHOTTING_ENABLED"] = "y"
        env["CREATE_TABLE"] = "y" if create_tables else "n"
        super().__init__(env=env)
        self.dialect: Dialect = (
            "sqlite" if dialect_of(settings.database_url) == "sqlite" else "postgres"
        )
        self.db = Database(self.dialect, self.recorder.datastore)  # type: ignore[attr-defined]
        # Told of every command's commit (`metrics`; the HTTP services register theirs).
        self.commit_observers: list[CommitObserver] = []
        # Commands of concurrent writers, and the access-log entries of concurrent reads
        # (`commit_rows`), share one transaction and one commit.
        self.group = GroupCommit(
            self._commit_batch,
            lambda p: p.trajectory_id is not None
            and self.current_version(p.trajectory_id) != p.before,
            max_batch=settings.write_batch_max,
            max_wait=settings.write_batch_wait_ms / 1000,
        )
        check_durability(self.db, throwaway=settings.throwaway_store)
        added = create_schema(self.db) if create_tables else set()
        # Read models register here what to delete when a trajectory is erased.
        self.erasure_hooks: list[Callable[[Any, str], None]] = []
        self.keys: KeyRing | None = None
        if encrypt:
            self.keys = KeyRing(self.db, self._master_key())
            self.keys.check_master(self.clock())
            mapper = self.mapper
            assert isinstance(mapper, TrajectoryMapper)
            mapper.payload_cipher = TrajectoryCipher(self.keys)
        if "trajectory_index.aftercare_ended_on" in added:
            self._fill_in_aftercare_ended()

    def _fill_in_aftercare_ended(self) -> None:
        """A store of an earlier version: the day aftercare ended, for the index rows of
        trajectories in aftercare (the aftercare worker's access ends after it)."""
        rows = self.db.fetchall(
            "SELECT trajectory_id FROM trajectory_index WHERE status = 'aftercare'"
        )
        for row in rows:
            try:
                ended = self.get(UUID(str(row["trajectory_id"]))).state.aftercare_ended_on
            except TrajectoryErased:
                continue
            if ended is not None:
                with self.db.transaction() as tx:
                    tx.execute(
                        "UPDATE trajectory_index SET aftercare_ended_on = ?"
                        " WHERE trajectory_id = ?",
                        [ended.isoformat(), str(row["trajectory_id"])],
                    )

    def _master_key(self) -> MasterKey:
        """The master key per settings; a development store gets a local key file."""
        path = sqlite_path(self.settings.database_url)
        default = Path(path + ".key") if path else None
        if (
            default is not None
            and not self.settings.master_key
            and not self.settings.master_key_file
            and not default.exists()
            and self.db.fetchone("SELECT id FROM key_check WHERE id = 1") is not None
        ):
            raise MasterKeyUnavailable(
                f"the store is encrypted but its key file {default.name} is missing;"
                " restore it from backup or set TRAJECTORY_MASTER_KEY_FILE"
            )
        key, _ = load_master_key(
            env_value=self.settings.master_key,
            key_file=self.settings.master_key_file,
            default_file=default,
        )
        return key

    def construct_env(self, name: str, env: Any = None) -> Any:
        # Only the environment we were given: settings are read once, in one place.
        from eventsourcing.utils import Environment

        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[UUID]:
        # The cipher is set once the database (where the wrapped keys live) is open.
        return TrajectoryMapper()

    # -- commands ------------------------------------------------------------------
    def meta(self, actor: Actor, occurred_on: str | None, now: datetime | None = None) -> Meta:
        now = now or self.clock()
        day, moment = parse_occurred(occurred_on, now)
        return Meta(
            recorded_by=actor.user_id,
            occurred_on=day,
            occurred_at=moment,
            today=amsterdam_date(now),
            recorded_at=now,
        )

    def open_trajectory(
        self,
        command: OpenTrajectory,
        actor: Actor,
        *,
        also: Also = (),
        trajectory_id: UUID | None = None,
        now: datetime | None = None,
        quiet: bool = False,
        received: Received | None = None,
    ) -> Recorded:
        """Open a girl's trajectory (intake); `received`: she came with a handover bundle
        from another installation (`exchange.handover`). `now` is the moment it is recorded (the
        application's clock by default); `quiet` leaves out the log line per write (a bulk
        writer, the demo, would bury its own progress under thousands)."""
        now = now or self.clock()
        meta = Meta(
            recorded_by=actor.user_id,
            occurred_on=command.intake_date,
            today=amsterdam_date(now),
            recorded_at=now,
        )
        t = Trajectory.open(
            meta=meta,
            # Fixed at intake: her setting chooses the protocol, recorded by name and
            # version in the opening event.
            protocol=self.protocols.for_setting(command.setting),
            organisation=actor.organisation,
            coordinator=actor.user_id,
            referral_source=command.referral_source,
            legal_framework=command.legal_framework,
            setting=command.setting,
            victim_status=command.victim_status,
            risk_profiles=command.risk_profiles,
            risk_assessment_instrument=command.risk_assessment_instrument,
            risk_assessment_result=command.risk_assessment_result,
            identity=command.identity,
            trajectory_id=trajectory_id,
            nationality=command.nationality,
            duplicate_reason=command.duplicate_reason.strip(),
            received=received,
            youth_care=YouthCareAtIntake(
                sex=command.sex, municipality=command.municipality,
                referrer=command.referrer, care_form=command.care_form,
                started_in_crisis=command.started_in_crisis,
            ),
        )
        if command.team:  # placed with a team at intake: a fact of its own, in the same write
            t.handle(AssignTeam(team=command.team, reason=""), meta, self.protocol_of(t))
        first = [self.keys.new_key(t.id, now)] if self.keys else []
        with self.group.preparing() as ticket:
            return self._save(t, 0, also, now, quiet, first_rows=first, ticket=ticket)

    def execute(
        self,
        trajectory_id: UUID,
        command: Command,
        actor: Actor,
        *,
        expected_version: int | None = None,
        also: Also = (),
        now: datetime | None = None,
        quiet: bool = False,
    ) -> Recorded:
        """Run one command on one trajectory; refusals raise and record nothing.

        `now` and `quiet` as for `open_trajectory`. The input rules (dates, idempotency,
        visibility) are the write path's (trajectory.writing): adapters go there."""
        now = now or self.clock()
        meta = self.meta(actor, command.occurred_on, now)
        with self.group.preparing() as ticket:
            t = self.get(trajectory_id)
            if expected_version is not None and expected_version != t.version:
                raise VersionConflict(expected_version, t.version)
            before = t.version
            created = t.handle(command, meta, self.protocol_of(t))
            return self._save(t, before, also, now, quiet, created, ticket=ticket)

    def protocol_of(self, t: Trajectory) -> Protocol:
        return self.protocols.get(t.state.protocol_name, t.state.protocol_version)

    def _save(
        self,
        t: Trajectory,
        before: int,
        also: Also,
        now: datetime,
        quiet: bool,
        created: str | None = None,
        first_rows: Sequence[RowWrite] = (),
        ticket: Ticket | None = None,
    ) -> Recorded:
        recorded = Recorded(t.id, t.version, tuple(range(before + 1, t.version + 1)), created)
        extra = also(recorded) if callable(also) else also
        rows = [*first_rows, self.index_row(t, now), *extra]
        interval = self.settings.snapshot_interval
        if before // interval != t.version // interval:
            rows.append(self.snapshot_row(t))
        pending = Pending(t.id, before, list(t.collect_events()), rows)
        try:
            self.group.submit(pending, ticket)
            recordings = pending.recordings
        except (IntegrityError, TransactionAborted) as e:
            actual = self.current_version(t.id)
            if actual != before:
                raise VersionConflict(before, actual) from None
            if isinstance(e, TransactionAborted):
                raise  # for no reason known: answered as the store being unavailable (503)
            # Nobody else wrote: one of our own rows was refused. Nothing was recorded.
            raise WriteRefused(f"the store refused the write: {type(e).__name__}") from e
        if recordings:
            recorded = replace(recorded, position=recordings[-1].notification.id)
        if quiet:
            return recorded
        log.info(
            "trajectory_recorded",
            trajectory_id=str(t.id),
            version=t.version,
            events=len(recorded.positions),
        )
        return recorded

    def commit_rows(self, rows: Sequence[RowWrite]) -> None:
        """Rows of our own tables committed with whatever commands and rows are waiting (the
        group commit), returned once committed; raises if they could not be written, and
        then nothing of them is stored. The access-log entry of a read comes this way in
        the HTTP services (`AccessLog(db, commit=app.commit_rows)`): reads and writes
        arriving together share one commit, and the entry is still written before the
        answer leaves."""
        self.group.submit(Pending(None, 0, [], list(rows)))

    def _commit_batch(self, batch: list[Pending]) -> list[Any]:
        """The events and rows of every command of a group commit, in one transaction
        (the events as they were prepared: a batch committed again after one of its
        commands failed stores the same events). A batch of rows alone (reads' entries)
        is written without the event store's machinery: on PostgreSQL, entries alone take
        their fast path (`Database.write`). Told to the observers as a write when the
        batch holds a command, as an access-log commit when it holds rows alone."""
        events = [e for pending in batch for e in pending.events]
        rows = [r for pending in batch for r in pending.rows]
        if all(pending.trajectory_id is None for pending in batch):
            with Timed(self.commit_observers, "access_log", len(batch)):
                self.db.write(*rows)
            return []
        with Timed(self.commit_observers, "write", len(batch)):
            return self.save(*events, also=rows, snapshot_taken=True)

    def snapshot_row(self, t: Trajectory) -> RowWrite:
        """A snapshot of the trajectory as it will be once its pending events are saved,
        written in their transaction.

        Taken from the aggregate in hand whenever a command reaches or passes a multiple of
        the snapshot interval. The library would instead load the trajectory again after
        the save and store the snapshot in a transaction of its own: a replay and a commit
        (an fsync) more on every such command."""
        assert self.snapshots is not None
        snapshot = self.mapper.to_stored_event(Trajectory.Snapshot.take(t))
        recorder: Any = self.snapshots.recorder
        originator_id = snapshot.originator_id
        assert isinstance(originator_id, UUID)
        return RowWrite(
            recorder.events_table_name,
            {
                # As the library's own recorders store it.
                "originator_id": originator_id.hex if self.dialect == "sqlite" else originator_id,
                "originator_version": snapshot.originator_version,
                "topic": snapshot.topic,
                "state": snapshot.state,
            },
        )

    def _take_snapshots(self, processing_event: Any) -> None:
        # `_save` wrote the snapshot with the events (`snapshot_row`).
        if not processing_event.saved_kwargs.get("snapshot_taken"):
            super()._take_snapshots(processing_event)

    def index_row(self, t: Trajectory, now: datetime | None = None) -> RowWrite:
        s = t.state
        return RowWrite(
            "trajectory_index",
            {
                "trajectory_id": str(t.id),
                "organisation": s.organisation,
                "coordinator": s.coordinator,
                "receiving_worker": s.handover.receiving_worker,
                "team": s.team,
                "status": s.status,
                "phase": s.phase,
                "version": t.version,
                "head_hash": t.head_hash,
                "intake_date": s.intake_date.isoformat(),
                "closed_on": s.closed_on.isoformat() if s.closed_on else None,
                "aftercare_ended_on": (
                    s.aftercare_ended_on.isoformat() if s.aftercare_ended_on else None
                ),
                "destruction_requested_on": (
                    s.destruction.requested_on.isoformat() if s.destruction else None
                ),
                "destruction_status": s.destruction.status if s.destruction else None,
                "updated_at": (now or self.clock()).isoformat(),
            },
            upsert_on=("trajectory_id",),
        )

    # -- queries -------------------------------------------------------------------
    def get(self, trajectory_id: UUID, *, as_of: datetime | None = None) -> Trajectory:
        """The trajectory now, or as it was known at `as_of` (recording time)."""
        if as_of is not None:
            events = [e for e in self.stream(trajectory_id) if e.timestamp <= as_of]
            t = project_trajectory(None, events)
            if t is None:
                raise TrajectoryNotFound(trajectory_id)
            return t
        return self._load(trajectory_id)

    def _load(self, trajectory_id: UUID) -> Trajectory:
        """The latest snapshot and the events after it, in one statement.

        What the library's repository does in two (the snapshot, then the events after
        it): on PostgreSQL each is a round trip, and every command and every read of a
        trajectory starts here."""
        key: Any = trajectory_id.hex if self.dialect == "sqlite" else trajectory_id
        rows = self.db.fetchall(self._load_statement, [key, key, key])
        aggregate: Trajectory | None = None
        events = []
        for row in rows:
            stored = StoredEvent(
                originator_id=trajectory_id,
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            if row["kind"] == 0:
                aggregate = self.mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
            else:
                events.append(self.mapper.to_domain_event(stored))
        t = project_trajectory(aggregate, events)
        if t is None:
            raise TrajectoryNotFound(trajectory_id)
        return t

    @cached_property
    def _load_statement(self) -> str:
        events = self.recorder.events_table_name  # type: ignore[attr-defined]
        assert self.snapshots is not None
        snapshots = self.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
        return (
            "SELECT 0 AS kind, originator_version, topic, state FROM ("
            f"SELECT originator_version, topic, state FROM {snapshots}"
            " WHERE originator_id = ? ORDER BY originator_version DESC LIMIT 1) s"
            " UNION ALL"
            f" SELECT 1 AS kind, originator_version, topic, state FROM {events}"
            " WHERE originator_id = ? AND originator_version > COALESCE("
            f"(SELECT MAX(originator_version) FROM {snapshots} WHERE originator_id = ?), 0)"
            " ORDER BY kind, originator_version"
        )

    def stream(self, trajectory_id: UUID) -> Iterator[TrajectoryEvent]:
        """Every stored event of one trajectory, in order."""
        for event in self.events.get(trajectory_id):
            assert isinstance(event, TrajectoryEvent)
            yield event

    def current_version(self, trajectory_id: UUID) -> int:
        row = self.db.fetchone(
            "SELECT version FROM trajectory_index WHERE trajectory_id = ?", [str(trajectory_id)]
        )
        return int(row["version"]) if row else 0

    def index(self, organisation: str | None = None) -> list[dict[str, Any]]:
        if organisation is None:
            return self.db.fetchall("SELECT * FROM trajectory_index ORDER BY trajectory_id")
        return self.db.fetchall(
            "SELECT * FROM trajectory_index WHERE organisation = ? ORDER BY trajectory_id",
            [organisation],
        )

    def stored_events(self, trajectory_id: UUID) -> Sequence[StoredEvent]:
        return self.recorder.select_events(trajectory_id)

    def stored_trajectory_ids(self) -> list[UUID]:
        table = "stored_events" if self.dialect == "sqlite" else "trajectory_events"
        rows = self.db.fetchall(f"SELECT DISTINCT originator_id FROM {table}")
        ids = {UUID(str(r["originator_id"])) for r in rows}
        ids |= {UUID(r["trajectory_id"]) for r in self.index()}
        return sorted(ids)


def is_opening(event: TrajectoryEvent) -> bool:
    return isinstance(event, TrajectoryOpened)
