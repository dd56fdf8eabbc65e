"""Read models computed from one trajectory: the summary, its history, the handover view.

Pure functions of a trajectory (or its events), its protocol and a day. They hold no
domain rules of their own: what is due comes from `trajectory.protocol.attention`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.handover import (
    AftercareContactDetailsRecorded,
    AftercareContactRecorded,
    ExternalReceiver,
    HandoverPackage,
    HandoverParty,
    HandoverPrepared,
)
from trajectory.aggregates.events.intake import Identity, TrajectoryOpened
from trajectory.aggregates.trajectory import Trajectory
from trajectory.aggregates.vocabulary import (
    AftercareContactKind,
    ComenshaDecision,
    ContactLevel,
    ContactOutcome,
    ContactRisk,
    Destination,
    Level,
    PermissionKind,
)
from trajectory.protocol.attention import AttentionItem, attention_items
from trajectory.protocol.model import Protocol
from trajectory.protocol.out_of_view import (
    OutOfView,
    contact_interval_days,
    next_contact_due,
    out_of_view,
)
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


class ContactDetailsOut(msgspec.Struct, kw_only=True):
    """How to reach her, as last recorded for aftercare."""

    phone: str
    address: str
    school_or_work: str
    note: str
    recorded_on: date


class HandoverIdentityOut(msgspec.Struct, kw_only=True):
    """Who she is and how to reach her: for the receiving worker from the warm handover
    meeting on (her coordinator always)."""

    name: str
    date_of_birth: date
    home_region: str
    contact_details: ContactDetailsOut | None


class AftercareContactOut(msgspec.Struct, kw_only=True):
    """One aftercare contact (or attempt), with its outcome and note."""

    position: int
    date: date
    kind: AftercareContactKind
    outcome: ContactOutcome
    note: str
    recorded_by: str
    recorded_by_name: str


class UserRefOut(msgspec.Struct, kw_only=True):
    id: str
    name: str


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
    # Added for the chain (issue 14): read by the receiving worker to reach her.
    comensha_decision: ComenshaDecision | None = None
    identity: HandoverIdentityOut | None = None
    contacts: list[AftercareContactOut] = msgspec.field(default_factory=list)
    turns_18_on: date | None = None
    sending_coordinator: UserRefOut | None = None
    contact_every_days: int = 28
    parties: list[HandoverParty] = msgspec.field(default_factory=list)
    external_receiver: ExternalReceiver | None = None
    destination: Destination | None = None
    out_of_view_reasons: list[OutOfView] = msgspec.field(default_factory=list)


def turns_18_on(date_of_birth: date) -> date:
    """Her 18th birthday (born on 29 February: 1 March, as Dutch law counts it)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:
        return date(date_of_birth.year + 18, 3, 1)


def handover_view(
    t: Trajectory,
    events: Iterable[TrajectoryEvent],
    protocol: Protocol,
    today: date,
    *,
    with_identity: bool = True,
    name_of: Callable[[str], str] | None = None,
) -> HandoverOut:
    """The handover view. `with_identity`: whether the reader may see who she is and how
    to reach her (the receiving worker from the handover meeting on, see
    `trajectory.visibility.sees_identity`); `name_of` turns user ids into names."""
    s = t.state
    h = s.handover
    names = name_of or (lambda user_id: user_id)
    stream = list(events)
    corrections = Corrections.of(stream)
    prepared: HandoverPrepared | None = None
    opened: TrajectoryOpened | None = None
    details: AftercareContactDetailsRecorded | None = None
    contacts: list[AftercareContactOut] = []
    for event in stream:
        if isinstance(event, TrajectoryOpened):
            opened = event
        if not corrections.counts(event.originator_version):
            continue
        if isinstance(event, HandoverPrepared):
            prepared = event
        elif isinstance(event, AftercareContactDetailsRecorded):
            details = event
        elif isinstance(event, AftercareContactRecorded):
            contacts.append(
                AftercareContactOut(
                    position=event.originator_version,
                    date=corrections.occurred_on(event),
                    kind=event.kind,
                    outcome=event.outcome,
                    note=event.note,
                    recorded_by=event.recorded_by,
                    recorded_by_name=names(event.recorded_by),
                )
            )
    contacts.sort(key=lambda c: (c.date, c.position))
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
    reasons = out_of_view(s, protocol, today)
    age = age_on(s.date_of_birth, today)
    identity: HandoverIdentityOut | None = None
    if with_identity and opened is not None:
        identity = HandoverIdentityOut(
            name=opened.identity.name,
            date_of_birth=opened.identity.date_of_birth,
            home_region=opened.identity.home_region,
            contact_details=ContactDetailsOut(
                phone=details.phone,
                address=details.address,
                school_or_work=details.school_or_work,
                note=details.note,
                recorded_on=corrections.occurred_on(details),
            )
            if details is not None
            else None,
        )
    return HandoverOut(
        id=t.id,
        version=t.version,
        state=state,
        receiving_organisation=h.receiving_organisation,
        receiving_worker=h.receiving_worker,
        prepared_on=h.prepared_on,
        meeting_on=h.meeting_on,
        accepted_on=h.accepted_on,
        package=prepared.package if prepared is not None else None,
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
        next_contact_due_on=next_contact_due(s, protocol),
        out_of_view=bool(reasons),
        age=age,
        adult=age >= 18,
        comensha_decision=(
            prepared.comensha_decision
            if prepared is not None and prepared.comensha_decision is not None
            else s.comensha_decision
        ),
        identity=identity,
        contacts=contacts,
        turns_18_on=turns_18_on(s.date_of_birth) if with_identity else None,
        sending_coordinator=(
            UserRefOut(id=prepared.recorded_by, name=names(prepared.recorded_by))
            if prepared is not None
            else None
        ),
        contact_every_days=contact_interval_days(s, protocol),
        parties=list(prepared.parties) if prepared is not None else [],
        external_receiver=prepared.external_receiver if prepared is not None else None,
        destination=s.destination,
        out_of_view_reasons=reasons,
    )
