"""The replay of one girl's recorded decisions, told on the aggregate alone (no storage):
what a proposed protocol would have refused, for how many days she stood above its caps,
and that her own protocol refuses nothing of what it accepted."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from tests.test_rules import Story, contact, in_phase, restore
from trajectory.protocol import default_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol.replay import ReplayTotals, replay_trajectory


def two_phases() -> Protocol:
    default = default_protocol()
    return msgspec.structs.replace(default, phase=default.phase[:2])


def no_safe_contacts_in_phase_1() -> Protocol:
    default = default_protocol()
    phase_1 = msgspec.structs.replace(
        default.phase[0], network={**default.phase[0].network, "safe": "none"}
    )
    return msgspec.structs.replace(default, phase=(phase_1, *default.phase[1:]))


def test_her_own_protocol_refuses_nothing_it_accepted() -> None:
    # given a girl who reached phase 3 of the default
    story = in_phase(3)
    # when her history is replayed under the default, then nothing changes
    report = replay_trajectory(story.history, default_protocol(), default_protocol(), story.today)
    assert report.refusals == ()
    assert report.above_caps == ()
    assert report.attention == ()


def test_a_protocol_without_her_phase_refuses_the_step_into_it() -> None:
    # given a girl who reached phase 3
    story = in_phase(3)
    # when replayed under a protocol of two phases
    report = replay_trajectory(story.history, two_phases(), default_protocol(), story.today)
    # then the step to phase 3 would have been refused: there is no such phase
    assert [(r.decision, r.to_phase, r.rule) for r in report.refusals] == [
        ("phase-advance", 3, "phase-unknown")
    ]


def test_a_contact_above_the_new_cap_is_refused_and_its_days_counted() -> None:
    # given a safe contact restored under supervision in phase 1, ten days ago
    story = Story().given(contact("mother", "safe"), restore("mother", "supervised"))
    restored_on = story.today
    story.days_pass(10)
    # when replayed under a protocol with no safe contacts in phase 1
    report = replay_trajectory(
        story.history, no_safe_contacts_in_phase_1(), default_protocol(), story.today
    )
    # then the restoration is refused, and she stood above the cap for ten days
    assert [(r.decision, r.subject, r.on) for r in report.refusals] == [
        ("contact-restored", "safe", restored_on)
    ]
    assert [(a.what, a.subject, a.days, a.highest) for a in report.above_caps] == [
        ("contact", "safe", 10, "supervised")
    ]
    # and as of the day before the restoration, nothing is judged or counted
    earlier = replay_trajectory(
        story.history, no_safe_contacts_in_phase_1(), default_protocol(),
        restored_on - timedelta(days=1),
    )
    assert earlier.refusals == ()
    assert earlier.above_caps == ()


def test_the_totals_add_up_the_girls() -> None:
    story = Story().given(contact("mother", "safe"), restore("mother", "supervised"))
    story.days_pass(3)
    strict = no_safe_contacts_in_phase_1()
    totals = ReplayTotals()
    for _ in range(2):
        totals.add(replay_trajectory(story.history, strict, default_protocol(), story.today))
    assert totals.girls == 2
    assert totals.girls_affected == 2
    assert totals.refused == {"contact-restored": 2}
    assert totals.above_cap_days == {"contact:safe": 6}
