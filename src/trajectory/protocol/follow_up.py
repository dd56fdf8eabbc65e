"""The follow-up measurements (effectmeting): which moment is due for her, and when.

Pure: state + protocol. The moments are months after residential care ended (0: at its
end), from the protocol's `[follow_up]` table. One moment is due at a time: the earliest
without a record (a measurement, or why it was not possible), so that a missed moment
stays in sight until it is accounted for rather than silently skipped. While she is still
in care, the measurement at the end of care is due from the warm handover meeting on.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.outcomes import follow_up_code
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import CareStage
from trajectory.protocol.model import Protocol


@dataclass(frozen=True)
class DueFollowUp:
    """The next follow-up measurement: its moment (months after care) and due day."""

    moment: int
    due_on: date


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def left_care_on(state: TrajectoryState) -> date | None:
    """The day residential care ended: aftercare started, or the file was closed from
    care; None while she is in care."""
    if state.aftercare_started_on is not None:
        return state.aftercare_started_on
    return state.closed_on


def recorded(state: TrajectoryState, moment: int) -> bool:
    return state.has(follow_up_code(moment))


def next_follow_up(state: TrajectoryState, protocol: Protocol) -> DueFollowUp | None:
    """The earliest of the protocol's moments with no record yet, and the day it is due
    (its moment plus the protocol's window); None when all are recorded, or while she
    is in care before the handover meeting."""
    spec = protocol.follow_up
    left = left_care_on(state)
    for moment in spec.months_after_care:
        if recorded(state, moment):
            continue
        if left is not None:
            return DueFollowUp(moment, add_months(left, moment) + timedelta(spec.within_days))
        meeting = state.handover.meeting_on
        if moment == 0 and meeting is not None:
            return DueFollowUp(0, meeting + timedelta(spec.within_days))
        return None
    return None


def stage_on(state: TrajectoryState, day: date) -> CareStage:
    """Where she was on `day`, as her file says: in care, in aftercare, or after the
    file was closed."""
    if state.closed_on is not None and day >= state.closed_on:
        return "after_closure"
    if state.aftercare_started_on is not None and day >= state.aftercare_started_on:
        return "aftercare"
    return "in_care"


def check_follow_up_moment(state: TrajectoryState, protocol: Protocol, moment: int) -> None:
    """A follow-up record is for one of her protocol's moments, once each; a moment after
    the end of care only once residential care has ended (the one at its end may be taken
    in her last weeks in care)."""
    moments = protocol.follow_up.months_after_care
    if moment not in moments:
        raise RuleRefused(
            f"{moment} is not a follow-up moment of her protocol (months after care:"
            f" {', '.join(str(m) for m in moments)})",
            code="follow-up-moment-unknown",
            unmet=["moment"],
        )
    if recorded(state, moment):
        raise RuleRefused(
            "this follow-up moment is already recorded; correct that entry instead",
            code="follow-up-recorded",
        )
    if moment > 0 and left_care_on(state) is None:
        raise RuleRefused(
            "a follow-up after care is measured once residential care has ended",
            code="follow-up-not-yet",
        )
