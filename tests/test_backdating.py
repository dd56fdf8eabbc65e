"""Backdated phase decisions are judged on the day they happened, not the day recorded."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from tests.builders import COORDINATOR, open_trajectory, phase_2_facts, record_all
from trajectory.aggregates.errors import RuleRefused
from trajectory.application import TrajectoryApplication
from trajectory.commands import TransitionPhase


def _ready_for_phase_2(app: TrajectoryApplication) -> UUID:
    tid = open_trajectory(app, intake_date=date(2026, 1, 5))
    commands = [
        type(c)(**{**{f: getattr(c, f) for f in c.__struct_fields__}, "occurred_on": "2026-01-06"})
        for c in phase_2_facts()
    ]
    record_all(app, tid, commands)
    return tid


def test_a_backdated_advance_must_have_met_the_days_in_phase_then(
    app: TrajectoryApplication,
) -> None:
    # given a girl whose phase-2 facts were all recorded in her first days (today is March)
    tid = _ready_for_phase_2(app)
    # when an advance is recorded as having happened 3 days after intake
    with pytest.raises(RuleRefused) as refused:
        app.execute(
            tid, TransitionPhase(to_phase=2, reason="stable", occurred_on="2026-01-08"), COORDINATOR
        )
    # then it is refused: on that day she had not been 28 days in phase 1
    assert refused.value.unmet == ("min-days-in-phase",)
    # and dated after 28 days it is accepted
    ok = app.execute(
        tid, TransitionPhase(to_phase=2, reason="stable", occurred_on="2026-02-03"), COORDINATOR
    )
    assert app.get(tid).state.phase == 2
    assert ok.version == app.get(tid).version


def test_a_transition_cannot_predate_the_current_phase(app: TrajectoryApplication) -> None:
    # given a girl who entered phase 2 on 3 February
    tid = _ready_for_phase_2(app)
    app.execute(
        tid, TransitionPhase(to_phase=2, reason="stable", occurred_on="2026-02-03"), COORDINATOR
    )
    # when a regression is dated before that, then it is refused
    with pytest.raises(RuleRefused) as refused:
        app.execute(
            tid,
            TransitionPhase(to_phase=1, reason="relapse", occurred_on="2026-02-01"),
            COORDINATOR,
        )
    assert refused.value.code == "occurred-before-current-phase"


def test_a_backdated_advance_cannot_lean_on_a_later_fact(app: TrajectoryApplication) -> None:
    # given a girl whose safety analysis happened only on 1 March
    tid = open_trajectory(app, intake_date=date(2026, 1, 5))
    facts = phase_2_facts()
    dated = [
        type(c)(
            **{
                **{f: getattr(c, f) for f in c.__struct_fields__},
                "occurred_on": "2026-03-01" if i == 0 else "2026-01-06",
            }
        )
        for i, c in enumerate(facts)
    ]
    record_all(app, tid, dated)
    # when an advance is dated 10 February, then the safety analysis does not count yet
    with pytest.raises(RuleRefused) as refused:
        app.execute(
            tid, TransitionPhase(to_phase=2, reason="stable", occurred_on="2026-02-10"), COORDINATOR
        )
    assert refused.value.unmet == ("safety-analysis",)
