"""Out of view, the pure rule: why a girl is out of view, since when, and from which day
each reason holds, for every reason and for what clears it.

Told on the state alone (no storage): the facts are folded into it as their events fold
them (evidence per code, the correction rule for entries marked in error), so these
stories hold whatever the aggregate's rules around them become.
"""

from __future__ import annotations

from datetime import date, timedelta

from trajectory.aggregates import corrections
from trajectory.aggregates.corrections import Correction
from trajectory.aggregates.state import Handover, TrajectoryState
from trajectory.protocol import default_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol.out_of_view import (
    OutOfView,
    OutOfViewWindow,
    out_of_view,
    out_of_view_windows,
)

PROTOCOL = default_protocol()
DAY = date(2026, 3, 2)
_position = iter(range(10, 10_000))


def d(days: int) -> date:
    return DAY + timedelta(days=days)


def a_girl() -> TrajectoryState:
    return TrajectoryState(
        organisation="org-a",
        coordinator="coord-1",
        protocol_name=PROTOCOL.name,
        protocol_version=PROTOCOL.version,
        intake_date=d(-200),
        date_of_birth=date(2010, 5, 5),
        victim_status="suspected",
        risk_profiles=[],
        setting="residential",
    )


def in_aftercare(since: date = DAY, *, every_days: int | None = None) -> TrajectoryState:
    s = a_girl()
    s.handover = Handover(
        receiving_organisation="org-c",
        receiving_worker="after-1",
        prepared_on=since - timedelta(days=20),
        meeting_on=since - timedelta(days=10),
        accepted_on=since - timedelta(days=5),
        contact_every_days=every_days,
    )
    s.add_evidence("handover-meeting", next(_position), since - timedelta(days=10))
    s.add_evidence("handover-accepted", next(_position), since - timedelta(days=5))
    s.status = "aftercare"
    s.aftercare_started_on = since
    return s


def contact(s: TrajectoryState, on: date, *, reached: bool = True) -> int:
    """An aftercare contact as its event folds it; returns its position."""
    position = next(_position)
    s.add_evidence("aftercare-contact" if reached else "aftercare-contact-failed", position, on)
    return position


def reasons(s: TrajectoryState, today: date, protocol: Protocol = PROTOCOL) -> set[str]:
    return {o.reason for o in out_of_view(s, protocol, today)}


# -- aftercare contact overdue -----------------------------------------------------------------


def test_a_girl_in_aftercare_goes_out_of_view_the_day_after_the_contact_was_due() -> None:
    # given aftercare started today, with the protocol's interval (28 days)
    s = in_aftercare()
    interval = PROTOCOL.attention.aftercare_contact_interval_days
    # then she is in view until the due day, and out of view the day after
    assert out_of_view(s, PROTOCOL, d(interval)) == []
    assert out_of_view(s, PROTOCOL, d(interval + 1)) == [
        OutOfView(reason="aftercare-contact-overdue", since=d(interval + 1))
    ]
    # and the window says so without a day being asked
    assert out_of_view_windows(s, PROTOCOL) == [
        OutOfViewWindow(
            reason="aftercare-contact-overdue", since=d(interval + 1), applies_from=d(interval + 1)
        )
    ]


def test_the_agreed_frequency_sets_the_interval() -> None:
    # given a package that agreed weekly contact
    s = in_aftercare(every_days=7)
    # then a week without contact is enough
    assert reasons(s, d(7)) == set()
    assert reasons(s, d(8)) == {"aftercare-contact-overdue"}


def test_a_contact_that_reached_her_clears_the_overdue_contact_and_moves_it_on() -> None:
    # given she was overdue
    s = in_aftercare(every_days=7)
    assert reasons(s, d(10)) == {"aftercare-contact-overdue"}
    # when a contact reaches her on day 10
    contact(s, d(10))
    # then she is in view, until a week after it
    assert reasons(s, d(10)) == set()
    assert reasons(s, d(17)) == set()
    assert out_of_view(s, PROTOCOL, d(18)) == [
        OutOfView(reason="aftercare-contact-overdue", since=d(18))
    ]


def test_a_contact_that_did_not_reach_her_does_not_clear_the_overdue_contact() -> None:
    s = in_aftercare(every_days=7)
    # when an unanswered message is all there is
    contact(s, d(9), reached=False)
    # then she stays out of view, since the day after the contact was due
    assert OutOfView(reason="aftercare-contact-overdue", since=d(8)) in out_of_view(
        s, PROTOCOL, d(9)
    )


def test_a_reached_contact_marked_in_error_counts_no_more() -> None:
    # given a contact that reached her, then found recorded in error
    s = in_aftercare(every_days=7)
    wrong = contact(s, d(5))
    assert reasons(s, d(10)) == set()
    corrections.fold(s, Correction(wrong, in_error=True))
    # then the contact is overdue as if it never happened
    assert out_of_view(s, PROTOCOL, d(10)) == [
        OutOfView(reason="aftercare-contact-overdue", since=d(8))
    ]


def test_a_contact_redated_by_a_correction_counts_on_its_corrected_day() -> None:
    s = in_aftercare(every_days=7)
    position = contact(s, d(6))
    corrections.fold(s, Correction(position, occurred_on=d(2)))
    # (reached on day 2, due a week later: out of view from day 10, not day 14)
    assert reasons(s, d(9)) == set()
    assert reasons(s, d(10)) == {"aftercare-contact-overdue"}
    assert out_of_view_windows(s, PROTOCOL)[0].since == d(10)


def test_no_contact_is_due_outside_aftercare() -> None:
    # in care, and after aftercare ended, no contact is due
    assert reasons(a_girl(), d(400)) == set()
    s = in_aftercare()
    s.aftercare_ended_on = d(3)
    assert reasons(s, d(400)) == set()
    assert out_of_view_windows(s, PROTOCOL) == []


# -- contact attempts failed -------------------------------------------------------------------


def test_the_protocols_number_of_failed_attempts_puts_her_out_of_view() -> None:
    s = in_aftercare(every_days=60)
    n = PROTOCOL.attention.aftercare_failed_attempts
    for i in range(n - 1):
        contact(s, d(1 + i), reached=False)
    # one attempt short: in view
    assert reasons(s, d(n)) == set()
    # when the last of them does not reach her either
    contact(s, d(n), reached=False)
    # then she is out of view, since the first attempt, from the day of the last
    assert out_of_view(s, PROTOCOL, d(n)) == [
        OutOfView(reason="contact-attempts-failed", since=d(1))
    ]
    (window,) = [
        w for w in out_of_view_windows(s, PROTOCOL) if w.reason == "contact-attempts-failed"
    ]
    assert (window.since, window.applies_from) == (d(1), d(n))


def test_one_failed_attempt_puts_her_out_of_view_once_it_is_the_protocols_days_old() -> None:
    s = in_aftercare(every_days=60)
    contact(s, d(1), reached=False)
    days = PROTOCOL.attention.aftercare_unreached_days
    assert reasons(s, d(days)) == set()
    assert out_of_view(s, PROTOCOL, d(1 + days)) == [
        OutOfView(reason="contact-attempts-failed", since=d(1))
    ]


def test_a_reached_contact_clears_the_failed_attempts_before_it() -> None:
    s = in_aftercare(every_days=60)
    for i in range(PROTOCOL.attention.aftercare_failed_attempts):
        contact(s, d(1 + i), reached=False)
    assert reasons(s, d(5)) == {"contact-attempts-failed"}
    contact(s, d(5))
    assert reasons(s, d(5)) == set()
    # and a later failed attempt starts counting afresh
    contact(s, d(6), reached=False)
    assert reasons(s, d(6)) == set()


def test_a_failed_attempt_marked_in_error_does_not_count() -> None:
    s = in_aftercare(every_days=60)
    positions = [
        contact(s, d(1 + i), reached=False)
        for i in range(PROTOCOL.attention.aftercare_failed_attempts)
    ]
    corrections.fold(s, Correction(positions[-1], in_error=True))
    assert reasons(s, d(5)) == set()


# -- left without a handover -------------------------------------------------------------------


def test_leaving_care_without_a_handover_puts_her_out_of_view_at_once() -> None:
    # given care ended without a warm handover (closure)
    s = a_girl()
    s.status = "closed"
    s.closed_on = DAY
    s.left_without_handover_on = DAY
    # then she is out of view from that day, whatever day is asked after it
    assert out_of_view(s, PROTOCOL, DAY) == [
        OutOfView(reason="left-without-handover", since=DAY)
    ]
    assert reasons(s, d(-1)) == set()
    assert reasons(s, d(900)) == {"left-without-handover"}


def test_a_contact_that_reached_her_after_she_left_clears_left_without_handover() -> None:
    s = a_girl()
    s.status = "closed"
    s.left_without_handover_on = DAY
    contact(s, d(3), reached=False)
    assert reasons(s, d(3)) == {"left-without-handover"}
    contact(s, d(4))
    assert reasons(s, d(4)) == set()


def test_a_contact_before_she_left_does_not_clear_left_without_handover() -> None:
    s = in_aftercare(d(-30))
    contact(s, d(-2))
    s.status = "closed"
    s.left_without_handover_on = DAY
    assert reasons(s, DAY) == {"left-without-handover"}


def test_aftercare_started_without_a_handover_is_out_of_view_until_reached() -> None:
    s = in_aftercare(every_days=7)
    s.left_without_handover_on = DAY
    assert reasons(s, DAY) == {"left-without-handover"}
    assert reasons(s, d(8)) == {"left-without-handover", "aftercare-contact-overdue"}
    contact(s, d(8))
    assert reasons(s, d(8)) == set()


# -- handover not accepted ---------------------------------------------------------------------


def handover_met(on: date) -> TrajectoryState:
    s = a_girl()
    s.handover = Handover(receiving_organisation="org-c", receiving_worker="after-1",
                          prepared_on=on - timedelta(days=3), meeting_on=on)
    s.add_evidence("handover-prepared", next(_position), on - timedelta(days=3))
    s.add_evidence("handover-meeting", next(_position), on)
    return s


def test_a_handover_not_accepted_in_time_puts_her_out_of_view() -> None:
    s = handover_met(DAY)
    within = PROTOCOL.attention.handover_acceptance_within_days
    assert reasons(s, d(within)) == set()
    assert out_of_view(s, PROTOCOL, d(within + 1)) == [
        OutOfView(reason="handover-not-accepted", since=d(within + 1))
    ]


def test_the_acceptance_clears_handover_not_accepted() -> None:
    s = handover_met(DAY)
    s.add_evidence("handover-accepted", next(_position), d(30))
    assert reasons(s, d(30)) == set()


def test_a_meeting_marked_in_error_starts_no_acceptance_deadline() -> None:
    s = handover_met(DAY)
    meeting = s.evidence["handover-meeting"][0].position
    corrections.fold(s, Correction(meeting, in_error=True))
    assert reasons(s, d(60)) == set()


# -- one rule, two readings --------------------------------------------------------------------


def test_the_windows_answer_every_day_as_out_of_view_does() -> None:
    # given a girl with every reason at once, at different days
    s = in_aftercare(every_days=14)
    s.left_without_handover_on = d(2)
    contact(s, d(3), reached=False)
    contact(s, d(4), reached=False)
    windows = out_of_view_windows(s, PROTOCOL)
    # then for every day, the windows that apply are what out_of_view says
    for day in range(-5, 60):
        expected = [
            OutOfView(reason=w.reason, since=w.since) for w in windows if w.applies_from <= d(day)
        ]
        assert out_of_view(s, PROTOCOL, d(day)) == expected
    # and no window applies before the day it names as since
    assert all(w.since <= w.applies_from for w in windows)
