"""Attention items: what is due or overdue for a trajectory on a given day.

Pure: state + protocol + today. The numbers come from the protocol's [attention] table.
"""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from trajectory.aggregates.events.chain import COMENSHA_REPORT_SENT
from trajectory.aggregates.state import TrajectoryState
from trajectory.protocol.comensha import REGISTERING
from trajectory.protocol.follow_up import next_follow_up
from trajectory.protocol.model import Protocol
from trajectory.protocol.out_of_view import next_contact_due
from trajectory.protocol.rules import turns_18_on


class AttentionItem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    due_on: date
    overdue: bool


def _due(code: str, due_on: date, today: date) -> AttentionItem:
    return AttentionItem(code=code, due_on=due_on, overdue=today > due_on)


def _comensha_report_due(state: TrajectoryState, deadline: date) -> date | None:
    """When the report to CoMensha is due: her last decision was to register her and no
    report was sent since (core element 4 counts a registration when the report is sent).
    By the protocol's CoMensha deadline from intake; a later decision: on its day."""
    decided_on = state.latest("comensha-decision")
    if decided_on is None or state.comensha_decision not in REGISTERING:
        return None
    sent_on = state.latest(COMENSHA_REPORT_SENT)
    if sent_on is not None and sent_on >= decided_on:
        return None
    return max(deadline, decided_on)


def attention_items(state: TrajectoryState, protocol: Protocol, today: date) -> list[AttentionItem]:
    """Items due for this trajectory, most urgent (earliest due) first. A closed file has
    one kind only: its next follow-up measurement, for her coordinator."""
    follow_up = next_follow_up(state, protocol)
    follow_ups = [] if follow_up is None else [_due("follow-up", follow_up.due_on, today)]
    if state.status == "closed":
        return follow_ups
    a = protocol.attention
    intake = state.intake_date
    items: list[AttentionItem] = []

    def days(n: int, since: date) -> date:
        return since + timedelta(days=n)

    if state.status == "in_care":
        if not state.has("safety-analysis"):
            items.append(
                _due("safety-analysis", days(a.safety_analysis_within_days, intake), today)
            )
        if not state.has("education"):
            items.append(_due("education", days(a.education_within_days, intake), today))
        if not state.has("comensha-decision"):
            items.append(
                _due("comensha-decision", days(a.comensha_decision_within_days, intake), today)
            )
        report = _comensha_report_due(state, days(a.comensha_decision_within_days, intake))
        if report is not None:
            items.append(_due("comensha-report", report, today))
        last_analysis = state.latest("care-analysis")
        if last_analysis is None:
            items.append(
                _due("care-analysis", days(a.care_analysis_first_within_days, intake), today)
            )
        else:
            items.append(
                _due("care-analysis", days(a.care_analysis_interval_days, last_analysis), today)
            )
        h = state.handover
        if h.meeting_on is not None and not state.has("handover-accepted"):
            due_on = days(a.handover_acceptance_within_days, h.meeting_on)
            items.append(_due("handover-acceptance", due_on, today))

    # After a runaway (in care or in aftercare): until done, in every status but closed.
    returned = state.last_runaway_ended_on
    if returned is not None and state.open_runaway is None:
        due = days(a.after_runaway_within_days, returned)
        medical = state.latest("medical-assessment")
        if medical is None or medical < returned:
            items.append(_due("medical-after-runaway", due, today))
        safety = state.latest("safety-analysis")
        if safety is None or safety < returned:
            items.append(_due("safety-after-runaway", due, today))

    # Care after 18 is decided before she turns 18: from the protocol's notice on, until
    # the decision is recorded (in care and in aftercare, also once she is 18).
    if not state.has("continuation-after-18") and (
        state.status == "in_care" or state.aftercare_ended_on is None
    ):
        birthday = turns_18_on(state.date_of_birth)
        if today >= birthday - timedelta(days=a.turns_18_notice_days):
            items.append(_due("continuation-after-18", birthday, today))

    contact_due = next_contact_due(state, protocol)
    if contact_due is not None:
        items.append(_due("aftercare-contact", contact_due, today))

    items.extend(follow_ups)
    items.sort(key=lambda i: (i.due_on, i.code))
    return items
