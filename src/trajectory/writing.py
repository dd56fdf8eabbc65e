"""The one write path: every fact and every intake, from every adapter, goes through here.

The HTTP API, the web pages, the demo and the command line only translate: from their
input to a command (with the actor, an expected version, an idempotency key), and from the
outcome (or a refusal) to their answer. What a write must respect lives here once:

1. visibility: a trajectory she may not see is one that does not exist;
2. input: `occurred_on` reads as a date, and no date in the command lies before 1900;
3. idempotency: a key already answered gives that answer again and records nothing
   (the same key for another request is refused);
4. the expected version (If-Match): a stale one records nothing;
5. without an expected version, a write that lost a race to another writer runs again on
   the new version (its rules checked again), for as long as a request may wait;
6. one transaction: the events, the index row, the access-log entry and the idempotency
   record are stored together or not at all;
7. what a rule needs from outside the trajectory: a handover's receiving worker is an
   active aftercare worker of this installation, by her id in the user directory; a team
   she is placed with is a team of her organisation, and a coordinator made responsible
   for her an active coordinator there (at intake, without a team named, the one team of
   the coordinator's, if she has exactly one; with several, she must choose); an
   intake of a girl whose name and birth date match one in care (or aftercare) in the
   organisation needs a reason (`trajectory.duplicates`), and the intake's keyed hash is
   written in its own transaction.

Refusals are raised as domain errors (`trajectory.write_errors`, `aggregates.errors`,
`TrajectoryNotFound`, `TrajectoryErased`); each adapter says them in its own words.
Nothing here knows HTTP or HTML. The stored answer of an idempotent write is kept in the
shape the API gives it (status, JSON body, Location, ETag): the API replays it byte for
byte, and the pages read the trajectory's id back from it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import msgspec

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.errors import RuleRefused, VersionConflict, WriteRefused
from trajectory.aggregates.trajectory import Received
from trajectory.application import Actor, Recorded, TrajectoryApplication
from trajectory.bij.municipalities import Municipalities, check_municipality
from trajectory.clock import Clock, amsterdam_date, parse_occurred
from trajectory.commands import (
    AssignCoordinator,
    AssignTeam,
    Command,
    OpenTrajectory,
    PrepareHandover,
    RecordYouthCareItems,
)
from trajectory.duplicates import Fingerprints, PossibleDuplicateIntake, fingerprint_key, matches
from trajectory.idempotency import IdempotencyStore, StoredAnswer
from trajectory.identity.teams import Teams
from trajectory.identity.users import UserStore
from trajectory.persistence.database import Database, RowWrite
from trajectory.persistence.recorders import TransactionAborted
from trajectory.visibility import visible_row
from trajectory.write_errors import (
    EARLIEST,
    DateTooEarly,
    DateUnreadable,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")

ExpectedVersion = int | None | Callable[[], int | None]
"""The version the caller read (None: any), or how to read it from her request: called
only once the write is to be tried, after a retry with the key was answered (an adapter
parses its header there, so that a retry of a recorded write answers as it did)."""


@dataclass(frozen=True)
class Via:
    """Where a write came from, as the access log records it (the actor aside)."""

    client: str | None = None
    """The client's address, when there is one (an HTTP request)."""
    request_id: str | None = None
    """The request's id, as the JSON log has it."""


@dataclass(frozen=True)
class Written:
    """The outcome of a write: what was recorded, and the answer to give (again).

    On a replay nothing new was recorded: `recorded` is read back from the first answer
    (its `position` is None, for where that write landed in the log is not kept)."""

    recorded: Recorded
    answer: StoredAnswer
    replayed: bool = False

    @property
    def trajectory_id(self) -> UUID:
        return self.recorded.trajectory_id


# -- input ---------------------------------------------------------------------------------


def check_occurred_on(command: Command, now: datetime) -> None:
    """`occurred_on` reads as a date or an RFC 3339 time with an offset, on or after
    1900-01-01. A future date is the protocol's to refuse (a rule, not bad input)."""
    try:
        day, _ = parse_occurred(command.occurred_on, now)
    except ValueError as e:
        raise DateUnreadable("occurred_on", str(e)) from None
    if day < EARLIEST:
        raise DateTooEarly("occurred_on")


def check_dates(value: object, path: str = "") -> None:
    """Every date in a command lies on or after 1900-01-01; the first that does not is
    named by its path (`identity.date_of_birth`, `waivers[0].on`)."""
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if day < EARLIEST:
            raise DateTooEarly(path or "body")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_dates(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            check_dates(item, f"{path}[{n}]")


def check_receiving_worker(db: Database, command: Command) -> None:
    """A handover to a worker of this installation names an active aftercare worker by her
    user id (as `GET /aftercare-workers` lists them): not her name, not an id made up, not
    a revoked user, not someone of another role. Otherwise the girl would appear in nobody's
    list. (A receiver outside the installation is `external_receiver`, not checked here.)"""
    if not isinstance(command, PrepareHandover) or not command.receiving_worker.strip():
        return
    user = UserStore(db).by_id(command.receiving_worker)
    if user is None or user.revoked or user.role != "aftercare":
        raise RuleRefused(
            "the receiving worker is not an active aftercare worker of this installation;"
            " choose her from the list of aftercare workers (by her id), or name an"
            " external receiver",
            code="receiving-worker-unknown",
            unmet=["receiving_worker"],
        )


def check_municipality_known(db: Database, command: Command | OpenTrajectory) -> None:
    """Her municipality of residence, where given, is one of the installation's list (the
    shipped municipalities and CBS's list as an admin loaded it)."""
    if isinstance(command, (OpenTrajectory, RecordYouthCareItems)) and command.municipality:
        check_municipality(Municipalities(db), command.municipality)


def check_responsibility(db: Database, organisation: str, command: Command) -> None:
    """A team she is placed with is an active team of her organisation; a coordinator made
    responsible for her an active coordinator of it (by her id)."""
    if isinstance(command, AssignTeam):
        team = Teams(db).get(command.team)
        if team is None or team.retired or team.organisation != organisation:
            raise RuleRefused(
                "there is no such team in this organisation; choose one of its teams",
                code="team-unknown", unmet=["team"], fields=["team"],
            )
    if isinstance(command, AssignCoordinator):
        user = UserStore(db).by_id(command.coordinator)
        if (user is None or user.revoked or user.role != "coordinator"
                or user.organisation != organisation):
            raise RuleRefused(
                "the coordinator is not an active coordinator of this organisation",
                code="coordinator-unknown", unmet=["coordinator"], fields=["coordinator"],
            )


def team_at_intake(db: Database, actor: Actor, command: OpenTrajectory) -> OpenTrajectory:
    """The intake with the team she is placed with: the one named (a team of the
    organisation), or else the coordinator's own if she belongs to exactly one. An
    organisation with teams does not take a girl in without one when the coordinator
    belongs to several: they would otherwise all see her."""
    teams = Teams(db)
    if command.team:
        check_responsibility(db, actor.organisation, AssignTeam(team=command.team))
        return command
    mine = [t for t in teams.teams_of(actor.user_id)
            if (team := teams.get(t)) is not None and team.organisation == actor.organisation]
    if len(mine) == 1:
        return msgspec.structs.replace(command, team=mine[0])
    if len(mine) > 1:
        raise RuleRefused(
            "you belong to more than one team: choose the team she is placed with",
            code="team-required", unmet=["team"], fields=["team"],
        )
    return command


def check_key(key: str | None) -> str | None:
    """An idempotency key is 1 to 200 visible ASCII characters (or absent)."""
    if key is not None and not _KEY.match(key):
        raise IdempotencyKeyInvalid()
    return key


# -- the answer kept for a retry --------------------------------------------------------------


class _RecordedBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The body of a write's answer, as the API's `RecordedOut` encodes it (the stored
    answers of earlier versions read back the same way)."""

    id: UUID
    version: int
    positions: list[int] = []
    contact_id: str | None = None


_json = msgspec.json.Encoder()


def answer_of(recorded: Recorded, request_digest: str, *, opened: bool) -> StoredAnswer:
    """The answer to a write, in the shape the idempotency record keeps."""
    tid = recorded.trajectory_id
    body = _RecordedBody(
        id=tid,
        version=recorded.version,
        positions=list(recorded.positions),
        contact_id=recorded.created,
    )
    location = (
        f"/trajectories/{tid}"
        if opened
        else f"/trajectories/{tid}/events/{recorded.positions[-1]}"
    )
    return StoredAnswer(
        request_hash=request_digest,
        status_code=201,
        body=_json.encode(body).decode(),
        location=location,
        etag=f'"{recorded.version}"',
    )


def recorded_of(answer: StoredAnswer) -> Recorded:
    """What a stored answer says was recorded."""
    body = msgspec.json.decode(answer.body, type=_RecordedBody)
    return Recorded(body.id, body.version, tuple(body.positions), body.contact_id)


# -- the write path ---------------------------------------------------------------------------


class WritePath:
    """Commands in, with every write's policy; `Written` out, or a domain error.

    Built once per application by the composition root (cheap to build: it holds no
    state of its own). A bulk writer (the demo) builds its own with its own `clock`, and
    `quiet` to leave out the log line per write, without touching the application's.
    """

    def __init__(
        self,
        application: TrajectoryApplication,
        *,
        idempotency: IdempotencyStore | None = None,
        access: AccessLog | None = None,
        clock: Clock | None = None,
        quiet: bool = False,
    ):
        self.application = application
        self.idempotency = idempotency or IdempotencyStore(application.db)
        self.access = access or AccessLog(application.db)
        self._clock = clock
        self.quiet = quiet

    def clock(self) -> datetime:
        return (self._clock or self.application.clock)()

    def record(
        self,
        actor: Actor,
        trajectory_id: UUID,
        command: Command,
        *,
        expected_version: ExpectedVersion = None,
        idempotency_key: str | None = None,
        request_digest: str = "",
        via: Via = Via(),
        extra: Callable[[UUID], list[RowWrite]] | None = None,
    ) -> Written:
        """Record one fact on a trajectory `actor` may see (`extra`: rows of the caller's
        written in the same transaction, as the exchange keeps its bundle's hash).

        `request_digest` stands for the request as the adapter received it: a retry with
        the same key must carry the same digest. Raises TrajectoryNotFound (or
        TrajectoryErased), InputRefused, RuleRefused, VersionConflict, WriteRefused (and
        whatever a callable `expected_version` raises)."""
        app = self.application
        visible_row(
            app.db, actor, trajectory_id, today=amsterdam_date(self.clock()),
            grace_days=app.settings.aftercare_grace_days, writing=True, now=self.clock(),
        )
        check_occurred_on(command, self.clock())
        check_dates(command)
        key = check_key(idempotency_key)
        if key is not None and (stored := self.idempotency.find(actor.user_id, key)):
            return self._replay(actor, stored, request_digest, via)
        expected = expected_version() if callable(expected_version) else expected_version
        # A stale request is answered as stale before the rules that read outside her file.
        if expected is not None and (actual := app.current_version(trajectory_id)) != expected:
            raise VersionConflict(expected, actual)
        check_receiving_worker(app.db, command)
        check_responsibility(app.db, actor.organisation, command)
        check_municipality_known(app.db, command)

        def write() -> Written:
            now = self.clock()
            rows = _Rows(app.db, actor, key, request_digest, via, now, opened=False,
                         extra=extra)
            recorded = app.execute(
                trajectory_id,
                command,
                actor,
                expected_version=expected,
                also=rows,
                now=now,
                quiet=self.quiet,
            )
            return rows.written(recorded)

        # Without an expected version the caller asked for no particular one: a write
        # that lost the race to another writer runs again on the new version.
        return self._until_written(
            write, actor, key, request_digest, via, again=expected is None
        )

    def _fingerprints(self) -> Fingerprints:
        keys = self.application.keys
        return Fingerprints(fingerprint_key(keys.master if keys else None))

    def possible_duplicates(self, actor: Actor, name: str, date_of_birth: date
                            ) -> tuple[str, ...]:
        """The trajectories in `actor`'s organisation in care with this name and birth
        date: what `open` warns of. A form that warned once asks again with this, so that
        the warning stands beside what is still to fix."""
        fingerprint = self._fingerprints().of(name, date_of_birth)
        return matches(self.application.db, actor.organisation, fingerprint)

    def open(
        self,
        actor: Actor,
        command: OpenTrajectory,
        *,
        idempotency_key: str | None = None,
        request_digest: str = "",
        via: Via = Via(),
        received: Received | None = None,
        extra: Callable[[UUID], list[RowWrite]] | None = None,
    ) -> Written:
        """Open a girl's trajectory (intake) in `actor`'s organisation, with her as the
        coordinator (`received`, `extra`: she came with a bundle from another installation,
        kept by rows of the exchange's in the same transaction). Raises InputRefused,
        RuleRefused (PossibleDuplicateIntake: a girl with her name and birth date is in care
        there, and no `duplicate_reason`), WriteRefused."""
        check_dates(command)
        key = check_key(idempotency_key)
        if key is not None and (stored := self.idempotency.find(actor.user_id, key)):
            return self._replay(actor, stored, request_digest, via)
        command = team_at_intake(self.application.db, actor, command)
        check_municipality_known(self.application.db, command)
        prints = self._fingerprints()
        fingerprint = prints.of(command.identity.name, command.identity.date_of_birth)
        found = matches(self.application.db, actor.organisation, fingerprint)
        if found and not command.duplicate_reason.strip():
            raise PossibleDuplicateIntake(found)

        def write() -> Written:
            now = self.clock()
            rows = _Rows(
                self.application.db, actor, key, request_digest, via, now, opened=True,
                extra=lambda tid: [prints.row(tid, actor.organisation, fingerprint),
                                   *(extra(tid) if extra is not None else [])],
            )
            recorded = self.application.open_trajectory(
                command, actor, also=rows, now=now, quiet=self.quiet, received=received
            )
            return rows.written(recorded)

        return self._until_written(write, actor, key, request_digest, via, again=False)

    # -- the steps ------------------------------------------------------------------------

    def _until_written(
        self,
        write: Callable[[], Written],
        actor: Actor,
        key: str | None,
        digest: str,
        via: Via,
        *,
        again: bool,
    ) -> Written:
        deadline = time.monotonic() + self.application.settings.db_lock_timeout_seconds
        while True:
            try:
                return write()
            except (VersionConflict, WriteRefused, TransactionAborted) as e:
                # A concurrent retry with the same key may have won: answer as it did.
                if key is not None and (stored := self.idempotency.find(actor.user_id, key)):
                    return self._replay(actor, stored, digest, via)
                if not (again and isinstance(e, VersionConflict)):
                    raise
                if time.monotonic() >= deadline:
                    raise

    def _replay(self, actor: Actor, stored: StoredAnswer, digest: str, via: Via) -> Written:
        if stored.request_hash != digest:
            raise IdempotencyKeyReused()
        recorded = recorded_of(stored)
        self.access.append(_entry(actor, recorded.trajectory_id, "replayed", via, self.clock()))
        return Written(recorded=recorded, answer=stored, replayed=True)


def _entry(
    actor: Actor, trajectory_id: UUID, outcome: str, via: Via, at: datetime
) -> AccessEntry:
    """The access-log entry of a write."""
    return AccessEntry.by(actor, at=at, action="write", outcome=outcome,
                          trajectory_id=str(trajectory_id), client=via.client,
                          request_id=via.request_id)


class _Rows:
    """The rows written in the command's own transaction (the access-log entry, and the
    answer under its idempotency key), and the answer they hold, for this one attempt."""

    def __init__(
        self,
        db: Database,
        actor: Actor,
        key: str | None,
        digest: str,
        via: Via,
        now: datetime,
        *,
        opened: bool,
        extra: Callable[[UUID], list[RowWrite]] | None = None,
    ):
        self.db, self.actor, self.key, self.digest = db, actor, key, digest
        self.via, self.now, self.opened = via, now, opened
        self.extra = extra
        self.answer: StoredAnswer | None = None

    def __call__(self, recorded: Recorded) -> list[RowWrite]:
        tid = recorded.trajectory_id
        rows = [_entry(self.actor, tid, "ok", self.via, self.now).marked(self.db).row()]
        if self.extra is not None:
            rows.extend(self.extra(tid))
        self.answer = answer_of(recorded, self.digest, opened=self.opened)
        if self.key is not None:
            rows.append(
                IdempotencyStore.row(
                    user_id=self.actor.user_id,
                    key=self.key,
                    trajectory_id=str(tid),
                    answer=self.answer,
                    now=self.now,
                )
            )
        return rows

    def written(self, recorded: Recorded) -> Written:
        assert self.answer is not None  # the application asked for the rows
        return Written(recorded=recorded, answer=self.answer)
