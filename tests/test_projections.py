"""The read models, each user's window on the log, on SQLite and on PostgreSQL.

One interface test class runs every view on both stores (the `app` fixture); around it,
the stories the issue asks for: moving the clock past each deadline makes exactly that
item overdue; the core-element matrix differs, explainably, between two dates; erasure
leaves no row behind; a projection that fails stops at the event and resumes there; a
runner killed mid-page loses and repeats nothing; two runners at once apply each event
once; the lag is shown.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import structlog
from structlog.testing import capture_logs

from tests.builders import (
    AFTERCARE,
    COORDINATOR,
    OTHER_COORDINATOR,
    handover_package,
    open_trajectory,
    phase_2_facts,
    record_all,
)
from tests.conftest import MASTER_KEY, FakeClock
from tests.projection_support import (
    Breaks,
    EventCounts,
    contents,
    event_counts_in_log,
    rows_of,
    stored_event_counts,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.phasing import Waiver
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    ArrangeEducation,
    AssessMedicalCare,
    ChangeVictimStatus,
    Command,
    CorrectEntry,
    DecideComenshaRegistration,
    DiscussPoliceReport,
    EndRunaway,
    HoldHandoverMeeting,
    InterpretSignals,
    PrepareHandover,
    RecordAftercareContact,
    RecordCareAnalysis,
    RecordSafetyAnalysis,
    RecordSignal,
    RegisterNetworkContact,
    ReportRunaway,
    ReportToComensha,
    StartAftercare,
    TransitionPhase,
)
from trajectory.demo import ORGANISATIONS, run_demo
from trajectory.erasure import erase
from trajectory.projections import PROJECTION_NAMES, ProjectionFailed, setup_projections
from trajectory.projections.caseload import caseload
from trajectory.projections.cli import add_projection_parser, projections_command
from trajectory.projections.core_elements import (
    ELEMENTS,
    matrix,
    signals,
    waiver_justifications,
)
from trajectory.projections.handovers import handovers_for
from trajectory.projections.victims import figures
from trajectory.protocol.evidence import KEPT
from trajectory.settings import Settings

ORG = COORDINATOR.organisation
SECOND_COORDINATOR = Actor(user_id="coord-3", role="coordinator", organisation=ORG)


def today(clock: FakeClock) -> date:
    return amsterdam_date(clock())


def girl(
    app: TrajectoryApplication, clock: FakeClock, actor: Actor = COORDINATOR, **kw: Any
) -> UUID:
    """A girl taken in today (unless told otherwise)."""
    kw.setdefault("intake_date", today(clock))
    return open_trajectory(app, actor, **kw)


def on(clock: FakeClock, days: int) -> str:
    """`occurred_on` for a fact `days` after the clock's day."""
    return (today(clock) + timedelta(days=days)).isoformat()


def handed_over(app: TrajectoryApplication, trajectory_id: UUID, *, accept: bool = True) -> None:
    record_all(
        app,
        trajectory_id,
        [
            DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
            PrepareHandover(
                receiving_organisation="org-c",
                receiving_worker=AFTERCARE.user_id,
                package=handover_package(),
            ),
            HoldHandoverMeeting(
                girl_present=True, sending_worker_present=True, receiving_worker_present=True
            ),
        ],
    )
    if accept:
        record_all(
            app,
            trajectory_id,
            [AcceptHandover(), StartAftercare(plan="weekly", destination="independent")],
            AFTERCARE,
        )


# -- the interface test: every view, on both stores --------------------------------------------


class TestEveryViewOnBothStores:
    """What each user sees, through the query functions the API calls."""

    def test_the_caseload_puts_an_open_runaway_first_then_the_most_overdue(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        # given: a girl who ran away today, one taken in two months ago with nothing done,
        # one taken in today by another coordinator, and one of another organisation
        ran_away = girl(app, clock)
        app.execute(ran_away, ReportRunaway(from_where="group"), COORDINATOR)
        neglected = girl(app, clock, intake_date=today(clock) - timedelta(days=60))
        fresh = girl(app, clock, SECOND_COORDINATOR)
        girl(app, clock, OTHER_COORDINATOR)
        runner = setup_projections(app)
        runner.catch_up()
        # when her coordinator asks for the caseload
        page = caseload(app.db, ORG, today(clock), seen_by=None)
        # then the runaway comes first, then the most overdue, and no other organisation
        assert [i.id for i in page.items] == [ran_away, neglected, fresh]
        assert page.total == 3
        first, second, third = page.items
        assert first.open_runaway_since == today(clock)
        assert first.runaways == 1
        assert second.overdue == 4
        assert {a.code for a in second.attention if a.overdue} == {
            "safety-analysis",
            "education",
            "comensha-decision",
            "care-analysis",
        }
        assert third.overdue == 0
        assert third.days_in_phase == 0
        assert third.phase == 1
        assert [a.due_on for a in third.attention] == sorted(a.due_on for a in third.attention)
        # and the filters and paging narrow it down
        overdue = caseload(app.db, ORG, today(clock), seen_by=None, overdue=True)
        assert [i.id for i in overdue.items] == [neglected]
        not_overdue = caseload(app.db, ORG, today(clock), seen_by=None, overdue=False)
        assert [i.id for i in not_overdue.items] == [
            ran_away,
            fresh,
        ]
        mine = caseload(app.db, ORG, today(clock), seen_by=None, coordinator="coord-3")
        assert [i.id for i in mine.items] == [
            fresh
        ]
        assert caseload(app.db, ORG, today(clock), seen_by=None, phase=2).total == 0
        assert caseload(app.db, ORG, today(clock), seen_by=None, status="in_care").total == 3
        paged = caseload(app.db, ORG, today(clock), seen_by=None, limit=1, offset=1)
        assert (paged.total, [i.id for i in paged.items]) == (3, [neglected])
        # and the total counts what the filters leave, also on a page past the end
        assert caseload(app.db, ORG, today(clock), seen_by=None, overdue=True).total == 1
        assert caseload(app.db, ORG, today(clock), seen_by=None, overdue=False, limit=1).total == 2
        past_end = caseload(app.db, ORG, today(clock), seen_by=None, overdue=False, offset=5)
        assert (past_end.total, past_end.items) == (2, [])
        assert caseload(app.db, ORG, today(clock), seen_by=None, coordinator="coord-3",
                        offset=1).total == 1

    def test_the_aftercare_worker_sees_who_goes_out_of_view(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        # given a girl in aftercare with this worker, and one whose handover awaits acceptance
        in_aftercare = girl(app, clock)
        handed_over(app, in_aftercare)
        app.execute(in_aftercare, RecordAftercareContact(kind="visit"), AFTERCARE)
        waiting = girl(app, clock)
        handed_over(app, waiting, accept=False)
        girl(app, clock)  # never handed over
        runner = setup_projections(app)
        runner.catch_up()
        # when the worker looks today: both in view
        now = handovers_for(app.db, AFTERCARE.user_id, today(clock))
        assert {i.id: i.state for i in now.items} == {
            in_aftercare: "in_aftercare",
            waiting: "meeting_held",
        }
        assert now.out_of_view == 0
        contact = {i.id: i for i in now.items}[in_aftercare]
        assert contact.last_aftercare_contact_on == today(clock)
        assert contact.next_contact_due_on == today(clock) + timedelta(days=28)
        # when four weeks and a day pass without contact
        later = today(clock) + timedelta(days=29)
        after = handovers_for(app.db, AFTERCARE.user_id, later)
        # then she is out of view; the acceptance is overdue too, and a handover not
        # accepted in time is out of view as well (as on the organisation's list)
        assert {i.id: i.out_of_view for i in after.items} == {in_aftercare: True, waiting: True}
        assert after.out_of_view == 2
        assert {i.id: i.acceptance_overdue for i in after.items}[waiting] is True
        # and nobody else's worker sees them
        assert handovers_for(app.db, "someone-else", later).items == []

    def test_the_matrix_and_the_signals_of_an_organisation(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        # given a girl with a safety analysis on day 3, signals and a runaway this month
        tid = girl(app, clock)
        record_all(
            app,
            tid,
            [
                RecordSafetyAnalysis(
                    instrument="structured",
                    physical_safety="safe",
                    experienced_safety="safe",
                    runaway_risk="low",
                    occurred_on=on(clock, 0),
                ),
                RecordSignal(kind="loverboy"),
                RecordSignal(kind="sexual_abuse"),
                ReportRunaway(from_where="school"),
                InterpretSignals(
                    disciplines=["behavioural_scientist", "physician"],
                    together=True,
                    discussed_with_her=False,
                ),
            ],
        )
        setup_projections(app).catch_up()
        # when the quality manager asks
        m = matrix(app.db, ORG, today(clock))
        month = today(clock).isoformat()[:7]
        s = signals(app.db, ORG, month, month)
        # then every element of her row has a status, and the totals add up
        (row,) = m.trajectories
        assert [e.element for e in row.elements] == list(ELEMENTS)
        statuses = {e.element: e.status for e in row.elements}
        assert statuses[1] == statuses[9] == "not_applicable"
        assert statuses[2] == "evidenced"
        assert statuses[5] == "evidenced"
        assert statuses[11] == "due"
        assert all(
            sum(t.evidenced + t.waived + t.due + t.missing + t.not_applicable for t in [total]) == 1
            for total in m.totals
        )
        (counts,) = s.months
        assert (counts.loverboy, counts.sexual_abuse, counts.runaways_reported) == (1, 1, 1)
        assert counts.boundary_crossing == counts.runaway_signals == 0

    def test_national_figures_suppress_small_cells(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        # given six girls taken in this year, five of them minors, one confirmed victim
        for n in range(6):
            born = date(2005, 1, 1) if n == 0 else date(2011, 1, 1)
            tid = girl(app, clock, identity=Identity(name="x", date_of_birth=born, home_region="x"))
            if n == 1:
                app.execute(
                    tid, ChangeVictimStatus(victim_status="confirmed", reason="x"), COORDINATOR
                )
        setup_projections(app).catch_up()
        # when the national figures are asked for once that year has closed
        year = today(clock).year
        f = figures(app.db, year - 1, year, today=date(year + 1, 2, 1))
        cells = {row.key: row.cells for row in f.in_care.rows}
        # then counts of five and more are shown, rounded to base 5, with their share
        assert f.years == [year - 1, year]
        assert (cells["total"][1].n, cells["total"][1].percent) == (5, 100)
        assert (cells["minors"][1].n, cells["minors"][1].percent) == (5, 100)
        # and small counts are not: 1 confirmed, and 5 suspected (which would reveal it)
        assert cells["confirmed"][1].suppressed
        assert cells["confirmed"][1].n is None
        assert cells["suspected"][1].suppressed
        assert cells["potential"][1].n == 0
        # and an empty year shows zeros, not suppressed cells
        assert cells["total"][0].n == 0
        assert not cells["total"][0].suppressed

    def test_no_read_model_holds_identity_or_free_text(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        # given a girl whose name, region, birthday and every note are canaries
        canary = "kanarie-42"
        born = date(2010, 7, 13)
        tid = girl(
            app,
            clock,
            identity=Identity(name=f"Zwaantje {canary}", date_of_birth=born, home_region=canary),
            referral_source=canary,
            legal_framework=canary,
        )
        record_all(
            app,
            tid,
            [
                RecordSignal(kind="loverboy", note=canary),
                RecordSafetyAnalysis(
                    instrument=canary,
                    physical_safety="safe",
                    experienced_safety="safe",
                    runaway_risk="low",
                    notes=canary,
                ),
                RegisterNetworkContact(role=canary, risk="prohibited", note=canary),
                DiscussPoliceReport(outcome=canary),
                ReportRunaway(from_where=canary, suspected_with=canary, how=canary),
                EndRunaway(ending="returned", note=canary),
                RecordCareAnalysis(disciplines=[canary, "social worker"], needs=canary),
                DecideComenshaRegistration(
                    decision="not_registered", argument=canary, consent_by=None
                ),
                ChangeVictimStatus(victim_status="confirmed", reason=canary),
            ],
        )
        clock.advance(days=29)
        app.execute(
            tid,
            TransitionPhase(
                to_phase=2,
                reason=canary,
                waivers=[
                    Waiver(criterion=c, justification=canary)
                    for c in ("medical-assessment", "treatment-plan", "placement", "education",
                              "medical-after-runaway", "safety-after-runaway")
                ],
            ),
            COORDINATOR,
        )
        record_all(app, tid, phase_2_facts()[:2])  # the checks after her return
        handed_over(app, tid)
        app.execute(tid, RecordAftercareContact(kind="visit", note=canary), AFTERCARE)
        runner = setup_projections(app)
        runner.catch_up()
        # when every row of every read model is read
        everything = repr(contents(app, runner))
        # then there is no name, no region, no note, no birthday (nor her 18th birthday)
        assert str(tid) in everything
        assert canary not in everything
        assert born.isoformat() not in everything
        assert born.replace(year=2028).isoformat() not in everything

    def test_status_shows_the_lag_until_the_runner_catches_up(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        girl(app, clock)
        tid = girl(app, clock)
        last = app.execute(tid, RecordSignal(kind="loverboy"), COORDINATOR)
        runner = setup_projections(app)
        assert {s.name: s.lag for s in runner.status()} == dict.fromkeys(
            PROJECTION_NAMES, last.position
        )
        assert runner.catch_up() == 3
        assert {(s.position, s.lag) for s in runner.status()} == {(last.position, 0)}

    def test_a_write_is_seen_once_the_runner_in_the_background_has_it(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        runner = setup_projections(app)
        background = runner.start_in_thread(poll_interval=0.01)
        try:
            tid = girl(app, clock)
            written = app.execute(tid, ArrangeEducation(school="x", level="y"), COORDINATOR)
            assert written.position is not None
            assert runner.wait_for(written.position, timeout=10)
            (item,) = caseload(app.db, ORG, today(clock), seen_by=None).items
            assert item.version == written.version
        finally:
            background.stop()
        assert background.error is None
        assert not background.is_alive()

    def test_two_runners_at_once_apply_every_event_once(
        self, app: TrajectoryApplication, clock: FakeClock
    ) -> None:
        for _ in range(3):
            tid = girl(app, clock)
            record_all(app, tid, phase_2_facts())
        runners = [
            setup_projections(app, extra=[EventCounts(app.protocols)], page_size=2)
            for _ in range(2)
        ]
        threads = [threading.Thread(target=r.catch_up) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert stored_event_counts(app) == event_counts_in_log(app)


# -- attention: the deadlines, one by one ---------------------------------------------------------


def _intake_facts(clock: FakeClock) -> list[Command]:
    return [
        RecordSafetyAnalysis(
            instrument="s", physical_safety="safe", experienced_safety="safe", runaway_risk="low"
        ),
        ArrangeEducation(school="x", level="y"),
        DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        ReportToComensha(sent_by="coordinator"),
        RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
    ]


def _scenario_intake(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    app.execute(tid, ArrangeEducation(school="x", level="y"), COORDINATOR)
    return tid


def _scenario_intake_safety_first(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    app.execute(tid, _intake_facts(clock)[0], COORDINATOR)
    return tid


def _scenario_runaway_safety_first(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    record_all(app, tid, _intake_facts(clock))
    clock.advance(days=1)
    record_all(
        app,
        tid,
        [ReportRunaway(from_where="group"), EndRunaway(ending="found"), _intake_facts(clock)[0]],
    )
    return tid


def _scenario_runaway(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    record_all(app, tid, _intake_facts(clock))
    clock.advance(days=1)  # she runs away and returns the next day
    record_all(
        app,
        tid,
        [
            ReportRunaway(from_where="group"),
            EndRunaway(ending="returned"),
            AssessMedicalCare(needs=["first_aid"], provider="CSG"),
        ],
    )
    return tid


def _scenario_handover(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    record_all(app, tid, _intake_facts(clock))
    handed_over(app, tid, accept=False)
    return tid


def _scenario_aftercare(app: TrajectoryApplication, clock: FakeClock) -> UUID:
    tid = girl(app, clock)
    record_all(app, tid, _intake_facts(clock))
    handed_over(app, tid)
    return tid


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (_scenario_intake, {"safety-analysis": 7, "comensha-decision": 30, "care-analysis": 42}),
        (
            _scenario_intake_safety_first,
            {"education": 7, "comensha-decision": 30, "care-analysis": 42},
        ),
        (_scenario_runaway_safety_first, {"medical-after-runaway": 3, "care-analysis": 91}),
        (_scenario_runaway, {"safety-after-runaway": 3, "care-analysis": 91}),
        # from the warm handover meeting on, the measurement at the end of care is due
        (_scenario_handover, {"handover-acceptance": 14, "follow-up": 30, "care-analysis": 91}),
        (_scenario_aftercare, {"aftercare-contact": 28, "follow-up": 30}),
    ],
    ids=[
        "intake",
        "intake-safety-first",
        "after-a-runaway-safety-first",
        "after-a-runaway",
        "handover",
        "aftercare",
    ],
)
def test_moving_the_clock_past_each_deadline_makes_exactly_that_item_overdue(
    app: TrajectoryApplication, clock: FakeClock, scenario: Any, expected: dict[str, int]
) -> None:
    # given a girl whose facts leave these items due, each on its own day
    start = today(clock)
    tid = scenario(app, clock)
    setup_projections(app).catch_up()

    def overdue() -> set[str]:
        items = caseload(app.db, ORG, today(clock), seen_by=None).items
        (item,) = [i for i in items if i.id == tid]
        assert {a.code: (a.due_on - start).days for a in item.attention} == expected
        return {a.code for a in item.attention if a.overdue}

    assert overdue() == set()
    for code, days in sorted(expected.items(), key=lambda kv: kv[1]):
        # when the clock reaches the deadline, the item is due but not overdue
        clock.advance(days=(start + timedelta(days=days) - today(clock)).days)
        before = overdue()
        assert code not in before
        # and when it passes the deadline by one day, exactly that item becomes overdue
        clock.advance(days=1)
        assert overdue() - before == {code}


# -- the core-element matrix at two dates ---------------------------------------------------------


def test_the_matrix_at_two_dates_tells_what_was_applied_when(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl taken in on day 0 with a risk assessment, a safety analysis on day 3,
    # and on day 10 an advance to phase 2 with waivers (education among them), no education
    start = today(clock)
    tid = girl(app, clock)
    clock.advance(days=10)
    app.execute(
        tid,
        RecordSafetyAnalysis(
            instrument="s",
            physical_safety="safe",
            experienced_safety="safe",
            runaway_risk="low",
            occurred_on=on(clock, -7),  # recorded on day 10: it happened on day 3
        ),
        COORDINATOR,
    )
    waived = [
        "medical-assessment",
        "care-analysis",
        "treatment-plan",
        "placement",
        "education",
        "min-days-in-phase",
    ]
    advanced = app.execute(
        tid,
        TransitionPhase(
            to_phase=2,
            reason="team decision",
            waivers=[Waiver(criterion=c, justification=f"argued: {c}") for c in waived],
        ),
        COORDINATOR,
    )
    setup_projections(app).catch_up()

    def statuses(day: int) -> dict[int, Any]:
        (row,) = matrix(app.db, ORG, start + timedelta(days=day)).trajectories
        return {e.element: e for e in row.elements}

    # when the matrix is read on day 2 and on day 10
    early, late = statuses(2), statuses(10)
    # then the safety analysis was due on day 2 and evidenced on day 10, by its event
    assert (early[5].status, early[5].due_on) == ("due", start + timedelta(days=7))
    assert (late[5].status, late[5].evidenced_on, late[5].positions) == (
        "evidenced",
        start + timedelta(days=3),
        [2],
    )
    # and education was due, then (past its deadline) waived by the phase advance
    assert early[12].status == "due"
    assert late[12].status == "waived"
    assert [(w.position, w.criterion) for w in late[12].waivers] == [
        (advanced.version, "education")
    ]
    assert statuses(9)[12].status == "missing"
    # and phasing is not evidenced by an advance after ten days in phase 1 (the protocol
    # asks 28): its waiver is shown; trauma therapy is due while in care
    assert (early[10].status, late[10].status, late[10].positions) == (
        "due",
        "waived",
        [advanced.version],
    )
    assert [w.criterion for w in late[10].waivers] == ["min-days-in-phase"]
    assert late[11].status == "due"
    # and a risk assessment at intake alone was due in the first week, then missing: the
    # signals were never interpreted with other disciplines
    assert (early[2].status, late[2].status) == ("due", "missing")
    # and the justification is read from the event on demand, never from the read model
    justified = {j.criterion: j.justification for j in waiver_justifications(app, tid)}
    assert justified["education"] == "argued: education"
    assert not any("argued" in str(rows) for rows in contents(app, setup_projections(app)).values())
    # and the organisation's totals follow
    totals = {t.element: t for t in matrix(app.db, ORG, start + timedelta(days=2)).totals}
    assert (totals[5].due, totals[5].evidenced) == (1, 0)


def test_a_fact_marked_in_error_or_redated_moves_in_the_matrix(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    start = today(clock)
    tid = girl(app, clock)
    record_all(
        app,
        tid,
        [
            RegisterNetworkContact(role="mother", risk="safe", occurred_on=on(clock, 0)),
            DiscussPoliceReport(outcome="later", occurred_on=on(clock, 0)),
            RecordSignal(kind="loverboy", occurred_on=on(clock, 0)),
            InterpretSignals(
                disciplines=["physician"],
                together=False,
                discussed_with_her=True,
                discussed_on=start,
                occurred_on=on(clock, 0),
            ),
        ],
    )
    clock.advance(days=5)
    # the police discussion really happened on day 2; the signal was recorded in error
    record_all(
        app,
        tid,
        [
            CorrectEntry(
                position=3, reason="wrong day", corrected_occurred_on=start + timedelta(days=2)
            ),
            CorrectEntry(position=4, action="mark_in_error", reason="another girl"),
        ],
    )
    setup_projections(app).catch_up()
    day = {
        d: {
            e.element: e
            for e in matrix(app.db, ORG, start + timedelta(days=d)).trajectories[0].elements
        }
        for d in (1, 2)
    }
    assert day[1][3].status == "due"
    assert day[1][3].positions == [2, 5]
    assert (day[2][3].status, day[2][3].evidenced_on, day[2][3].positions) == (
        "evidenced",
        start + timedelta(days=2),
        [2, 3, 5],
    )
    month = start.isoformat()[:7]
    assert signals(app.db, ORG, month, month).months[0].loverboy == 0


def test_the_matrix_on_the_demo_data_differs_between_two_dates_for_reasons(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given the demo's eight stories, taken in over the last two years
    run_demo(app, count=8, progress=lambda *_: None)
    setup_projections(app).catch_up()
    now = today(clock)
    for org in ORGANISATIONS:
        late = matrix(app.db, org, now)
        first_intake = min(t.intake_date for t in late.trajectories)
        early_day = first_intake + timedelta(days=3)
        # when the matrix is read three days after the first intake, and today
        early = matrix(app.db, org, early_day)
        # then the answers differ
        assert early != late
        # because fewer girls had been taken in then
        assert {t.id for t in early.trajectories} <= {t.id for t in late.trajectories}
        assert all(t.intake_date <= early_day for t in early.trajectories)
        later = {t.id: {e.element: e for e in t.elements} for t in late.trajectories}
        for t in early.trajectories:
            for e in t.elements:
                # and what was evidenced then was evidenced by facts of then, and still is
                if e.status == "evidenced":
                    assert e.evidenced_on is not None
                    assert e.evidenced_on <= early_day
                    if e.element not in KEPT:  # kept up (5, 6, 7): may lapse since
                        assert later[t.id][e.element].status == "evidenced"
                        assert later[t.id][e.element].evidenced_on == e.evidenced_on
        # and elements that were due then have been evidenced since, in some trajectory
        moved = [
            e.element
            for t in early.trajectories
            for e in t.elements
            if e.status == "due" and later[t.id][e.element].status == "evidenced"
        ]
        assert moved


# -- erasure ------------------------------------------------------------------------------------


def test_erasure_removes_the_trajectory_from_every_projection(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given two girls with rows in every read model
    erased, kept = girl(app, clock), girl(app, clock)
    for tid in (erased, kept):
        record_all(app, tid, [RecordSignal(kind="loverboy"), *_intake_facts(clock),
                              ReportToComensha()])
        handed_over(app, tid, accept=False)
        app.execute(tid, ReportRunaway(from_where="de groep"), COORDINATOR)
        app.execute(tid, RecordSignal(kind="runaway"), COORDINATOR)
        signal = app.get(tid).version  # (a second signal, marked in error: a row of its own)
        app.execute(tid, CorrectEntry(position=signal, action="mark_in_error", reason="x"),
                    COORDINATOR)
    runner = setup_projections(app)
    runner.catch_up()
    assert {t: n for t, n in rows_of(app, runner, str(erased)).items() if n == 0} == {}
    # when one is erased
    erase(app, erased, by=COORDINATOR, reason="request", legal_ground="request-granted")
    # then none of her rows remain, and the other girl's rows all do
    assert set(rows_of(app, runner, str(erased)).values()) == {0}
    assert all(n > 0 for n in rows_of(app, runner, str(kept)).values())
    # and when a girl is erased before the runner saw her latest events
    late = girl(app, clock)
    record_all(app, late, [RecordSignal(kind="runaway"), RecordSignal(kind="loverboy")])
    erase(app, late, by=COORDINATOR, reason="request", legal_ground="request-granted")
    runner.catch_up()
    # then her events are skipped and counted, never shown
    assert set(rows_of(app, runner, str(late)).values()) == {0}
    assert {s.erased_skipped for s in runner.status()} == {3}
    assert {s.lag for s in runner.status()} == {0}


def test_rows_left_by_an_erasure_without_hooks_are_swept_by_the_runner(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl in every read model
    tid = girl(app, clock)
    handed_over(app, tid, accept=False)
    runner = setup_projections(app)
    runner.catch_up()
    # when a process that never registered the projections' hooks erases her
    app.erasure_hooks.clear()
    erase(app, tid, by=COORDINATOR, reason="request", legal_ground="request-granted")
    assert any(rows_of(app, runner, str(tid)).values())
    # then the runner's next look removes what was left behind
    runner.catch_up()
    assert set(rows_of(app, runner, str(tid)).values()) == {0}


# -- failure and resumption -----------------------------------------------------------------------


def test_a_projection_that_fails_stops_at_the_event_and_resumes_there(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a log with a signal in the middle, and a projection that cannot handle signals
    tid = girl(app, clock)
    record_all(app, tid, [ArrangeEducation(school="x", level="y")])
    signal_at = app.execute(tid, RecordSignal(kind="loverboy"), COORDINATOR).position
    record_all(app, tid, [RecordSignal(kind="runaway")])
    assert signal_at is not None
    breaks = Breaks(app.protocols, on="SignalRecorded")
    runner = setup_projections(app, extra=[breaks])
    # when the runner runs
    with capture_logs() as logs, pytest.raises(ProjectionFailed) as failed:
        runner.catch_up()
    # then it stops at that event, says so, and names the projection and the position
    assert (failed.value.names, failed.value.position) == (("breaks",), signal_at)
    assert failed.value.event_type == "SignalRecorded"
    (entry,) = [e for e in logs if e["event"] == "projection_failed"]
    assert entry["log_level"] == "error"
    assert (entry["projections"], entry["position"]) == (["breaks"], signal_at)
    assert entry["trajectory_id"] == str(tid)
    assert entry["error_type"] == "ValueError"
    # and every projection holds everything before it
    assert {s.name: s.position for s in runner.status()} == {
        **dict.fromkeys(PROJECTION_NAMES, signal_at - 1),
        "breaks": signal_at - 1,
    }
    # and running again stops at the same event: it is never skipped
    with pytest.raises(ProjectionFailed):
        setup_projections(app, extra=[breaks]).catch_up()
    # when the projection is fixed, it resumes there and applies each event once
    breaks.broken = False
    assert setup_projections(app, extra=[breaks]).catch_up() == 2
    stored = app.db.fetchall("SELECT position FROM test_breaks ORDER BY position")
    assert [r["position"] for r in stored] == list(range(1, signal_at + 2))


def test_a_runner_killed_mid_page_loses_and_repeats_nothing(tmp_path: Path) -> None:
    # given a log in a SQLite file, and a runner in its own process that writes slowly
    url = f"sqlite:///{tmp_path / 'kill.sqlite'}"
    settings = Settings(database_url=url, master_key=MASTER_KEY)
    app = TrajectoryApplication(settings, clock=FakeClock())
    try:
        for _ in range(4):
            tid = open_trajectory(app, intake_date=date(2026, 2, 1))
            record_all(app, tid, [*phase_2_facts(), RecordSignal(kind="loverboy")] * 4)
        head = app.recorder.max_notification_id() or 0
        script = (
            "import sys, time\n"
            "from tests.projection_support import EventCounts\n"
            "from trajectory.application import TrajectoryApplication\n"
            "from trajectory.projections import setup_projections\n"
            "from trajectory.settings import Settings\n"
            "class Slow(EventCounts):\n"
            "    def flush(self, tx, erased):\n"
            "        super().flush(tx, erased)\n"
            "        time.sleep(0.02)\n"
            "settings = Settings(database_url=sys.argv[1], master_key=sys.argv[2])\n"
            "app = TrajectoryApplication(settings)\n"
            "slow = Slow(app.protocols)\n"
            "setup_projections(app, extra=[slow], page_size=3).catch_up()\n"
        )
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
        child = subprocess.Popen(
            [sys.executable, "-c", script, url, MASTER_KEY],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        runner = setup_projections(app, extra=[EventCounts(app.protocols)])
        # when it is killed (SIGKILL: no clean-up of any kind) part-way through the log
        deadline = time.monotonic() + 30
        while min(runner.positions().values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
        if child.stderr:
            child.stderr.close()
        stood = min(runner.positions().values())
        assert 0 < stood < head
        # then a new runner takes over from where the dead one stood
        runner.catch_up()
        # and every event was counted exactly once, and the read models equal a rebuild
        assert stored_event_counts(app) == event_counts_in_log(app)
        followed = contents(app, runner)
        runner.rebuild()
        assert contents(app, runner) == followed
    finally:
        app.close()


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _status_lines(out: str) -> dict[str, tuple[int, int]]:
    table, _, _ = out.strip().partition("\n\n")  # (what to run follows a blank line)
    header, *lines = table.splitlines()
    assert header.split()[:3] == ["projection", "position", "lag"]
    return {n: (int(p), int(lag)) for n, p, lag, _ in (line.split() for line in lines)}


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="trajectory")
    add_projection_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


@pytest.mark.usefixtures("restore_logging")
def test_projections_run_rebuild_and_status_on_the_command_line(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    tid = girl(app, clock)
    record_all(app, tid, phase_2_facts())
    head = app.recorder.max_notification_id()
    out = io.StringIO()
    assert projections_command(app, _args("projections", "status"), out) == 0
    assert _status_lines(out.getvalue()) == dict.fromkeys(PROJECTION_NAMES, (0, head))
    # and says what to run about the lag, in the mode the installation runs
    assert "start `trajectory serve`, or catch them up now with `trajectory projections run`" in (
        out.getvalue())
    # run follows the log until told to stop
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    assert (
        projections_command(
            app, _args("projections", "run", "--poll-interval", "0.05"), out, stop_event=stop
        )
        == 0
    )
    out = io.StringIO()
    projections_command(app, _args("projections", "status"), out)
    assert _status_lines(out.getvalue()) == dict.fromkeys(PROJECTION_NAMES, (head, 0))
    assert out.getvalue().endswith("\n\nEvery read model is current.\n")
    # rebuild of one projection says how many events it applied
    out = io.StringIO()
    assert projections_command(app, _args("projections", "rebuild", "caseload"), out) == 0
    assert f"rebuilt caseload: {head} events" in out.getvalue()
    with pytest.raises(SystemExit):
        _args("projections", "rebuild", "no-such-projection")


def test_status_says_what_to_run_when_a_read_model_lags_in_each_mode() -> None:
    from trajectory.projections.cli import what_to_run

    # in-process: the server keeps them current, or the runner once
    in_process = what_to_run(["caseload", "states"], external=False)
    assert "Behind the log: caseload, states." in in_process
    assert "start `trajectory serve`" in in_process
    # external: nothing but the runner does
    external = what_to_run(["caseload"], external=True)
    assert "run `trajectory projections run`" in external
    assert "TRAJECTORY_PROJECTIONS=external" in external
    # either way, one stuck on an event: its log line, then a rebuild
    assert "trajectory projections rebuild NAME" in external
    assert what_to_run([], external=True) == "Every read model is current.\n"
