"""Where organisation streams are kept: their own two tables beside the event store.

`organisation_events` holds each stream's events (one row per event: its position, its
topic and its fields as JSON), append-only; `organisation_index` one row per stream (its
organisation, version and head hash), written in the events' own transaction, so that
`trajectory verify` sees events removed from the end too. Kept apart from the trajectory
log on purpose: the read models, the research export and the erasure of a girl's file
read that log and must never meet an organisation's facts.

The stored payload is plaintext: it names professionals at work and the organisation's
own analyses, never a girl. Its encoding is msgspec JSON of the event's fields; the hash
is the trajectory's (`aggregates.hashing`), so the same rules for adding fields hold.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import typing
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from trajectory.aggregates.errors import VersionConflict
from trajectory.aggregates.hashing import GENESIS, event_hash
from trajectory.hashchain import ChainBroken
from trajectory.organisation.aggregate import Organisation, organisation_id
from trajectory.organisation.events import EVENTS, OrganisationEvent, OrganisationStreamOpened
from trajectory.persistence.database import Database, RowWrite

_FIXED = ("originator_id", "originator_version")
_TOPICS: dict[str, type[OrganisationEvent]] = {get_topic(cls): cls for cls in EVENTS}
_encoder = msgspec.json.Encoder()


@cache
def _decoder(cls: type) -> msgspec.json.Decoder[Any]:
    """A typed decoder of one event class's stored fields (as the trajectory mapper's)."""
    hints = typing.get_type_hints(cls)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (f.name, hints[f.name])
        if f.default is dataclasses.MISSING
        else (f.name, hints[f.name], f.default)
        for f in dataclasses.fields(cls)
        if f.name not in _FIXED
    ]
    return msgspec.json.Decoder(msgspec.defstruct(f"Stored{cls.__name__}", fields, kw_only=True))


def encode(event: OrganisationEvent) -> str:
    body = {k: v for k, v in vars(event).items() if k not in _FIXED}
    return _encoder.encode(body).decode()


def decode(organisation: UUID, position: int, topic: str, payload: str) -> OrganisationEvent:
    cls = _TOPICS.get(topic)
    if cls is None:
        raise ValueError(f"not an organisation event: {topic}")
    stored = _decoder(cls).decode(payload)
    fields = msgspec.structs.asdict(stored)
    return cls(originator_id=organisation, originator_version=position, **fields)


def check_chain(events: Sequence[tuple[int, OrganisationEvent]]) -> str:
    """The head hash of a stream's events (position, event) once each is checked: the
    positions run 1..n, the first opens the stream, each links to its predecessor and
    hashes to its own `hash`. Raises `ChainBroken` at the first break."""
    previous = GENESIS
    for expected, (position, event) in enumerate(events, start=1):
        if position != expected:
            raise ChainBroken(
                expected, f"event {expected} is missing (the next stored is {position})"
            )
        if expected == 1 and not isinstance(event, OrganisationStreamOpened):
            raise ChainBroken(1, "the stream does not start with OrganisationStreamOpened")
        if event.prev_hash != previous:
            raise ChainBroken(
                position, "the event does not follow its predecessor (reordered or altered)"
            )
        if event_hash(get_topic(type(event)), vars(event), type(event)) != event.hash:
            raise ChainBroken(
                position, "the event's content does not match its hash: it was altered"
            )
        previous = event.hash
    return previous


class OrganisationStore:
    """Reads and writes organisation streams on the application's database."""

    def __init__(self, db: Database):
        self.db = db

    def stored(self, stream: UUID) -> list[tuple[int, str, str]]:
        rows = self.db.fetchall(
            "SELECT position, topic, payload FROM organisation_events"
            " WHERE organisation_id = ? ORDER BY position",
            [str(stream)],
        )
        return [(int(r["position"]), str(r["topic"]), str(r["payload"])) for r in rows]

    def events(self, stream: UUID) -> list[tuple[int, OrganisationEvent]]:
        """Every event of a stream, decoded (a row that cannot be: `ChainBroken`)."""
        out = []
        for position, topic, payload in self.stored(stream):
            try:
                out.append((position, decode(stream, position, topic, payload)))
            except (ValueError, TypeError, msgspec.DecodeError):
                raise ChainBroken(
                    position, "the stored event cannot be decoded: it was altered"
                ) from None
        return out

    def load(self, organisation: str) -> Organisation | None:
        """The organisation's stream as it is now (None: nothing recorded yet)."""
        aggregate: Any = None
        for _, event in self.events(organisation_id(organisation)):
            aggregate = event.mutate(aggregate)
        return typing.cast(Organisation | None, aggregate)

    def version(self, organisation: str) -> int:
        row = self.db.fetchone(
            "SELECT version FROM organisation_index WHERE organisation_id = ?",
            [str(organisation_id(organisation))],
        )
        return int(row["version"]) if row else 0

    def index(self) -> list[dict[str, Any]]:
        """Every stream's index row (organisation, version, head hash)."""
        return self.db.fetchall(
            "SELECT organisation_id, organisation, version, head_hash FROM organisation_index"
            " ORDER BY organisation"
        )

    def stream_ids(self) -> list[UUID]:
        """Every stream with events or an index row (a stream without one is tampering)."""
        rows = self.db.fetchall("SELECT DISTINCT organisation_id FROM organisation_events")
        ids = {UUID(str(r["organisation_id"])) for r in rows}
        ids |= {UUID(str(r["organisation_id"])) for r in self.index()}
        return sorted(ids)

    def save(
        self, aggregate: Organisation, before: int, also: Sequence[RowWrite], now: datetime
    ) -> tuple[int, ...]:
        """The aggregate's new events, its index row and `also`, in one transaction.
        Returns the new positions; another writer first raises `VersionConflict`."""
        pending = aggregate.collect_events()
        stream = str(aggregate.id)
        rows = [
            RowWrite(
                "organisation_events",
                {
                    "organisation_id": stream,
                    "position": event.originator_version,
                    "topic": get_topic(type(event)),
                    "payload": encode(typing.cast(OrganisationEvent, event)),
                },
            )
            for event in pending
        ]
        rows.append(
            RowWrite(
                "organisation_index",
                {
                    "organisation_id": stream,
                    "organisation": aggregate.state.organisation,
                    "version": aggregate.version,
                    "head_hash": aggregate.head_hash,
                    "updated_at": now.isoformat(),
                },
                upsert_on=("organisation_id",),
            )
        )
        try:
            with self.db.transaction() as tx:
                tx.write(*rows, *also)
        except (IntegrityError, sqlite3.IntegrityError, psycopg.errors.IntegrityError):
            actual = self.version(aggregate.state.organisation)
            if actual != before:
                raise VersionConflict(before, actual) from None
            raise
        return tuple(range(before + 1, aggregate.version + 1))
