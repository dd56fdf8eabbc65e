"""One girl's outcomes as research data: what the source's questions ask after care.

Where she went when residential care ended, what was decided for after her 18th
birthday, whether she was revictimised (in care, after it) and when, her follow-up
measurements (effectmeting) and their instrument scores, whether she was still in view
after 18 and at 19, and how long her outcome observation ran and why it ended
(the censoring a survival analysis needs).

Unlike her care observation (events.csv, spells, sequences: to closure), her outcome
observation goes on after closure: a file takes follow-ups and revictimisation reports
after it is closed. It ends on the last day she was in view (`follow_up_end_day`: care
ended, a measurement, an aftercare contact that reached her, a revictimisation report),
never on the export's date, so that it gives back no intake date. For a girl still in
care or aftercare (right-censored in the care tables) it is cut where her care
observation is cut (`until`, the censoring day of her published group), so the outcome
columns never show what her other rows no longer show.

The facts are read once per girl into a compact form (`Outcomes`, kept in the export's
spool, no date in it) and turned into columns when the censoring day is known
(`outcome_values`, `follow_up_rows`, `score_rows`).

Why her outcome observation ended (`follow_up_censoring_reason`): `deceased` (a follow-up
was not possible because she died), `still_in_care` (residential care had not ended),
`lost_to_follow_up` (her latest follow-up could not be made, not reached or refused, or
she was never in view after care ended), `observation_ended` (still followed when the
export looked); `erased` and `consent_withdrawn` complete the list (such girls are left
out whole). `follow_up_censored` = 0 only for a girl revictimised after care: the event
a survival analysis of revictimisation after care counts.

What must not change: day 0 = intake; the column names and codes once published.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import msgspec

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import TrajectoryClosed
from trajectory.aggregates.events.handover import (
    AftercareContactRecorded,
    AftercareStarted,
    ContinuationAfter18Decided,
)
from trajectory.aggregates.events.outcomes import (
    FollowUpMeasured,
    FollowUpNotPossible,
    RevictimisationReported,
)
from trajectory.research.coding import Value

STILL_IN_CARE, LOST, DECEASED, ONGOING = (
    "still_in_care", "lost_to_follow_up", "deceased", "observation_ended")
FOLLOW_UP_CENSORING = (STILL_IN_CARE, LOST, DECEASED, ONGOING, "erased", "consent_withdrawn")
"""Why her outcome observation ended (see the module's docstring)."""


class Measurement(msgspec.Struct, array_like=True, frozen=True):
    """One follow-up record as published: a measurement, or why it was not possible."""

    day: int
    moment: int
    reason: str | None = None
    """Why it was not possible; None: measured."""
    living_situation: str | None = None
    school_or_work: str | None = None
    qualification: str | None = None
    revictimised_since: int | None = None
    runaways_since: int | None = None
    loverboy_contact: str | None = None
    scores: tuple[tuple[str, str, str, float], ...] = ()
    """(instrument, version, scale, score): `total` first, then the subscales by name."""


class Outcomes(msgspec.Struct, array_like=True, frozen=True):
    """What her outcome columns are made of: days since intake, codes, no date."""

    horizon: int
    """The last day of her outcome observation the export may look at (days since
    intake of the observation end; the censoring day for a girl still in care)."""
    turns_18: int
    turns_19: int
    """Days since intake of her 18th and 19th birthdays (negative: before intake)."""
    care_end: int | None
    destinations: tuple[tuple[int, str], ...]
    continuations: tuple[tuple[int, str], ...]
    revictimisations: tuple[tuple[int, str], ...]
    """(day, stage)."""
    reached: tuple[int, ...]
    """Days of aftercare contacts that reached her."""
    measurements: tuple[Measurement, ...]


def _birthday(date_of_birth: date, years: int) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # 29 February: the 1st of March
        return date(date_of_birth.year + years, 3, 1)


def age_months(date_of_birth: date, on: date) -> int:
    """Her age in whole months on a day."""
    months = (on.year - date_of_birth.year) * 12 + on.month - date_of_birth.month
    return months - (on.day < date_of_birth.day)


def read_outcomes(
    events: Sequence[TrajectoryEvent], *, intake: date, date_of_birth: date,
    corrections: Corrections, horizon: int,
) -> Outcomes:
    """Her outcome facts (every event, after closure too; entries marked in error left
    out, corrected days applied), to `horizon` days since intake."""
    destinations: list[tuple[int, str]] = []
    continuations: list[tuple[int, str]] = []
    revictimisations: list[tuple[int, str]] = []
    reached: list[int] = []
    measurements: list[Measurement] = []
    care_end: int | None = None
    for e in events:
        if not corrections.counts(e.originator_version):
            continue
        day = (corrections.occurred_on(e) - intake).days
        if day > horizon:
            continue
        if isinstance(e, AftercareStarted | TrajectoryClosed):
            if care_end is None:
                care_end = day  # (closed from care: care ended on the day of closure)
            if e.destination is not None:
                destinations.append((day, e.destination))
        elif isinstance(e, ContinuationAfter18Decided):
            continuations.append((day, e.decision))
        elif isinstance(e, RevictimisationReported):
            revictimisations.append((day, e.stage))
        elif isinstance(e, AftercareContactRecorded):
            if e.outcome == "reached":
                reached.append(day)
        elif isinstance(e, FollowUpMeasured):
            scores: list[tuple[str, str, str, float]] = []
            for instrument in e.instruments:
                scores.append((instrument.name, instrument.version, "total", instrument.total))
                scores.extend((instrument.name, instrument.version, scale, score)
                              for scale, score in sorted(instrument.subscales.items()))
            measurements.append(Measurement(
                day, e.moment, None, e.living_situation, e.school_or_work, e.qualification,
                int(e.revictimised_since), e.runaways_since, e.loverboy_contact,
                tuple(scores)))
        elif isinstance(e, FollowUpNotPossible):
            measurements.append(Measurement(day, e.moment, e.reason))
    return Outcomes(
        horizon=horizon,
        turns_18=(_birthday(date_of_birth, 18) - intake).days,
        turns_19=(_birthday(date_of_birth, 19) - intake).days,
        care_end=care_end,
        destinations=tuple(destinations),
        continuations=tuple(continuations),
        revictimisations=tuple(sorted(revictimisations)),
        reached=tuple(sorted(reached)),
        measurements=tuple(sorted(measurements, key=lambda m: (m.day, m.moment))),
    )


def _until(o: Outcomes, until: int | None) -> int:
    return o.horizon if until is None else min(o.horizon, until - 1)


def outcome_values(o: Outcomes, until: int | None = None) -> dict[str, Value]:
    """Her outcome columns of trajectories.csv, from what happened before `until` (days
    since intake; None: her whole outcome observation)."""
    last = _until(o, until)
    care_end = o.care_end if o.care_end is not None and o.care_end <= last else None
    destinations = [c for d, c in o.destinations if d <= last]
    continuations = [c for d, c in o.continuations if d <= last]
    revictimised = [(d, s) for d, s in o.revictimisations if d <= last]
    after = [d for d, _ in revictimised if care_end is not None and d >= care_end]
    records = [m for m in o.measurements if m.day <= last]
    measured = [m.day for m in records if m.reason is None]
    in_view = sorted([*(d for d in o.reached if d <= last), *measured])
    seen = [*in_view, *(d for d, _ in revictimised)]
    if care_end is None:
        end, reason = last, STILL_IN_CARE  # (in care to the end of her observation)
    else:
        end = max([care_end, *seen])
        lost = (records and records[-1].reason is not None) or not any(
            d >= care_end for d in in_view)
        reason = LOST if lost else ONGOING
    if any(m.reason == "deceased" for m in records):
        reason = DECEASED

    def in_view_from(birthday: int) -> int | None:
        if birthday > last:
            return None  # she was not that old within her observation
        return int(any(d >= birthday for d in in_view))

    return {
        "destination": destinations[-1] if destinations else None,
        "continuation_after_18": continuations[-1] if continuations else None,
        "care_end_day": care_end,
        "revictimised": int(bool(revictimised)),
        "revictimisation_first_day": revictimised[0][0] if revictimised else None,
        "revictimisation_first_stage": revictimised[0][1] if revictimised else None,
        "revictimised_after_care": int(bool(after)),
        "revictimisation_after_care_days": (after[0] - care_end
                                            if after and care_end is not None else None),
        "follow_up_end_day": end,
        "follow_up_censored": int(not after),
        "follow_up_censoring_reason": None if after else reason,
        "follow_ups_measured": len(measured),
        "follow_ups_not_possible": len(records) - len(measured),
        "in_view_after_18": in_view_from(max(o.turns_18, 0)),
        "in_view_at_19": in_view_from(max(o.turns_19, 0)),
    }


def follow_up_rows(pseudonym: str, o: Outcomes, until: int | None = None) -> list[list[Value]]:
    """Her rows of follow_ups.csv (see `tables.follow_ups_table`)."""
    last = _until(o, until)
    care_end = o.care_end if o.care_end is not None and o.care_end <= last else None
    return [
        [pseudonym, m.moment, m.day,
         None if care_end is None else m.day - care_end,  # (never past her censoring day)
         int(m.reason is None), m.reason, m.living_situation, m.school_or_work,
         m.qualification, m.revictimised_since, m.runaways_since, m.loverboy_contact,
         len({(name, version) for name, version, _, _ in m.scores})]
        for m in o.measurements if m.day <= last
    ]


def score_rows(pseudonym: str, o: Outcomes, until: int | None = None) -> list[list[Value]]:
    """Her rows of scores.csv: one per instrument scale of each measurement."""
    last = _until(o, until)
    rows: list[list[Value]] = []
    for m in o.measurements:
        if m.day > last or m.reason is not None:
            continue
        numbers: dict[tuple[str, str], int] = {}
        for name, version, scale, score in m.scores:
            number = numbers.setdefault((name, version), len(numbers) + 1)
            rows.append([pseudonym, m.moment, number, name, version, scale, float(score)])
    return rows
