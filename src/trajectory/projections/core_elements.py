"""The core-element matrix: which of the 15 core elements (kernelementen) each trajectory
evidences, on any date; and the organisation's quality signals per month.

What the inspectorate asks: "do you apply the core elements, and since when?" So every
fact that bears on an element is stored with its day (`occurred_on`, as corrected by a
later `EntryCorrected`) and its position in the trajectory, and every waiver of an entry
criterion with the position of the event that granted it (its justification is free
text: it stays in the encrypted event and is read on demand, see
`waiver_justifications`). The matrix as of any day is then a query, not a replay.
A fact marked in error (`EntryMarkedInError`) is removed, as it is from the state.

Which element a fact bears on is declared with the fact in `trajectory.facts`; what
counts as evidence of an element (one event never does on its own), when it is due and
what makes it missing are the rules of `trajectory.protocol.evidence` (`RULES`, and
docs/core-elements.md written from them). This module stores what the rules read: beside the
declared facts, the ones whose fields matter (`facts_of`): the signals interpreted
together by two or more disciplines (2) and discussed with her (3); phase advances and
regressions with the phase entered (10); a permission above its phase's cap (10, a
breach); her return from a runaway (5 and 6 due again); an aftercare contact only when it
reached her (15); care ended without a warm handover, argued (15, an exception); the
CoMensha decision with what was decided (`comensha-decision:<decision>`, 4: a decision to
register is evidenced only by the report sent after it); and the waivers of phase advances
and of the end of care.

Waivers map to elements by criterion: safety-analysis and safety-after-runaway 5,
medical-assessment and medical-after-runaway 6, care-analysis / care-analysis-current /
treatment-plan 7, family-involvement 8, min-days-in-phase 10, trauma-therapy 11, education
12, comensha-decision 4, handover-* 15 (placement and runaway criteria are no core
elements).

Status of an element on a day: `evidenced`, `waived`, `due` (deadline not passed),
`missing` (deadline passed, or care ended), `not_applicable` (1 and 9: organisation level).

Quality signals: every `SignalRecorded` (by kind) and `RunawayReported`, counted per
organisation and month of `occurred_on`.

No identity and no free text: ids, codes, dates and positions only. The stored shape is
versioned (`CoreElementsProjection.version`): a change of it rebuilds the tables from the
log at start-up (`trajectory.projections.runner`).
"""

from __future__ import annotations

import json
import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args
from uuid import UUID

import msgspec
from eventsourcing.sqlite import SQLiteDatastore

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import ComenshaRegistrationDecided
from trajectory.aggregates.events.closure import (
    EntryCorrected,
    EntryMarkedInError,
    TrajectoryClosed,
)
from trajectory.aggregates.events.handover import (
    AftercareContactRecorded,
    AftercareStarted,
)
from trajectory.aggregates.events.intake import SignalsInterpreted, TrajectoryOpened
from trajectory.aggregates.events.phasing import (
    PermissionChanged,
    PermissionsCapped,
    PhaseAdvanced,
    PhaseRegressed,
    Waiver,
)
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.aggregates.events.runaway import RunawayEnded, RunawayReported
from trajectory.aggregates.events.treatment import InterventionDelivered
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import level_rank
from trajectory.crypto import TrajectoryErased
from trajectory.facts import FACTS, Evidence, EvidenceByKind
from trajectory.persistence.database import Database, Transaction
from trajectory.projections.framework import (
    Change,
    Projection,
    Writes,
    from_row,
    insert_statement,
    row_values,
    upsert_statement,
)
from trajectory.protocol import ProtocolRegistry
from trajectory.protocol.evidence import (
    ELEMENTS,
    ORGANISATION_LEVEL,
    ElementStatus,
    FactKind,
    Span,
    Verdict,
    judge,
    judge_all,
)
from trajectory.protocol.model import Protocol
from trajectory.visibility import Someone, related_filter

__all__ = ["ELEMENTS", "ORGANISATION_LEVEL", "ElementStatus", "FactKind"]


class EventStreams(typing.Protocol):
    """Where a trajectory's stored events are read (the application): named by what is
    used, so that a read model does not import the write side."""

    def stream(self, trajectory_id: UUID) -> Iterator[TrajectoryEvent]: ...


# Which element each fact bears on is declared with the fact, in `trajectory.facts`.
BY_KIND: dict[type[TrajectoryEvent], EvidenceByKind] = {
    fact.event: fact.element for fact in FACTS if isinstance(fact.element, EvidenceByKind)
}
INTERVENTION_ELEMENTS: Mapping[str, int] = BY_KIND[InterventionDelivered].elements
EVIDENCE: dict[type[TrajectoryEvent], tuple[int, str]] = {
    fact.event: (fact.element.element, fact.element.code)
    for fact in FACTS
    if isinstance(fact.element, Evidence)
}
WAIVED_ELEMENT: dict[str, int] = {
    "safety-analysis": 5,
    "safety-after-runaway": 5,
    "medical-assessment": 6,
    "medical-after-runaway": 6,
    "care-analysis": 7,
    "care-analysis-current": 7,
    "treatment-plan": 7,
    "family-involvement": 8,
    "min-days-in-phase": 10,
    "trauma-therapy": 11,
    "education": 12,
    "comensha-decision": 4,
    "handover-prepared": 15,
    "handover-meeting": 15,
    "handover-accepted": 15,
}
NO_INSTRUMENT = frozenset({"", "not recorded"})


def deadlines(protocol: Protocol, intake: date) -> dict[int, date]:
    """The fixed deadlines of the elements that have one, from the protocol's numbers."""
    a = protocol.attention

    def days(n: int) -> date:
        return intake + timedelta(days=n)

    return {
        2: days(a.safety_analysis_within_days),
        3: days(a.care_analysis_first_within_days),
        4: days(a.comensha_decision_within_days),
        5: days(a.safety_analysis_within_days),
        6: days(a.safety_analysis_within_days),
        7: days(a.care_analysis_first_within_days),
        8: days(a.care_analysis_first_within_days),
        12: days(a.education_within_days),
    }


def rule_numbers(protocol: Protocol) -> dict[str, Any]:
    """The protocol's numbers the evidence rules read besides the deadlines."""
    a = protocol.attention
    return {
        "min_days_in_phase": {str(p.number): p.min_days_in_previous_phase for p in protocol.phase},
        "after_runaway_within_days": a.after_runaway_within_days,
        "aftercare_contact_interval_days": a.aftercare_contact_interval_days,
    }


# -- rows -------------------------------------------------------------------------------------

SignalCode = Literal["loverboy", "sexual_abuse", "boundary_crossing", "runaway", "runaway_reported"]
SIGNAL_CODES: tuple[SignalCode, ...] = get_args(SignalCode)


class ElementTrajectoryRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    organisation: str
    intake_date: date
    care_ended_on: date | None
    aftercare_started_on: date | None
    deadlines: str  # JSON: element number -> ISO date
    care_analysis_interval_days: int
    rule_numbers: str  # JSON: `rule_numbers(protocol)`

    def span(self) -> Span:
        numbers = json.loads(self.rule_numbers)
        fixed = json.loads(self.deadlines)
        return Span(
            intake=self.intake_date,
            care_ended_on=self.care_ended_on,
            aftercare_started_on=self.aftercare_started_on,
            deadlines={int(k): date.fromisoformat(v) for k, v in fixed.items()},
            care_analysis_interval_days=self.care_analysis_interval_days,
            min_days_in_phase={int(k): int(v) for k, v in numbers["min_days_in_phase"].items()},
            after_runaway_within_days=int(numbers["after_runaway_within_days"]),
            aftercare_contact_interval_days=int(numbers["aftercare_contact_interval_days"]),
        )


class FactRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    position: int
    element: int
    code: str
    kind: FactKind
    occurred_on: date


class SignalRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    position: int
    organisation: str
    month: str  # YYYY-MM
    kind: SignalCode


_DDL = [
    """CREATE TABLE IF NOT EXISTS core_element_trajectories (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        intake_date TEXT NOT NULL,
        care_ended_on TEXT,
        aftercare_started_on TEXT,
        deadlines TEXT NOT NULL,
        care_analysis_interval_days INTEGER NOT NULL,
        rule_numbers TEXT NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS core_element_trajectories_org
        ON core_element_trajectories (organisation, intake_date)""",
    """CREATE TABLE IF NOT EXISTS core_element_facts (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        element INTEGER NOT NULL,
        code TEXT NOT NULL,
        kind TEXT NOT NULL,
        occurred_on TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, position, element, code)
    )""",
    """CREATE TABLE IF NOT EXISTS quality_signals (
        trajectory_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        organisation TEXT NOT NULL,
        month TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, position)
    )""",
    "CREATE INDEX IF NOT EXISTS quality_signals_org ON quality_signals (organisation, month)",
]
_UPSERT_TRAJECTORY = upsert_statement(
    "core_element_trajectories", ElementTrajectoryRow, ("trajectory_id",)
)
_INSERT_FACT = insert_statement(
    "core_element_facts", FactRow, ("trajectory_id", "position", "element", "code")
)
_INSERT_SIGNAL = insert_statement("quality_signals", SignalRow, ("trajectory_id", "position"))
# `apply` writes these rows as plain tuples, in this column order.
assert FactRow.__struct_fields__ == (
    "trajectory_id", "position", "element", "code", "kind", "occurred_on"
)
assert SignalRow.__struct_fields__ == ("trajectory_id", "position", "organisation", "month", "kind")
_DELETE_FACTS = "DELETE FROM core_element_facts WHERE trajectory_id = ? AND position = ?"
_DELETE_SIGNAL = "DELETE FROM quality_signals WHERE trajectory_id = ? AND position = ?"
_CORRECT_FACTS = (
    "UPDATE core_element_facts SET occurred_on = ? WHERE trajectory_id = ? AND position = ?"
)
_CORRECT_SIGNAL = "UPDATE quality_signals SET month = ? WHERE trajectory_id = ? AND position = ?"

Found = list[tuple[int, str, FactKind]]


def _waived(waivers: Iterable[Waiver]) -> Found:
    found: Found = []
    for waiver in waivers:
        element = WAIVED_ELEMENT.get(waiver.criterion)
        if element is not None:
            found.append((element, waiver.criterion, "waiver"))
    return found


def facts_of(event: TrajectoryEvent) -> Found:
    """(element, code, kind) for every element this event bears on, as the evidence rules
    read it (`trajectory.protocol.evidence`); without the state (a cap breach, see
    `breaches`)."""
    if isinstance(event, TrajectoryOpened):
        instrument = event.risk_assessment_instrument.strip().lower()
        return [] if instrument in NO_INSTRUMENT else [(2, "risk-assessment", "evidence")]
    if isinstance(event, SignalsInterpreted):
        found: Found = []
        if event.together and len(set(event.disciplines)) >= 2:
            found.append((2, "signals-interpreted", "evidence"))
        if event.discussed_with_her:
            found.append((3, "signals-discussed", "evidence"))
        return found
    if isinstance(event, AftercareContactRecorded):
        return [(15, "aftercare-contact", "evidence")] if event.outcome == "reached" else []
    if isinstance(event, ComenshaRegistrationDecided):
        return [(4, f"comensha-decision:{event.decision}", "evidence")]
    by_kind = BY_KIND.get(type(event))
    if by_kind is not None:
        kind = str(getattr(event, "kind"))  # noqa: B009 - every such event has a kind
        element = by_kind.elements.get(kind)
        return [] if element is None else [(element, f"{by_kind.prefix}:{kind}", "evidence")]
    found = []
    evidence = EVIDENCE.get(type(event))
    if evidence is not None:
        found.append((evidence[0], evidence[1], "evidence"))
    if isinstance(event, PhaseAdvanced):
        found.append((10, f"phase-advanced:{event.to_phase}", "evidence"))
        found += _waived(event.waivers)
    elif isinstance(event, PhaseRegressed):
        found.append((10, f"phase-regressed:{event.to_phase}", "evidence"))
    elif isinstance(event, RunawayEnded):
        found += [(5, "runaway-returned", "due"), (6, "runaway-returned", "due")]
    elif isinstance(event, (AftercareStarted, TrajectoryClosed)):
        if event.without_handover is not None:
            found.append((15, "without-handover", "exception"))
        found += _waived(event.waivers)
    return found


def breaches(state: TrajectoryState, protocol: Protocol) -> Found:
    """A permission above her phase's cap (element 10): the rules refuse one, so this finds
    only what came in under other rules (an older version, a protocol file changed under
    the same version); the matrix must not call such phasing evidenced."""
    if not 1 <= state.phase <= protocol.last_phase:
        return []
    caps = protocol.phase_spec(state.phase).caps
    return [
        (10, f"above-cap:{kind}", "breach")
        for kind, level in sorted(state.permissions.items())
        if kind in caps and level_rank(kind, level) > level_rank(kind, caps[kind])
    ]


_CARE_SPAN = (TrajectoryOpened, AftercareStarted, TrajectoryClosed)
"""The events that change when care began or ended."""
_CAPPED = (PermissionChanged, PermissionsCapped, PhaseAdvanced)
"""The events after which her permissions must lie within her phase's caps (not a
regression: its `PermissionsCapped` follows in the same transaction)."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `CoreElementsProjection.apply` does with an event of one class, worked out once
    per class (a rebuild asks for every event)."""

    care_span: bool
    facts: Found | None
    """The same for every event of the class, or None: ask `facts_of` each time."""
    signal: SignalCode | None
    """The quality signal of every event of the class (for SignalRecorded: read its kind)."""
    signals: bool
    marks: bool
    """Marks or corrects an earlier entry."""
    caps: bool
    """Check her permissions against her phase's caps after it."""

    @property
    def acts(self) -> bool:
        """Whether an event of the class changes any row (most change none)."""
        return self.care_span or self.facts != [] or self.signals or self.marks or self.caps

    @classmethod
    def of(cls, event_class: type[TrajectoryEvent]) -> _Plan:
        varies = issubclass(
            event_class,
            (
                TrajectoryOpened,
                SignalsInterpreted,
                AftercareContactRecorded,
                ComenshaRegistrationDecided,
                PhaseAdvanced,
                PhaseRegressed,
                RunawayEnded,
                AftercareStarted,
                TrajectoryClosed,
                *BY_KIND,
            ),
        )
        evidence = EVIDENCE.get(event_class)
        facts: Found = [(evidence[0], evidence[1], "evidence")] if evidence else []
        signal: SignalCode | None = None
        if issubclass(event_class, RunawayReported):
            signal = "runaway_reported"
        return cls(
            care_span=issubclass(event_class, _CARE_SPAN),
            facts=None if varies else facts,
            signal=signal,
            signals=signal is not None or issubclass(event_class, SignalRecorded),
            marks=issubclass(event_class, (EntryMarkedInError, EntryCorrected)),
            caps=issubclass(event_class, _CAPPED),
        )


_PLANS: dict[type[TrajectoryEvent], _Plan] = {}


def _plan(event_class: type[TrajectoryEvent]) -> _Plan:
    plan = _PLANS.get(event_class)
    if plan is None:
        plan = _PLANS[event_class] = _Plan.of(event_class)
    return plan


class CoreElementsProjection(Projection):
    name = "core_elements"
    tables = ("core_element_trajectories", "core_element_facts", "quality_signals")
    version = 3
    """2: the evidence rules (the trajectory's protocol numbers and aftercare start; facts
    of kinds due, breach and exception; phase moves, sessions, reached contacts).
    3: element 4 by the CoMensha report (the report sent stored; the decision stored with
    what was decided, `comensha-decision:<decision>`)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._writes = Writes()

    def ddl(self) -> list[str]:
        return list(_DDL)

    def wants(self, event_class: type[TrajectoryEvent]) -> bool:
        return _plan(event_class).acts

    def apply(self, change: Change) -> None:
        event, tid, version = change.event, change.trajectory_id, change.version
        plan = _plan(type(event))
        writes = self._writes
        if plan.care_span or plan.caps:
            s = change.state
            protocol = self.protocols.get(s.protocol_name, s.protocol_version)
        if plan.care_span:
            ended = [d for d in (s.aftercare_started_on, s.closed_on) if d is not None]
            row = ElementTrajectoryRow(
                trajectory_id=tid,
                organisation=s.organisation,
                intake_date=s.intake_date,
                care_ended_on=min(ended, default=None),
                aftercare_started_on=s.aftercare_started_on,
                deadlines=json.dumps(
                    {str(k): v.isoformat() for k, v in deadlines(protocol, s.intake_date).items()},
                    sort_keys=True,
                ),
                care_analysis_interval_days=protocol.attention.care_analysis_interval_days,
                rule_numbers=json.dumps(rule_numbers(protocol), sort_keys=True),
            )
            writes.upsert(_UPSERT_TRAJECTORY, tid, row_values(row))
        facts = plan.facts if plan.facts is not None else facts_of(event)
        if plan.caps:
            facts = [*facts, *breaches(change.state, protocol)]
        if facts:
            on = event.occurred_on.isoformat()
            for element, code, kind in facts:
                # A FactRow as stored, in its column order (a rebuild writes one per event).
                writes.insert(_INSERT_FACT, tid, version, (tid, version, element, code, kind, on))
        if plan.signals:
            signal = event.kind if isinstance(event, SignalRecorded) else plan.signal
            # A SignalRow as stored, in its column order.
            month = event.occurred_on.isoformat()[:7]
            stored = (tid, version, change.state.organisation, month, signal)
            writes.insert(_INSERT_SIGNAL, tid, version, stored)
        correction = event.corrects() if plan.marks else None
        if correction is not None:
            at = correction.position
            if correction.in_error:
                writes.delete(_DELETE_FACTS, tid, at, (tid, at), rows_of=(_INSERT_FACT,))
                writes.delete(_DELETE_SIGNAL, tid, at, (tid, at), rows_of=(_INSERT_SIGNAL,))
            elif correction.occurred_on is not None:
                day = correction.occurred_on.isoformat()
                # The same columns of the rows gathered: occurred_on of a fact, month of a
                # signal (see the column orders above).
                writes.update(
                    _CORRECT_FACTS, tid, at, (day, tid, at), rows_of={_INSERT_FACT: (5, day)}
                )
                writes.update(
                    _CORRECT_SIGNAL,
                    tid,
                    at,
                    (day[:7], tid, at),
                    rows_of={_INSERT_SIGNAL: (3, day[:7])},
                )

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        self._writes.run(tx, erased)

    def discard(self) -> None:
        self._writes.clear()


# -- the matrix -------------------------------------------------------------------------------

ELEMENT_STATUSES: tuple[ElementStatus, ...] = get_args(ElementStatus)


class WaiverOut(msgspec.Struct, frozen=True, kw_only=True):
    """A waived entry criterion (or an argued exception: `without-handover`): the event (by
    position) that granted it."""

    position: int
    criterion: str
    on: date


class ElementOut(msgspec.Struct, frozen=True, kw_only=True):
    element: int
    name: str
    status: ElementStatus
    evidenced_on: date | None
    positions: list[int]
    waivers: list[WaiverOut]
    due_on: date | None


class TrajectoryElementsOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    intake_date: date
    care_ended_on: date | None
    elements: list[ElementOut]


class ElementCountsOut(msgspec.Struct, frozen=True, kw_only=True):
    element: int
    name: str
    evidenced: int
    waived: int
    due: int
    missing: int
    not_applicable: int


class MatrixOut(msgspec.Struct, frozen=True, kw_only=True):
    """Per trajectory taken in by `as_of`, and for the organisation, on that day. The
    rows per trajectory are those of the girls the reader has a relationship with
    (`visibility.related_filter`); the totals stay the whole organisation's: a total
    names nobody, and how well the organisation applies each element is its question."""

    organisation: str
    as_of: date
    trajectories: list[TrajectoryElementsOut]
    totals: list[ElementCountsOut]


def element_out(element: int, verdict: Verdict) -> ElementOut:
    return ElementOut(
        element=element,
        name=ELEMENTS[element],
        status=verdict.status,
        evidenced_on=verdict.evidenced_on,
        positions=verdict.positions,
        waivers=[
            WaiverOut(position=w.position, criterion=w.code, on=w.occurred_on)
            for w in verdict.waivers
        ],
        due_on=verdict.due_on,
    )


def element_status(
    element: int, t: ElementTrajectoryRow, facts: Sequence[FactRow], as_of: date
) -> ElementOut:
    """One element of one trajectory on `as_of`, by its evidence rule."""
    return element_out(element, judge(element, t.span(), facts, as_of))


class CoreElementsView:
    def __init__(self, db: Database):
        self.db = db

    def known_on(
        self, organisation: str, as_of: date
    ) -> tuple[list[ElementTrajectoryRow], dict[str, list[FactRow]]]:
        """The organisation's trajectories taken in by `as_of` (the earliest intake
        first), and the facts of each that happened by then."""
        day = as_of.isoformat()
        with self.db.transaction(commit=False) as tx:
            trajectories = [
                from_row(ElementTrajectoryRow, r)
                for r in tx.fetchall(
                    "SELECT * FROM core_element_trajectories"
                    " WHERE organisation = ? AND intake_date <= ? ORDER BY intake_date,"
                    " trajectory_id",
                    [organisation, day],
                )
            ]
            rows = tx.fetchall(
                "SELECT f.* FROM core_element_facts f JOIN core_element_trajectories t"
                " ON t.trajectory_id = f.trajectory_id"
                " WHERE t.organisation = ? AND t.intake_date <= ? AND f.occurred_on <= ?",
                [organisation, day, day],
            )
        facts: dict[str, list[FactRow]] = defaultdict(list)
        for r in rows:
            fact: FactRow = from_row(FactRow, r)
            facts[fact.trajectory_id].append(fact)
        return trajectories, facts

    def matrix(
        self, organisation: str, as_of: date, *, rows_of: frozenset[str] | None = None
    ) -> MatrixOut:
        """`rows_of`: the trajectories listed one by one (None: every one); the totals
        count every trajectory of the organisation."""
        trajectories, facts = self.known_on(organisation, as_of)
        out: list[TrajectoryElementsOut] = []
        totals = {e: dict.fromkeys(ELEMENT_STATUSES, 0) for e in ELEMENTS}
        for t in trajectories:
            verdicts = judge_all(t.span(), facts[t.trajectory_id], as_of)
            elements = [element_out(e, verdicts[e]) for e in ELEMENTS]
            for element in elements:
                totals[element.element][element.status] += 1
            if rows_of is not None and t.trajectory_id not in rows_of:
                continue
            out.append(
                TrajectoryElementsOut(
                    id=UUID(t.trajectory_id),
                    intake_date=t.intake_date,
                    care_ended_on=t.care_ended_on,
                    elements=elements,
                )
            )
        return MatrixOut(
            organisation=organisation,
            as_of=as_of,
            trajectories=out,
            totals=[ElementCountsOut(element=e, name=ELEMENTS[e], **totals[e]) for e in ELEMENTS],
        )

    def signals(self, organisation: str, from_month: str, to_month: str) -> SignalsOut:
        first, last = _month(from_month), _month(to_month)
        if last < first:
            raise ValueError("to_month comes before from_month")
        rows = self.db.fetchall(
            "SELECT month, kind, COUNT(*) AS n FROM quality_signals"
            " WHERE organisation = ? AND month >= ? AND month <= ? GROUP BY month, kind",
            [organisation, first, last],
        )
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for r in rows:
            counts[str(r["month"])][str(r["kind"])] = int(r["n"])
        return SignalsOut(
            organisation=organisation,
            from_month=first,
            to_month=last,
            months=[
                MonthSignalsOut(
                    month=m,
                    loverboy=counts[m].get("loverboy", 0),
                    sexual_abuse=counts[m].get("sexual_abuse", 0),
                    boundary_crossing=counts[m].get("boundary_crossing", 0),
                    runaway_signals=counts[m].get("runaway", 0),
                    runaways_reported=counts[m].get("runaway_reported", 0),
                )
                for m in _months(first, last)
            ],
        )


# -- quality signals ------------------------------------------------------------------------------


class MonthSignalsOut(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    loverboy: int
    sexual_abuse: int
    boundary_crossing: int
    runaway_signals: int
    runaways_reported: int


class SignalsOut(msgspec.Struct, frozen=True, kw_only=True):
    """The organisation's quality signals per month (by the day they happened)."""

    organisation: str
    from_month: str
    to_month: str
    months: list[MonthSignalsOut]


def _month(value: str | date) -> str:
    """'YYYY-MM' from a month string or any day of the month."""
    if isinstance(value, date):
        return value.isoformat()[:7]
    try:
        return date.fromisoformat(f"{value}-01").isoformat()[:7]
    except ValueError:
        raise ValueError(f"{value!r} is not a month (YYYY-MM)") from None


def _months(first: str, last: str) -> Iterable[str]:
    year, month = int(first[:4]), int(first[5:])
    while f"{year:04d}-{month:02d}" <= last:
        yield f"{year:04d}-{month:02d}"
        month += 1
        if month > 12:
            year, month = year + 1, 1


# -- justifications, on demand --------------------------------------------------------------------


class WaiverJustificationOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    criterion: str
    element: int | None
    on: date
    justification: str


def waiver_justifications(
    app: EventStreams, trajectory_id: UUID, positions: Sequence[int] | None = None
) -> list[WaiverJustificationOut]:
    """The justifications of a trajectory's waivers, read from its (encrypted) events: the
    read model stores only where they are. Access control is the caller's."""
    wanted = None if positions is None else set(positions)
    out: list[WaiverJustificationOut] = []
    for event in app.stream(trajectory_id):
        if not isinstance(event, (PhaseAdvanced, AftercareStarted, TrajectoryClosed)):
            continue
        if wanted is not None and event.originator_version not in wanted:
            continue
        argued = [(w.criterion, w.justification) for w in event.waivers]
        if not isinstance(event, PhaseAdvanced) and event.without_handover is not None:
            # The argued exception of element 15: care ended without a warm handover.
            argued.append(("without-handover", event.without_handover.argument))
        for criterion, justification in argued:
            out.append(
                WaiverJustificationOut(
                    position=event.originator_version,
                    criterion=criterion,
                    element=15 if criterion == "without-handover"
                    else WAIVED_ELEMENT.get(criterion),
                    on=event.occurred_on,
                    justification=justification,
                )
            )
    return out


def matrix_as_known(
    db: Database,
    app: EventStreams,
    protocols: ProtocolRegistry,
    organisation: str,
    as_of: date,
    known_by: datetime,
    *,
    seen_by: Someone | None = None,
) -> MatrixOut:
    """The matrix as it could be read at `known_by`: only what had been recorded by then,
    judged on `as_of`. The read model keeps no recording times, so the organisation's
    streams are replayed, up to that moment, through this same projection into a scratch
    store: every event of the organisation is read, which is slow, and meant for the
    occasional question of an audit ("what did the figures say then?"), not for every
    visit. A destroyed file is left out, as the read model leaves it out."""
    scratch = Database("sqlite", SQLiteDatastore(":memory:"))
    projection = CoreElementsProjection(protocols)
    with scratch.transaction() as tx:
        projection.create_tables(tx)
    rows = db.fetchall(
        "SELECT trajectory_id FROM trajectory_index WHERE organisation = ?", [organisation]
    )
    for row in rows:
        tid = str(row["trajectory_id"])
        traj: Any = None
        try:
            for event in app.stream(UUID(tid)):
                if event.timestamp > known_by:
                    break
                traj = event.mutate(traj)
                if projection.wants(type(event)):
                    version = event.originator_version
                    projection.apply(Change(version, event, traj.state, tid, version))
        except TrajectoryErased:
            continue
    with scratch.transaction() as tx:
        projection.flush(tx, frozenset())
    return CoreElementsView(scratch).matrix(organisation, as_of,
                                            rows_of=_related(db, organisation, seen_by))


def matrix(
    db: Database, organisation: str, as_of: date, *, seen_by: Someone | None = None
) -> MatrixOut:
    """The 15 core elements of every trajectory of `organisation` taken in by `as_of`:
    the organisation's totals, and a row for each girl `seen_by` has a relationship with
    (None: for each girl; someone who sees no girl's record gets the totals only)."""
    return CoreElementsView(db).matrix(organisation, as_of,
                                       rows_of=_related(db, organisation, seen_by))


def _related(db: Database, organisation: str, seen_by: Someone | None) -> frozenset[str] | None:
    """The trajectories of the organisation `seen_by` has a relationship with (None: no
    one asked, every trajectory)."""
    if seen_by is None:
        return None
    related, params = related_filter(seen_by)
    rows = db.fetchall(
        f"SELECT trajectory_id FROM trajectory_index WHERE organisation = ? AND {related}",
        [organisation, *params],
    )
    return frozenset(str(r["trajectory_id"]) for r in rows)


def signals(
    db: Database, organisation: str, from_month: str | date, to_month: str | date
) -> SignalsOut:
    """Quality signals per month, `from_month` to `to_month` inclusive ('YYYY-MM')."""
    return CoreElementsView(db).signals(organisation, _month(from_month), _month(to_month))


def evidenced_counts(
    db: Database, organisation: str, days: Sequence[date]
) -> dict[date, dict[int, int]]:
    """On each of `days`, how many of the organisation's girls had each core element
    evidenced (as `matrix` judges it on that day): the rows are read once for all the
    days, not once a day (a dashboard asks for twelve month-ends)."""
    if not days:
        return {}
    trajectories, facts = CoreElementsView(db).known_on(organisation, max(days))
    out: dict[date, dict[int, int]] = {}
    for day in days:
        counts = dict.fromkeys(ELEMENTS, 0)
        for t in trajectories:
            if t.intake_date > day:
                continue
            known = [f for f in facts[t.trajectory_id] if f.occurred_on <= day]
            for element, verdict in judge_all(t.span(), known, day).items():
                if element_out(element, verdict).status == "evidenced":
                    counts[element] += 1
        out[day] = counts
    return out
