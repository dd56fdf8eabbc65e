"""The core-element matrix: which of the 15 core elements (kernelementen) each trajectory
evidences, on any date; and the organisation's quality signals per month.

What the inspectorate asks: "do you apply the core elements, and since when?" So every
fact that evidences an element is stored with its day (`occurred_on`, as corrected by a
later `EntryCorrected`) and its position in the trajectory, and every waiver of an entry
criterion with the position of the `PhaseAdvanced` that granted it (its justification is
free text: it stays in the encrypted event and is read on demand, see
`waiver_justifications`). The matrix as of any day is then a query, not a replay.
A fact marked in error (`EntryMarkedInError`) is removed, as it is from the state.

The mapping from events to elements (the numbers of the action plan, see domain.md) is
declared with each fact in `trajectory.facts`; what it means, per
element: evidenced by (deadline)
- 1 professionals know the problem; 9 positive pedagogical climate: organisation level,
  not applicable per trajectory.
- 2 signals, risk assessment: `TrajectoryOpened` with a risk-assessment instrument
  recorded (the intake day).
- 3 follow-up steps: a network analysis (`NetworkContactRegistered`) and the police report
  discussed (`PoliceReportDiscussed`, or filed); both, evidenced on the later of the two
  (the first care analysis).
- 4 CoMensha registration: `ComenshaRegistrationDecided` (the CoMensha decision).
- 5 safety first: `SafetyAnalysisRecorded` (the safety analysis).
- 6 acute medical care: `MedicalCareAssessed` (the safety analysis: acute care goes with
  safety).
- 7 problem, risk, needs and strengths analysis: `CareAnalysisRecorded` (the first care
  analysis); repeated every `care_analysis_interval_days`: missing while in care once the
  last one is older than that.
- 8 parents and network involved: `FamilyInvolvementRecorded`, or family/system therapy
  (`InterventionDelivered`) (the first care analysis).
- 10 clear phases: any `PermissionChanged` or `PhaseAdvanced` (end of care).
- 11 trauma processing: `TraumaTherapyStarted` (end of care).
- 12 education from day one (and the future living situation): `EducationArranged`; the
  other facts the list gives element 12 (progress, qualifications, ...) add positions
  (education).
- 13 self-worth and self-determination: resilience training, body-oriented work, social
  or problem-solving skills (`InterventionDelivered`) (end of care).
- 14 relationships and sexuality: psycho-education on relationships or sexuality, an
  experiential expert (`InterventionDelivered`) (end of care).
- 15 chain cooperation and aftercare: `CaseConferenceHeld`, `HandoverPrepared`,
  `HandoverMeetingHeld` or `HandoverAccepted` (end of care).

Deadlines come from the protocol of the trajectory (`[attention]`), fixed at intake. An
element with no fixed deadline is due while she is in care and missing when care ended
(aftercare started or the trajectory closed) without it.

Waivers map to elements by criterion: safety-analysis 5, medical-assessment 6,
care-analysis / care-analysis-current / treatment-plan 7, family-involvement 8,
trauma-therapy 11, education 12, comensha-decision 4, handover-* 15 (placement, runaway
and days-in-phase criteria are no core elements). A waived element is one not evidenced
on that day for which a waiver was granted (for 7: since the last analysis).

Status of an element on a day: `evidenced`, `waived`, `due` (deadline not passed),
`missing` (deadline passed, or care ended), `not_applicable` (1 and 9).

Quality signals: every `SignalRecorded` (by kind) and `RunawayReported`, counted per
organisation and month of `occurred_on`.

No identity and no free text: ids, codes, dates and positions only.
"""

from __future__ import annotations

import json
import typing
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, get_args
from uuid import UUID

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import (
    EntryCorrected,
    EntryMarkedInError,
    TrajectoryClosed,
)
from trajectory.aggregates.events.handover import (
    AftercareStarted,
)
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.phasing import PhaseAdvanced
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.aggregates.events.runaway import RunawayReported
from trajectory.aggregates.events.treatment import InterventionDelivered
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
from trajectory.protocol.model import Protocol


class EventStreams(typing.Protocol):
    """Where a trajectory's stored events are read (the application): named by what is
    used, so that a read model does not import the write side."""

    def stream(self, trajectory_id: UUID) -> Iterator[TrajectoryEvent]: ...

ELEMENTS: dict[int, str] = {
    1: "professionals know the problem",
    2: "signals recognised, risk assessment",
    3: "follow-up steps: network analysis, police report discussed",
    4: "CoMensha registration",
    5: "safety first",
    6: "acute medical care",
    7: "problem, risk, needs and strengths analysis",
    8: "parents and network involved",
    9: "positive pedagogical climate",
    10: "clear phases",
    11: "trauma processing",
    12: "education from day one",
    13: "self-worth and self-determination",
    14: "healthy relationships and sexuality",
    15: "chain cooperation and aftercare",
}
ORGANISATION_LEVEL = frozenset({1, 9})

# Which element each fact evidences is declared with the fact, in `trajectory.facts`.
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
    "medical-assessment": 6,
    "care-analysis": 7,
    "care-analysis-current": 7,
    "treatment-plan": 7,
    "family-involvement": 8,
    "trauma-therapy": 11,
    "education": 12,
    "comensha-decision": 4,
    "handover-prepared": 15,
    "handover-meeting": 15,
    "handover-accepted": 15,
}
NETWORK_CODES = frozenset({"network-analysis"})
POLICE_CODES = frozenset({"police-report-discussed", "police-report-filed"})
NO_INSTRUMENT = frozenset({"", "not recorded"})


def deadlines(protocol: Protocol, intake: date) -> dict[int, date]:
    """The fixed deadlines of the elements that have one, from the protocol's numbers."""
    a = protocol.attention

    def days(n: int) -> date:
        return intake + timedelta(days=n)

    return {
        2: intake,
        3: days(a.care_analysis_first_within_days),
        4: days(a.comensha_decision_within_days),
        5: days(a.safety_analysis_within_days),
        6: days(a.safety_analysis_within_days),
        7: days(a.care_analysis_first_within_days),
        8: days(a.care_analysis_first_within_days),
        12: days(a.education_within_days),
    }


# -- rows -------------------------------------------------------------------------------------

FactKind = Literal["evidence", "waiver"]
SignalCode = Literal["loverboy", "sexual_abuse", "boundary_crossing", "runaway", "runaway_reported"]
SIGNAL_CODES: tuple[SignalCode, ...] = get_args(SignalCode)


class ElementTrajectoryRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    organisation: str
    intake_date: date
    care_ended_on: date | None
    deadlines: str  # JSON: element number -> ISO date
    care_analysis_interval_days: int


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
        deadlines TEXT NOT NULL,
        care_analysis_interval_days INTEGER NOT NULL
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


def facts_of(event: TrajectoryEvent) -> list[tuple[int, str, FactKind]]:
    """(element, code, kind) for every element this event evidences or waives."""
    if isinstance(event, TrajectoryOpened):
        instrument = event.risk_assessment_instrument.strip().lower()
        return [] if instrument in NO_INSTRUMENT else [(2, "risk-assessment", "evidence")]
    by_kind = BY_KIND.get(type(event))
    if by_kind is not None:
        kind = str(getattr(event, "kind"))  # noqa: B009 - every such event has a kind
        element = by_kind.elements.get(kind)
        return [] if element is None else [(element, f"{by_kind.prefix}:{kind}", "evidence")]
    found: list[tuple[int, str, FactKind]] = []
    evidence = EVIDENCE.get(type(event))
    if evidence is not None:
        found.append((evidence[0], evidence[1], "evidence"))
    if isinstance(event, PhaseAdvanced):
        for waiver in event.waivers:
            element = WAIVED_ELEMENT.get(waiver.criterion)
            if element is not None:
                found.append((element, waiver.criterion, "waiver"))
    return found


_CARE_SPAN = (TrajectoryOpened, AftercareStarted, TrajectoryClosed)
"""The events that change when care began or ended."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `CoreElementsProjection.apply` does with an event of one class, worked out once
    per class (a rebuild asks for every event)."""

    care_span: bool
    facts: list[tuple[int, str, FactKind]] | None
    """The same for every event of the class, or None: ask `facts_of` each time."""
    signal: SignalCode | None
    """The quality signal of every event of the class (for SignalRecorded: read its kind)."""
    signals: bool
    marks: bool
    """Marks or corrects an earlier entry."""

    @property
    def acts(self) -> bool:
        """Whether an event of the class changes any row (most change none)."""
        return self.care_span or self.facts != [] or self.signals or self.marks

    @classmethod
    def of(cls, event_class: type[TrajectoryEvent]) -> _Plan:
        varies = issubclass(event_class, (TrajectoryOpened, PhaseAdvanced, *BY_KIND))
        evidence = EVIDENCE.get(event_class)
        facts: list[tuple[int, str, FactKind]] = (
            [(evidence[0], evidence[1], "evidence")] if evidence else []
        )
        signal: SignalCode | None = None
        if issubclass(event_class, RunawayReported):
            signal = "runaway_reported"
        return cls(
            care_span=issubclass(event_class, _CARE_SPAN),
            facts=None if varies else facts,
            signal=signal,
            signals=signal is not None or issubclass(event_class, SignalRecorded),
            marks=issubclass(event_class, (EntryMarkedInError, EntryCorrected)),
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
        if plan.care_span:
            s = change.state
            protocol = self.protocols.get(s.protocol_name, s.protocol_version)
            ended = [d for d in (s.aftercare_started_on, s.closed_on) if d is not None]
            row = ElementTrajectoryRow(
                trajectory_id=tid,
                organisation=s.organisation,
                intake_date=s.intake_date,
                care_ended_on=min(ended, default=None),
                deadlines=json.dumps(
                    {str(k): v.isoformat() for k, v in deadlines(protocol, s.intake_date).items()},
                    sort_keys=True,
                ),
                care_analysis_interval_days=protocol.attention.care_analysis_interval_days,
            )
            writes.upsert(_UPSERT_TRAJECTORY, tid, row_values(row))
        facts = plan.facts if plan.facts is not None else facts_of(event)
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

ElementStatus = Literal["evidenced", "waived", "due", "missing", "not_applicable"]
ELEMENT_STATUSES: tuple[ElementStatus, ...] = get_args(ElementStatus)


class WaiverOut(msgspec.Struct, frozen=True, kw_only=True):
    """A waived entry criterion: the PhaseAdvanced (by position) that granted it."""

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
    """Per trajectory taken in by `as_of`, and for the organisation, on that day."""

    organisation: str
    as_of: date
    trajectories: list[TrajectoryElementsOut]
    totals: list[ElementCountsOut]


@dataclass
class _Facts:
    evidence: dict[int, list[FactRow]] = field(default_factory=lambda: defaultdict(list))
    waivers: dict[int, list[FactRow]] = field(default_factory=lambda: defaultdict(list))


def element_status(element: int, t: ElementTrajectoryRow, facts: _Facts, as_of: date) -> ElementOut:
    """One element of one trajectory on `as_of`, from the facts that happened by then."""
    name = ELEMENTS[element]
    if element in ORGANISATION_LEVEL:
        return ElementOut(
            element=element,
            name=name,
            status="not_applicable",
            evidenced_on=None,
            positions=[],
            waivers=[],
            due_on=None,
        )
    evidence = sorted(
        (f for f in facts.evidence.get(element, []) if f.occurred_on <= as_of),
        key=lambda f: (f.occurred_on, f.position),
    )
    waivers = sorted(
        (f for f in facts.waivers.get(element, []) if f.occurred_on <= as_of),
        key=lambda f: (f.occurred_on, f.position),
    )
    positions = sorted({f.position for f in evidence})
    ended = t.care_ended_on is not None and t.care_ended_on <= as_of
    fixed = {int(k): date.fromisoformat(v) for k, v in json.loads(t.deadlines).items()}
    due_on = fixed.get(element)
    evidenced_on: date | None = None
    current = True
    if element == 3:
        network = [f.occurred_on for f in evidence if f.code in NETWORK_CODES]
        police = [f.occurred_on for f in evidence if f.code in POLICE_CODES]
        if network and police:
            evidenced_on = max(min(network), min(police))
    elif element == 7 and evidence:
        evidenced_on = evidence[0].occurred_on
        last = evidence[-1].occurred_on
        due_on = last + timedelta(days=t.care_analysis_interval_days)
        # Repeated every interval while in care: an old analysis is not enough.
        current = ended or as_of <= due_on
        waivers = [w for w in waivers if w.occurred_on >= last]
    elif evidence:
        evidenced_on = evidence[0].occurred_on
    status: ElementStatus
    if evidenced_on is not None and current:
        status = "evidenced"
    elif waivers:
        status = "waived"
    elif ended or (due_on is not None and as_of > due_on):
        status = "missing"
    else:
        status = "due"
    return ElementOut(
        element=element,
        name=name,
        status=status,
        evidenced_on=evidenced_on,
        positions=positions,
        waivers=[
            WaiverOut(position=w.position, criterion=w.code, on=w.occurred_on) for w in waivers
        ],
        due_on=None if status == "evidenced" and (element != 7 or ended) else due_on,
    )


class CoreElementsView:
    def __init__(self, db: Database):
        self.db = db

    def matrix(self, organisation: str, as_of: date) -> MatrixOut:
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
        facts: dict[str, _Facts] = defaultdict(_Facts)
        for r in rows:
            fact: FactRow = from_row(FactRow, r)
            target = facts[fact.trajectory_id]
            (target.evidence if fact.kind == "evidence" else target.waivers)[fact.element].append(
                fact
            )
        out: list[TrajectoryElementsOut] = []
        totals = {e: dict.fromkeys(ELEMENT_STATUSES, 0) for e in ELEMENTS}
        for t in trajectories:
            elements = [element_status(e, t, facts[t.trajectory_id], as_of) for e in ELEMENTS]
            for element in elements:
                totals[element.element][element.status] += 1
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
        if not isinstance(event, PhaseAdvanced):
            continue
        if wanted is not None and event.originator_version not in wanted:
            continue
        for waiver in event.waivers:
            out.append(
                WaiverJustificationOut(
                    position=event.originator_version,
                    criterion=waiver.criterion,
                    element=WAIVED_ELEMENT.get(waiver.criterion),
                    on=event.occurred_on,
                    justification=waiver.justification,
                )
            )
    return out


def matrix(db: Database, organisation: str, as_of: date) -> MatrixOut:
    """The 15 core elements of every trajectory of `organisation` taken in by `as_of`."""
    return CoreElementsView(db).matrix(organisation, as_of)


def signals(
    db: Database, organisation: str, from_month: str | date, to_month: str | date
) -> SignalsOut:
    """Quality signals per month, `from_month` to `to_month` inclusive ('YYYY-MM')."""
    return CoreElementsView(db).signals(organisation, _month(from_month), _month(to_month))
