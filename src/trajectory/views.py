"""Read models computed from one trajectory: the summary, its history, the handover view.

Pure functions of a trajectory (or its events), its protocol and a day. They hold no
domain rules of their own: what is due comes from `trajectory.protocol.attention`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.handover import HandoverPackage, HandoverPrepared
from trajectory.aggregates.events.intake import Identity, TrajectoryOpened
from trajectory.aggregates.trajectory import Trajectory
from trajectory.aggregates.vocabulary import ContactLevel, ContactRisk, Level, PermissionKind
from trajectory.protocol.attention import AttentionItem, attention_items
from trajectory.protocol.model import Protocol
from trajectory.protocol.rules import age_on

_COMMON = {
    "originator_id",
    "originator_version",
    "timestamp",
    "occurred_on",
    "occurred_at",
    "recorded_by",
    "prev_hash",
    "hash",
    "originator_topic",
}


class ContactOut(msgspec.Struct, kw_only=True):
    contact_id: str
    role: str
    risk: ContactRisk
    level: ContactLevel
    cap: ContactLevel


class RunawayOut(msgspec.Struct, kw_only=True):
    since: date
    days: int


class ProtocolOut(msgspec.Struct, kw_only=True):
    name: str
    version: str


class TrajectorySummaryOut(msgspec.Struct, kw_only=True):
    """A trajectory at a glance: phase, permissions and their caps, contacts, what is due."""

    id: UUID
    version: int
    status: Literal["in_care", "aftercare", "closed"]
    phase: int
    phase_name: str
    days_in_phase: int
    organisation: str
    coordinator: str
    intake_date: date
    identity: Identity
    age: int
    victim_status: str
    risk_profiles: list[str]
    setting: str
    placement: str | None
    protocol: ProtocolOut
    permissions: dict[PermissionKind, Level]
    caps: dict[PermissionKind, Level]
    contacts: list[ContactOut]
    open_runaway: RunawayOut | None
    runaways: int
    regressions: int
    attention: list[AttentionItem]
    as_of: datetime | None = None


class EventOut(msgspec.Struct, kw_only=True):
    """One entry of the history, with its place in the hash chain."""

    position: int
    type: str
    occurred_on: date
    occurred_at: datetime | None
    recorded_at: datetime
    recorded_by: str
    prev_hash: str
    hash: str
    data: dict[str, Any]


def opening_event(events: Iterable[TrajectoryEvent]) -> TrajectoryOpened:
    for event in events:
        if isinstance(event, TrajectoryOpened):
            return event
        break
    raise LookupError("the stream does not start with TrajectoryOpened")


def summary(
    t: Trajectory,
    opened: TrajectoryOpened,
    protocol: Protocol,
    today: date,
    as_of: datetime | None = None,
) -> TrajectorySummaryOut:
    s = t.state
    spec = protocol.phase_spec(s.phase)
    entered = s.phase_entered_on or s.intake_date
    return TrajectorySummaryOut(
        id=t.id,
        version=t.version,
        status=s.status,
        phase=s.phase,
        phase_name=spec.name,
        days_in_phase=max((today - entered).days, 0),
        organisation=s.organisation,
        coordinator=s.coordinator,
        intake_date=s.intake_date,
        identity=opened.identity,
        age=age_on(s.date_of_birth, today),
        victim_status=s.victim_status,
        risk_profiles=list(s.risk_profiles),
        setting=s.setting,
        placement=s.placement,
        protocol=ProtocolOut(name=protocol.name, version=protocol.version),
        permissions=dict(s.permissions),
        caps=dict(spec.caps),
        contacts=[
            ContactOut(
                contact_id=c.contact_id,
                role=c.role,
                risk=c.risk,
                level=c.level,
                cap="none" if c.risk == "prohibited" else spec.network[c.risk],
            )
            for c in s.contacts.values()
        ],
        open_runaway=(
            RunawayOut(since=s.open_runaway.since, days=(today - s.open_runaway.since).days)
            if s.open_runaway
            else None
        ),
        runaways=s.runaway_count,
        regressions=s.regressions,
        attention=attention_items(s, protocol, today),
        as_of=as_of,
    )


def event_out(event: TrajectoryEvent) -> EventOut:
    data = {k: v for k, v in vars(event).items() if k not in _COMMON}
    return EventOut(
        position=event.originator_version,
        type=type(event).__name__,
        occurred_on=event.occurred_on,
        occurred_at=event.occurred_at,
        recorded_at=event.timestamp,
        recorded_by=event.recorded_by,
        prev_hash=event.prev_hash,
        hash=event.hash,
        data=msgspec.to_builtins(data),
    )


HandoverStateName = Literal[
    "not_prepared", "prepared", "meeting_held", "accepted", "in_aftercare", "ended"
]


class WatchedContactOut(msgspec.Struct, kw_only=True):
    role: str
    risk: ContactRisk
    level: ContactLevel


class HandoverOut(msgspec.Struct, kw_only=True):
    """What the aftercare worker needs to keep her in view, and nothing more."""

    id: UUID
    version: int
    state: HandoverStateName
    receiving_organisation: str | None
    receiving_worker: str | None
    prepared_on: date | None
    meeting_on: date | None
    accepted_on: date | None
    package: HandoverPackage | None
    contacts_to_watch: list[WatchedContactOut]
    restored_contacts: list[WatchedContactOut]
    education_arranged_on: date | None
    qualification_on: date | None
    aftercare_started_on: date | None
    last_aftercare_contact_on: date | None
    next_contact_due_on: date | None
    out_of_view: bool
    age: int
    adult: bool


def handover_view(
    t: Trajectory, events: Iterable[TrajectoryEvent], protocol: Protocol, today: date
) -> HandoverOut:
    s = t.state
    h = s.handover
    package: HandoverPackage | None = None
    stream = list(events)
    corrections = Corrections.of(stream)
    for event in stream:
        if isinstance(event, HandoverPrepared) and corrections.counts(event.originator_version):
            package = event.package
    if s.aftercare_ended_on or s.status == "closed":
        state: HandoverStateName = "ended"
    elif s.status == "aftercare":
        state = "in_aftercare"
    elif s.has("handover-accepted"):
        state = "accepted"
    elif s.has("handover-meeting"):
        state = "meeting_held"
    elif s.has("handover-prepared"):
        state = "prepared"
    else:
        state = "not_prepared"
    due = [i for i in attention_items(s, protocol, today) if i.code == "aftercare-contact"]
    age = age_on(s.date_of_birth, today)
    return HandoverOut(
        id=t.id,
        version=t.version,
        state=state,
        receiving_organisation=h.receiving_organisation,
        receiving_worker=h.receiving_worker,
        prepared_on=h.prepared_on,
        meeting_on=h.meeting_on,
        accepted_on=h.accepted_on,
        package=package,
        contacts_to_watch=[
            WatchedContactOut(role=c.role, risk=c.risk, level=c.level)
            for c in s.contacts.values()
            if c.risk in ("prohibited", "risky")
        ],
        restored_contacts=[
            WatchedContactOut(role=c.role, risk=c.risk, level=c.level)
            for c in s.contacts.values()
            if c.level != "none"
        ],
        education_arranged_on=s.latest("education"),
        qualification_on=s.latest("qualification"),
        aftercare_started_on=s.aftercare_started_on,
        last_aftercare_contact_on=s.latest("aftercare-contact"),
        next_contact_due_on=due[0].due_on if due else None,
        out_of_view=bool(due and due[0].overdue),
        age=age,
        adult=age >= 18,
    )
