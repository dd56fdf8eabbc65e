"""One girl's trajectory as research data: her states day by day, week by week, in spells,
her events in codes, and her row of counts.

Her observation runs from the day of intake (day 0) to the day her trajectory was closed
(closed girls), or to a censoring day (girls still in care or aftercare when the export
looks): the end of her last whole 4-week period since intake on or before the export's
observation end. The 4-week rounding is a disclosure rule: with an exact censoring day, the
observation end (in the manifest) minus her observed days would give her exact intake
date; now it gives a 28-day window at best. A girl observed for less than 4 weeks is left
out (counted in the manifest). Events after her observation are not exported (counted).

A day's state is the state after every fact that occurred on or before that day (facts of
one day in the order they were recorded): `RUN` while a runaway is open, else `AFT` once
aftercare has started, else `P<n>` for her phase. On the day of closure she is `END`.

A week's state (STS) is the state she was in for most days of that week (a tie goes to
the state that came later in the week); a closed girl's sequence ends with one `END` week,
and every week after her observation is `CEN`. So for each state S, over her sequence,
|weeks(S) - days(S)/7| is less than the number of weeks in which she changed state plus
one for an incomplete last week (zero: equal): only such weeks round, each by less than
one week. The spells table has the exact days. Sequences per month follow the same rule
over months since intake: month m runs from the day m - 1 calendar months after intake to
the day before m months after (a 31 January intake: from the last day of each month), so
that "the 12 months after intake" are what a researcher expects.

A spell is right-censored (`censored`) when it ended without an observed change of state:
the last spell of a girl still in care or aftercare when observation ended
(`still_in_care`), or the spell in which her trajectory was closed other than by completing
aftercare (transferred, moved away, left care at 18, other: `lost_to_follow_up`; the
closure shows that she left our view, not that the state ended). `erased` and
`consent_withdrawn` complete the code list: under the consent rule such a girl is left out
whole (counted in the manifest), so no row carries them today.

Corrections are applied: an entry whose day was corrected happened on the corrected day
(the latest correction wins), in events.csv, in the spells and the weeks; events.csv flags
it (`corrected`) and keeps the day first recorded (`day_recorded`). An entry marked in
error keeps its row, flagged (`in_error`), and counts nowhere else.

What must not change: the state codes, day 0 = intake, spells' inclusive ends.
"""

from __future__ import annotations

from bisect import bisect_right
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.analysis import CareAnalysisRecorded, PlacementDecided
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import CaseConferenceHeld, ComenshaRegistrationDecided
from trajectory.aggregates.events.closure import TrajectoryClosed
from trajectory.aggregates.events.education import (
    EducationArranged,
    EducationProgressRecorded,
    QualificationObtained,
)
from trajectory.aggregates.events.handover import (
    AftercareContactRecorded,
    AftercareStarted,
    HandoverAccepted,
    HandoverMeetingHeld,
    HandoverPrepared,
)
from trajectory.aggregates.events.intake import TrajectoryOpened, VictimStatusChanged
from trajectory.aggregates.events.network import FamilyInvolvementRecorded
from trajectory.aggregates.events.phasing import PhaseAdvanced, PhaseRegressed
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.aggregates.events.runaway import RunawayEnded, RunawayReported
from trajectory.aggregates.events.safety import MedicalCareAssessed, SafetyAnalysisRecorded
from trajectory.aggregates.events.treatment import (
    InterventionDelivered,
    TraumaTherapyCompleted,
    TraumaTherapySessionHeld,
    TraumaTherapyStarted,
)
from trajectory.aggregates.vocabulary import RISK_PROFILES
from trajectory.research.coding import Value, coded_values
from trajectory.research.disclosure import QI, age_band, intake_month
from trajectory.research.outcomes import Outcomes, age_months, read_outcomes

CENSORING_PERIOD = 28
"""Days: the observation of a girl still in care ends at a whole number of these."""

RUN, AFT, END, CEN = "RUN", "AFT", "END", "CEN"
STATE_DOCS: dict[str, str] = {
    "P<n>": "in care, in phase n of her protocol (P1 = the first phase), not on the run",
    RUN: "on the run: a runaway was reported and has not ended",
    AFT: "in aftercare: residential care ended, the trajectory is not closed",
    END: "the trajectory was closed (one week in sequences, the day of closure in spells);"
    " nothing follows",
    CEN: "not observed: after END, or after the censoring day of a girl still in care"
    " (use as the missing/void state, e.g. seqdef(..., missing = \"CEN\", right = \"DEL\"))",
}

SEQUENCE_UNITS: dict[str, str] = {"week": "W", "month": "M"}
"""The units a sequence may be given in, and the letter of their columns."""

STILL_IN_CARE, LOST_TO_FOLLOW_UP = "still_in_care", "lost_to_follow_up"
CENSORING_REASONS = (STILL_IN_CARE, LOST_TO_FOLLOW_UP, "erased", "consent_withdrawn")
"""Why a spell was right-censored (see the module's docstring)."""
COMPLETED = "aftercare_completed"
"""The one closure that ends a state as an observed change (not a loss to follow-up)."""

_STATE_CHANGES = (PhaseAdvanced, PhaseRegressed, RunawayReported, RunawayEnded, AftercareStarted)


def state_codes(phases: int) -> tuple[str, ...]:
    return (*(f"P{n}" for n in range(1, phases + 1)), RUN, AFT, END, CEN)


@dataclass(frozen=True)
class Spell:
    begin: int
    end: int  # inclusive
    state: str
    censoring: str | None = None
    """Why the spell was cut off (right-censored), or None: it ended in a change of state."""

    @property
    def days(self) -> int:
        return self.end - self.begin + 1


@dataclass
class Derived:
    """Everything one girl contributes to the four tables."""

    qi: QI
    summary: dict[str, Value]
    events: list[list[Value]]
    periods: list[str]
    """Her state in each week (or month) since intake, as asked."""
    spells: list[Spell]
    events_after_observation: int
    outcomes: Outcomes
    """Her outcomes after care too (`outcomes`), made into columns once published."""


def observation_days(intake: date, closed_on: date | None, observation_end: date) -> int:
    """Days observed: to closure, or whole 4-week periods to the observation end."""
    if closed_on is not None:
        return max(0, (closed_on - intake).days)
    full = (observation_end - intake).days + 1
    return max(0, full // CENSORING_PERIOD * CENSORING_PERIOD)


def _spells(changes: Sequence[tuple[int, int, TrajectoryEvent]], observed: int) -> list[Spell]:
    """Runs of equal state over days [0, observed)."""
    phase, run, aftercare = 1, False, False

    def state() -> str:
        return RUN if run else AFT if aftercare else f"P{phase}"

    spells: list[Spell] = []
    current, begin = state(), 0
    i = 0
    while i < len(changes):
        day = changes[i][0]
        if day >= observed:
            break
        while i < len(changes) and changes[i][0] == day:  # every fact of the day, in order
            event = changes[i][2]
            if isinstance(event, PhaseAdvanced | PhaseRegressed):
                phase = event.to_phase
            elif isinstance(event, RunawayReported):
                run = True
            elif isinstance(event, RunawayEnded):
                run = False
            elif isinstance(event, AftercareStarted):
                aftercare = True
            i += 1
        new = state()
        if new != current:
            if day > begin:  # (day == begin only on the day of intake: nothing to close)
                spells.append(Spell(begin, day - 1, current))
            current, begin = new, day
    if observed > begin:
        spells.append(Spell(begin, observed - 1, current))
    return spells


def weekly(spells: Sequence[Spell], observed: int) -> list[str]:
    """The state of each week [7(w-1), 7w) that has observed days: the one held longest,
    a tie to the later."""
    return periodic(spells, observed, list(range(0, observed, 7)))


def month_starts(intake: date, observed: int) -> list[int]:
    """The first day (since intake) of each month since intake that has observed days:
    month m begins m - 1 calendar months after intake (on the month's last day where it
    is shorter)."""
    starts: list[int] = []
    m = 0
    while True:
        year, month = divmod(intake.month - 1 + m, 12)
        year += intake.year
        day = min(intake.day, monthrange(year, month + 1)[1])
        start = (date(year, month + 1, day) - intake).days
        if start >= observed:
            return starts
        starts.append(start)
        m += 1


def periodic(spells: Sequence[Spell], observed: int, starts: Sequence[int]) -> list[str]:
    """The state of each period (its first days since intake in `starts`, the first 0; the
    last runs to the end of observation): the one held longest, a tie to the later."""
    periods: list[str | dict[str, int] | None] = [None] * len(starts)
    bounds = [*starts, max(observed, starts[-1] + 1 if starts else 0)]

    def add(p: int, state: str, days: int) -> None:
        held = periods[p]
        if held is None:
            held = periods[p] = {}
        assert isinstance(held, dict)
        held[state] = held.pop(state, 0) + days  # re-inserted: the later state

    for spell in spells:
        if spell.begin >= observed:
            continue
        end = min(spell.end, observed - 1)
        first = bisect_right(starts, spell.begin) - 1
        last = bisect_right(starts, end) - 1
        if first == last:
            add(first, spell.state, end - spell.begin + 1)
            continue
        add(first, spell.state, bounds[first + 1] - spell.begin)
        for p in range(first + 1, last):  # whole periods in one state
            periods[p] = spell.state
        add(last, spell.state, end - bounds[last] + 1)
    out = []
    for held in periods:
        if isinstance(held, str):
            out.append(held)
            continue
        assert held is not None
        most = max(held.values())
        out.append([s for s, n in held.items() if n == most][-1])
    return out


def derive(
    events: Sequence[TrajectoryEvent],
    *,
    pseudonym: str,
    organisation: str,
    observation_end: date,
    phases: int,
    unit: str = "week",
) -> Derived | None:
    """One girl's research data, or None when she was observed for less than 4 weeks.
    `unit`: her sequence per week or per month (`SEQUENCE_UNITS`)."""
    opened = events[0]
    assert isinstance(opened, TrajectoryOpened)
    intake = opened.occurred_on
    closure = next((e for e in events if isinstance(e, TrajectoryClosed)), None)
    closed_on = closure.occurred_on if closure is not None else None
    observed = observation_days(intake, closed_on, observation_end)
    if closed_on is None and observed == 0:
        return None
    last_day = observed if closed_on is not None else observed - 1
    # Corrections are applied: an entry happened on its corrected day. Marked in error:
    # the entry no longer counts anywhere (its row stays, flagged).
    corrections, corrected = _corrections(events)
    day_of = {
        e.originator_version: (corrections.occurred_on(e) - intake).days for e in events
    } if corrections.days else None

    def day(e: TrajectoryEvent) -> int:
        return (e.occurred_on - intake).days if day_of is None else day_of[e.originator_version]

    kept = [e for e in events if day(e) <= last_day]
    valid = [e for e in kept if corrections.counts(e.originator_version)]

    changes = sorted(
        (
            (max(0, day(e)), e.originator_version, e)
            for e in valid
            if isinstance(e, _STATE_CHANGES)
        ),
        key=lambda c: (c[0], c[1]),
    )
    spells = _spells(changes, observed)
    if spells:
        cut = STILL_IN_CARE if closure is None else (
            None if closure.reason == COMPLETED else LOST_TO_FOLLOW_UP
        )
        if cut is not None:
            spells[-1] = Spell(spells[-1].begin, spells[-1].end, spells[-1].state, cut)
    if unit == "week":
        periods = weekly(spells, observed)
    elif unit == "month":
        periods = periodic(spells, observed, month_starts(intake, observed))
    else:
        raise ValueError(f"unknown sequence unit {unit!r}")
    if closed_on is not None:
        spells.append(Spell(observed, observed, END))
        periods.append(END)
    days: dict[str, int] = {}
    for spell in spells:
        if spell.state != END:
            days[spell.state] = days.get(spell.state, 0) + spell.days

    by_type: dict[type[TrajectoryEvent], list[TrajectoryEvent]] = {}
    for e in valid:
        by_type.setdefault(type(e), []).append(e)

    def of(cls: type[TrajectoryEvent]) -> list[TrajectoryEvent]:
        return by_type.get(cls, [])

    phase_end = 1
    for _, _, event in changes:
        if isinstance(event, PhaseAdvanced | PhaseRegressed):
            phase_end = event.to_phase
    placements = [e for e in of(PlacementDecided) if isinstance(e, PlacementDecided)]
    statuses = [e.victim_status for e in of(VictimStatusChanged)
                if isinstance(e, VictimStatusChanged)]
    therapies = [e.method for e in of(TraumaTherapyStarted)
                 if isinstance(e, TraumaTherapyStarted)]
    progress = [e.attending for e in of(EducationProgressRecorded)
                if isinstance(e, EducationProgressRecorded)]
    comensha = [e.decision for e in of(ComenshaRegistrationDecided)
                if isinstance(e, ComenshaRegistrationDecided)]
    interventions = [e.kind for e in of(InterventionDelivered)
                     if isinstance(e, InterventionDelivered)]
    signals = {e.kind for e in of(SignalRecorded) if isinstance(e, SignalRecorded)}
    closure = next((e for e in valid if isinstance(e, TrajectoryClosed)), None)
    warm = any(
        e.girl_present and e.sending_worker_present and e.receiving_worker_present
        for e in of(HandoverMeetingHeld)
        if isinstance(e, HandoverMeetingHeld)
    )
    state_end = END if closed_on is not None else spells[-1].state
    summary: dict[str, Value] = {
        "pseudonym": pseudonym,
        "victim_status_intake": opened.victim_status,
        "victim_status_end": statuses[-1] if statuses else opened.victim_status,
        "setting": opened.setting,
        "placement_first": placements[0].kind if placements else None,
        "placement_first_argued": int(bool(placements and (placements[0].argument or "").strip())),
        "placement_last": placements[-1].kind if placements else None,
        "placements": len(placements),
        "phases_reached": max([1, *(e.to_phase for e in of(PhaseAdvanced)
                                    if isinstance(e, PhaseAdvanced))]),
        "phase_end": phase_end,
        "state_end": state_end,
        "status_end": "closed" if closed_on is not None else (
            "aftercare" if of(AftercareStarted) else "in_care"
        ),
        "closure_reason": closure.reason if isinstance(closure, TrajectoryClosed) else None,
        **{f"days_p{n}": days.get(f"P{n}", 0) for n in range(1, phases + 1)},
        "regressions": len(of(PhaseRegressed)),
        "runaways": len(of(RunawayReported)),
        "runaway_days": days.get(RUN, 0),
        "therapy_method": therapies[-1] if therapies else None,
        "therapy_sessions": len(of(TraumaTherapySessionHeld)),
        "therapy_completed": int(bool(of(TraumaTherapyCompleted))),
        "interventions": len(interventions),
        "intervention_kinds": _set(interventions, _INTERVENTIONS),
        "safety_analyses": len(of(SafetyAnalysisRecorded)),
        "medical_assessments": len(of(MedicalCareAssessed)),
        "care_analyses": len(of(CareAnalysisRecorded)),
        "family_involvements": len(of(FamilyInvolvementRecorded)),
        "case_conferences": len(of(CaseConferenceHeld)),
        "signal_kinds": _set(signals, _SIGNALS),
        "education_arranged": int(bool(of(EducationArranged))),
        "attending_last": None if not progress else (
            "attending" if progress[-1] else "not_attending"
        ),
        "qualification_obtained": int(bool(of(QualificationObtained))),
        "comensha_decision": comensha[-1] if comensha else None,
        "handover_prepared": int(bool(of(HandoverPrepared))),
        "handover_warm": int(warm),
        "handover_accepted": int(bool(of(HandoverAccepted))),
        "aftercare_days": days.get(AFT, 0),
        "aftercare_contacts": len(of(AftercareContactRecorded)),
        "observed_days": observed,
        "censored": int(closed_on is None),
        "events": len(kept),
    }
    born = opened.identity.date_of_birth
    rows = [
        [
            pseudonym,
            e.originator_version,
            type(e).__name__,
            day(e),
            int(not corrections.counts(e.originator_version)),
            *coded_values(e, intake),
            int(e.originator_version in corrected),
            (e.occurred_on - intake).days if e.originator_version in corrected else None,
            age_months(born, intake + timedelta(days=day(e))),
        ]
        for e in kept
    ]
    outcomes = read_outcomes(
        events, intake=intake, date_of_birth=born, corrections=corrections,
        horizon=(observation_end - intake).days if closed_on is not None else observed - 1,
    )
    qi: QI = (
        organisation,
        age_band(opened.identity.date_of_birth, intake),
        intake_month(intake),
        _set(opened.risk_profiles, RISK_PROFILES) or "",
    )
    return Derived(qi, summary, rows, periods, spells, len(events) - len(kept), outcomes)


def _corrections(events: Sequence[TrajectoryEvent]) -> tuple[Corrections, set[int]]:
    """The corrections (the rule's reading), and the positions of the entries a later fact
    corrected (not marked in error), in one pass."""
    found, corrected = Corrections(), set()
    for e in events:
        correction = e.corrects()
        if correction is not None:
            found.add(correction)
            if not correction.in_error:
                corrected.add(correction.position)
    return found, corrected


def _set(values: object, order: Sequence[str]) -> str | None:
    present = set(values)  # type: ignore[call-overload]
    return "|".join(v for v in order if v in present) or None


def _literal(name: str) -> tuple[str, ...]:
    from typing import get_args

    from trajectory.aggregates import vocabulary

    return tuple(str(a) for a in get_args(getattr(vocabulary, name)))


_INTERVENTIONS = _literal("InterventionKind")
_SIGNALS = _literal("SignalKind")
