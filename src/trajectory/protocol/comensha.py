"""The CoMensha report's rules: what may be recorded of the report, and in which order.

Pure: the state only. The report carries out a decision to register her (by name, or by
date of birth only); it is not recorded before such a decision, nor after a decision not
to register. CoMensha acknowledges a report it received: an acknowledgement comes after
a report sent (one marked in error no longer counts), never before it, and once per
report. A girl may be reported again (a new exploitation): the national figures count her
once, in the year of her first report that counts.
"""

from __future__ import annotations

from datetime import date

from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.chain import (
    COMENSHA_REPORT_ACKNOWLEDGED,
    COMENSHA_REPORT_SENT,
)
from trajectory.aggregates.state import TrajectoryState

REGISTERING = frozenset({"registered_by_name", "registered_by_date_of_birth"})


def check_report_follows_decision(state: TrajectoryState) -> None:
    """A report to CoMensha carries out a decision to register her."""
    decided = state.has("comensha-decision") and state.comensha_decision in REGISTERING
    if not decided:
        raise RuleRefused(
            "a report to CoMensha follows a decision to register her (by name or by date"
            " of birth only); record that decision first",
            code="comensha-report-without-decision",
            unmet=["comensha-decision"],
        )


def check_acknowledgement_follows_report(state: TrajectoryState) -> None:
    """CoMensha acknowledges a report that was sent, once per report."""
    sent = len(state.evidence.get(COMENSHA_REPORT_SENT, ()))
    if not sent:
        raise RuleRefused(
            "CoMensha can acknowledge a report only after it was sent; record the report"
            " first",
            code="comensha-report-not-sent",
            unmet=[COMENSHA_REPORT_SENT],
        )
    if len(state.evidence.get(COMENSHA_REPORT_ACKNOWLEDGED, ())) >= sent:
        raise RuleRefused(
            "CoMensha's acknowledgement of every report sent is already recorded",
            code="comensha-report-already-acknowledged",
        )


def check_acknowledged_after_sent(state: TrajectoryState, acknowledged_on: date) -> None:
    """The acknowledgement's day is not before the day the report was sent."""
    sent_on = state.latest(COMENSHA_REPORT_SENT)
    if sent_on is not None and acknowledged_on < sent_on:
        raise RuleRefused(
            f"the acknowledgement cannot come before the report was sent ({sent_on})",
            code="comensha-acknowledged-before-sent",
        )
