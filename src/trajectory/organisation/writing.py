"""The one write path of an organisation's own facts (the organisation equivalent of
`trajectory.writing`): the API, the pages and the demo translate to `record` and from its
result.

What every such write respects, here once:

1. who: the organisation's quality officer (`quality`) or its admin, and only on her own
   organisation's stream (the organisation is the caller's, never the request's);
2. input: `occurred_on` reads as a date, no date before 1900 (the trajectory write path's
   checks);
3. idempotency: a key already answered gives that answer again and records nothing;
4. the expected version: a stale one records nothing; without one, a write that lost a
   race runs again on the new version;
5. one transaction: the events, the stream's index row, the access-log entry and the
   idempotency record together or not at all.

The first fact of an organisation begins its stream (`OrganisationStreamOpened`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.errors import VersionConflict
from trajectory.aggregates.trajectory import Meta
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import Clock, amsterdam_date, parse_occurred
from trajectory.idempotency import IdempotencyStore, StoredAnswer
from trajectory.organisation.aggregate import Organisation, organisation_id
from trajectory.organisation.commands import OrganisationCommand
from trajectory.organisation.store import OrganisationStore
from trajectory.write_errors import IdempotencyKeyReused
from trajectory.writing import Via, check_dates, check_key, check_occurred_on

RECORDERS = frozenset({"quality", "admin"})
"""The roles that record an organisation's own facts."""


class NotPermitted(Exception):
    """The caller's role may not record the organisation's facts (the API: 403)."""


class _Body(msgspec.Struct, kw_only=True):
    """The answer's body: the stream's id, its new version, the new positions."""

    id: UUID
    version: int
    positions: list[int]


@dataclass(frozen=True)
class OrganisationWritten:
    organisation_id: UUID
    version: int
    positions: tuple[int, ...]
    answer: StoredAnswer
    replayed: bool = False


class OrganisationWrites:
    """Organisation facts in, with every write's policy; `OrganisationWritten` out."""

    def __init__(
        self,
        application: TrajectoryApplication,
        *,
        idempotency: IdempotencyStore | None = None,
        access: AccessLog | None = None,
        clock: Clock | None = None,
    ):
        self.application = application
        self.store = OrganisationStore(application.db)
        self.idempotency = idempotency or IdempotencyStore(application.db)
        self.access = access or AccessLog(application.db)
        self._clock = clock

    def clock(self) -> datetime:
        return (self._clock or self.application.clock)()

    def record(
        self,
        actor: Actor,
        command: OrganisationCommand,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        request_digest: str = "",
        via: Via | None = None,
    ) -> OrganisationWritten:
        """Record one fact on the actor's organisation's stream.

        Raises NotPermitted, InputRefused, RuleRefused, VersionConflict."""
        via = via or Via()
        if actor.role not in RECORDERS:
            raise NotPermitted(f"the role {actor.role} does not record the organisation's facts")
        check_occurred_on(command, self.clock())
        check_dates(command)
        key = check_key(idempotency_key)
        if key is not None and (stored := self.idempotency.find(actor.user_id, key)):
            return self._replay(actor, stored, request_digest, via)
        deadline = time.monotonic() + self.application.settings.db_lock_timeout_seconds
        while True:
            try:
                return self._write(actor, command, expected_version, key, request_digest, via)
            except VersionConflict:
                if key is not None and (stored := self.idempotency.find(actor.user_id, key)):
                    return self._replay(actor, stored, request_digest, via)
                if expected_version is not None or time.monotonic() >= deadline:
                    raise

    def _write(
        self,
        actor: Actor,
        command: OrganisationCommand,
        expected: int | None,
        key: str | None,
        digest: str,
        via: Via,
    ) -> OrganisationWritten:
        now = self.clock()
        day, moment = parse_occurred(command.occurred_on, now)
        meta = Meta(
            recorded_by=actor.user_id, occurred_on=day, occurred_at=moment,
            today=amsterdam_date(now), recorded_at=now,
        )
        aggregate = self.store.load(actor.organisation)
        before = aggregate.version if aggregate is not None else 0
        if expected is not None and expected != before:
            raise VersionConflict(expected, before)
        if aggregate is None:
            aggregate = Organisation.open(actor.organisation, meta)
        aggregate.handle(command, meta)
        stream = organisation_id(actor.organisation)
        positions = tuple(range(before + 1, aggregate.version + 1))
        answer = _answer(stream, aggregate.version, positions, digest)
        rows = [_entry(actor, "ok", via, now).row()]
        if key is not None:
            rows.append(
                IdempotencyStore.row(
                    user_id=actor.user_id, key=key, trajectory_id=str(stream),
                    answer=answer, now=now,
                )
            )
        self.store.save(aggregate, before, rows, now)
        return OrganisationWritten(stream, aggregate.version, positions, answer)

    def _replay(
        self, actor: Actor, stored: StoredAnswer, digest: str, via: Via
    ) -> OrganisationWritten:
        if stored.request_hash != digest:
            raise IdempotencyKeyReused()
        body = msgspec.json.decode(stored.body, type=_Body)
        self.access.append(_entry(actor, "replayed", via, self.clock()))
        return OrganisationWritten(
            body.id, body.version, tuple(body.positions), stored, replayed=True
        )


def _answer(
    stream: UUID, version: int, positions: tuple[int, ...], digest: str
) -> StoredAnswer:
    body = _Body(id=stream, version=version, positions=list(positions))
    return StoredAnswer(
        request_hash=digest,
        status_code=201,
        body=msgspec.json.encode(body).decode(),
        location=f"/organisation/events/{positions[-1]}",
        etag=f'"{version}"',
    )


def _entry(actor: Actor, outcome: str, via: Via, at: datetime) -> AccessEntry:
    """The access-log entry of a write on the organisation's stream: no trajectory."""
    return AccessEntry.by(
        actor, at=at, action="write", outcome=outcome, client=via.client,
        request_id=via.request_id,
    )
