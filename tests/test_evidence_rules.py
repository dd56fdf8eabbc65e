"""The evidence rules of the core-element matrix, element by element, on SQLite and on
PostgreSQL: a girl with only a token event does not show the element `evidenced` (and
shows it `missing` once care ended); a girl with the real evidence does. And the finding
of the issue: one case conference and one permission change, closed after a month, made
elements 15 and 10 look applied.

Each story takes a girl in 200 days ago and records her facts on the days they happened;
the matrix is read as of a day of her trajectory.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.api_support import INTAKE, assert_problem
from tests.builders import (
    AFTERCARE,
    COORDINATOR,
    handover_package,
    left_care,
    open_trajectory,
    phase_2_facts,
)
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.web_support import World
from trajectory.aggregates.events.phasing import PermissionChanged, Waiver
from trajectory.aggregates.trajectory import Trajectory
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    ArrangeEducation,
    ArrangeLeisure,
    AssessMedicalCare,
    ChangePermission,
    CloseTrajectory,
    Command,
    CompleteTraumaTherapy,
    DecideComenshaRegistration,
    DeliverIntervention,
    DiscussPoliceReport,
    EndRunaway,
    HoldCaseConference,
    HoldHandoverMeeting,
    HoldTraumaTherapySession,
    InterpretSignals,
    PrepareHandover,
    RecordAftercareContact,
    RecordCareAnalysis,
    RecordFamilyInvolvement,
    RecordSafetyAnalysis,
    RegisterNetworkContact,
    ReportRunaway,
    ReportToComensha,
    StartAftercare,
    StartTraumaTherapy,
    TransitionPhase,
)
from trajectory.projections import setup_projections
from trajectory.projections.core_elements import CoreElementsProjection, ElementOut, matrix
from trajectory.protocol.evidence import ELEMENTS, KEPT, RULES, markdown

ORG = COORDINATOR.organisation
STARTED_DAYS_AGO = 200


class Girl:
    """One girl's story: taken in `STARTED_DAYS_AGO` days before the clock's day."""

    def __init__(self, app: TrajectoryApplication, clock: FakeClock, **intake: Any):
        self.app = app
        self.today = amsterdam_date(clock())
        self.start = self.today - timedelta(days=STARTED_DAYS_AGO)
        self.id = open_trajectory(app, intake_date=self.start, **intake)

    def did(self, day: int, *commands: Command, actor: Actor = COORDINATOR) -> Girl:
        for command in commands:
            dated = msgspec.structs.replace(
                command, occurred_on=(self.start + timedelta(days=day)).isoformat()
            )
            self.app.execute(self.id, dated, actor)
        return self

    def left(self, day: int) -> Girl:
        """Care ended without a warm handover, argued (as the rules of leaving allow)."""
        return self.did(day, left_care())

    def element(self, number: int, day: int = STARTED_DAYS_AGO) -> ElementOut:
        """Element `number` as the matrix shows it on `day` of her trajectory."""
        setup_projections(self.app).catch_up()
        rows = matrix(self.app.db, ORG, self.start + timedelta(days=day)).trajectories
        (row,) = [r for r in rows if r.id == self.id]
        (found,) = [e for e in row.elements if e.element == number]
        return found

    def status(self, number: int, day: int = STARTED_DAYS_AGO) -> str:
        return self.element(number, day).status


def safety() -> RecordSafetyAnalysis:
    return RecordSafetyAnalysis(
        instrument="structured",
        physical_safety="concerns",
        experienced_safety="safe",
        runaway_risk="high",
    )


def medical() -> AssessMedicalCare:
    return AssessMedicalCare(needs=["sti_test"], provider="Centrum Seksueel Geweld")


def analysis() -> RecordCareAnalysis:
    return RecordCareAnalysis(disciplines=["psychologist", "social worker"])


def interpreted(**overrides: Any) -> InterpretSignals:
    fields: dict[str, Any] = {
        "disciplines": ["behavioural_scientist", "police"],
        "together": True,
        "discussed_with_her": False,
    }
    fields.update(overrides)
    return InterpretSignals(**fields)


def handed_over(girl: Girl, day: int) -> Girl:
    """A warm handover on `day`: prepared, the meeting, accepted, aftercare started."""
    girl.did(
        day,
        DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        PrepareHandover(
            receiving_organisation="org-c",
            receiving_worker=AFTERCARE.user_id,
            package=handover_package(),
        ),
        HoldHandoverMeeting(
            girl_present=True, sending_worker_present=True, receiving_worker_present=True
        ),
    )
    return girl.did(
        day, AcceptHandover(), StartAftercare(plan="weekly", destination="independent"),
        actor=AFTERCARE,
    )


# -- the finding of the issue ------------------------------------------------------------------


def test_a_case_conference_and_a_permission_change_closed_after_a_month_evidence_neither(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl with one case conference and one permission change, closed after a month
    girl = Girl(app, clock).did(
        3,
        HoldCaseConference(partners=["politie", "wijkteam"]),
        ChangePermission(kind="phone", level="supervised", reason="calls home"),
    ).left(30)
    # then neither chain cooperation and aftercare nor phasing is evidenced
    assert girl.status(15) != "evidenced"
    assert girl.status(10) == "missing"
    # and her leaving, argued, reads as the argued exception it is, not as aftercare
    fifteen = girl.element(15)
    assert fifteen.status == "waived"
    assert [w.criterion for w in fifteen.waivers] == ["without-handover"]


# -- element by element ------------------------------------------------------------------------


def test_2_a_risk_assessment_alone_is_not_the_signals_interpreted_together(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    only_instrument = Girl(app, clock).left(30)
    one_discipline = Girl(app, clock).did(1, interpreted(disciplines=["physician"])).left(30)
    one_by_one = Girl(app, clock).did(1, interpreted(together=False)).left(30)
    together = Girl(app, clock).did(2, interpreted()).left(30)
    no_instrument = (
        Girl(app, clock, risk_assessment_instrument="not recorded")
        .did(2, interpreted())
        .left(30)
    )
    assert only_instrument.status(2) == "missing"
    assert one_discipline.status(2) == "missing"
    assert one_by_one.status(2) == "missing"
    assert no_instrument.status(2) == "missing"
    assert together.status(2) == "evidenced"
    assert together.element(2).evidenced_on == together.start + timedelta(days=2)
    # and while in care it was due until the first week had passed
    assert Girl(app, clock).status(2, day=5) == "due"


def test_3_network_analysis_and_police_report_need_the_signals_discussed_with_her(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    steps = [
        RegisterNetworkContact(role="mother", risk="safe"),
        DiscussPoliceReport(outcome="she will think about it"),
    ]
    not_discussed = Girl(app, clock).did(5, *steps, interpreted()).left(60)
    discussed = Girl(app, clock).did(5, *steps)
    on_day_9 = discussed.start + timedelta(days=9)
    discussed.did(9, interpreted(discussed_with_her=True, discussed_on=on_day_9)).left(60)
    only_police = Girl(app, clock).did(5, DiscussPoliceReport(outcome="no")).left(60)
    assert not_discussed.status(3) == "missing"
    assert only_police.status(3) == "missing"
    assert discussed.status(3) == "evidenced"
    assert discussed.element(3).evidenced_on == discussed.start + timedelta(days=9)


def test_4_a_decision_to_register_is_no_registration_until_the_report_is_sent(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # Given: one girl with no decision, one with a decision to register and no report,
    # one registered (decision and report sent), one argued not to register
    undecided = Girl(app, clock)
    decided = Girl(app, clock).did(
        10, DecideComenshaRegistration(decision="registered_by_name", consent_by="parent")
    )
    reported = Girl(app, clock).did(
        10,
        DecideComenshaRegistration(
            decision="registered_by_date_of_birth", argument="Geen toestemming ouders."
        ),
    ).did(14, ReportToComensha())
    not_registering = Girl(app, clock).did(
        12,
        DecideComenshaRegistration(
            decision="not_registered", argument="Geen signalen van uitbuiting."
        ),
    )
    # Then: the decision alone is due until the deadline and missing after it
    assert undecided.status(4, day=20) == "due"
    assert undecided.status(4) == "missing"
    assert decided.status(4, day=20) == "due"
    assert decided.status(4) == "missing"
    # ... the report sent is the registration, on its day
    assert reported.status(4, day=12) == "due"
    assert reported.status(4) == "evidenced"
    assert reported.element(4).evidenced_on == reported.start + timedelta(days=14)
    # ... and an argued decision not to register is the element applied
    assert not_registering.status(4) == "evidenced"
    assert not_registering.element(4).evidenced_on == not_registering.start + timedelta(days=12)


@pytest.mark.parametrize(("element", "check"), [(5, safety), (6, medical)])
def test_5_and_6_the_intake_check_does_not_cover_a_runaway_never_checked_after(
    app: TrajectoryApplication, clock: FakeClock, element: int, check: Any
) -> None:
    # given two girls checked at intake who ran away on day 40 and returned on day 45
    def ran_away() -> Girl:
        return Girl(app, clock).did(2, check()).did(40, ReportRunaway(from_where="group")).did(
            45, EndRunaway(ending="returned")
        )

    unchecked = ran_away()
    checked = ran_away().did(46, check())
    # then the one never checked again is due for two days, then missing
    assert unchecked.status(element, day=30) == "evidenced"
    assert unchecked.status(element, day=46) == "due"
    assert unchecked.element(element, day=46).due_on == unchecked.start + timedelta(days=47)
    assert unchecked.status(element, day=48) == "missing"
    # and once care ended (the checks set aside, justified, as leaving care asks) the
    # one never checked again reads waived, the one checked again evidenced
    criterion = {5: "safety-after-runaway", 6: "medical-after-runaway"}
    other = criterion[11 - element]

    def waived(*criteria: str) -> list[Waiver]:
        return [Waiver(criterion=c, justification="she left the next day") for c in criteria]

    unchecked.did(60, left_care(waivers=waived(criterion[element], other)))
    checked.did(60, left_care(waivers=waived(other)))
    assert unchecked.status(element) == "waived"
    assert [w.criterion for w in unchecked.element(element).waivers] == [criterion[element]]
    assert checked.status(element) == "evidenced"
    assert checked.element(element).evidenced_on == checked.start + timedelta(days=2)


def test_7_one_care_analysis_is_not_an_analysis_every_91_days(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    once = Girl(app, clock).did(30, analysis()).left(190)
    repeated = Girl(app, clock).did(30, analysis()).did(110, analysis()).left(190)
    late_again = Girl(app, clock).did(30, analysis()).did(150, analysis()).left(190)
    # in care, the single analysis counted until 91 days after it
    assert once.status(7, day=100) == "evidenced"
    assert once.status(7, day=125) == "missing"
    # once care ended: over the whole time in care
    assert once.status(7) == "missing"
    assert late_again.status(7) == "missing"
    assert repeated.status(7) == "evidenced"
    assert repeated.element(7).evidenced_on == repeated.start + timedelta(days=30)


def test_8_family_involvement_rests_on_a_network_analysis(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    family = RecordFamilyInvolvement(form="family_meeting", participants=["mother"])
    alone = Girl(app, clock).did(10, family).left(60)
    with_network = (
        Girl(app, clock)
        .did(10, family)
        .did(12, RegisterNetworkContact(role="mother", risk="safe"))
        .left(60)
    )
    assert alone.status(8) == "missing"
    assert with_network.status(8) == "evidenced"
    assert with_network.element(8).evidenced_on == with_network.start + timedelta(days=12)


def test_10_phases_lived_under_the_protocol(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    permission_only = Girl(app, clock).did(
        3, ChangePermission(kind="phone", level="supervised", reason="calls home")
    ).left(60)
    rushed = (
        Girl(app, clock)
        .did(1, *phase_2_facts())
        .did(
            5,
            TransitionPhase(
                to_phase=2,
                reason="team decision",
                waivers=[Waiver(criterion="min-days-in-phase", justification="argued")],
            ),
        )
        .left(60)
    )
    lived = (
        Girl(app, clock)
        .did(1, *phase_2_facts())
        .did(30, TransitionPhase(to_phase=2, reason="stable"))
    )
    # then a permission change alone is no phasing, and a rushed advance is waived
    assert permission_only.status(10) == "missing"
    assert rushed.status(10) == "waived"
    # and an advance after the protocol's 28 days in phase 1 is, from that day
    assert lived.status(10, day=29) == "due"
    assert lived.status(10) == "evidenced"
    assert lived.element(10).evidenced_on == lived.start + timedelta(days=30)


def test_10_a_permission_above_its_phase_cap_undoes_the_phasing(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl who lived phase 1 and advanced to phase 2
    girl = Girl(app, clock).did(1, *phase_2_facts())
    girl.did(30, TransitionPhase(to_phase=2, reason="stable"))
    assert girl.status(10) == "evidenced"
    # when a stored fact gives her free internet in phase 2 (recorded under other rules:
    # today's refuse it, so the story writes the event past them)
    t = app.get(girl.id)
    assert isinstance(t, Trajectory)
    before = t.version
    meta = app.meta(COORDINATOR, (girl.start + timedelta(days=40)).isoformat(), clock())
    t._record(PermissionChanged, meta, kind="internet", level="free", reason="older rules")
    app._save(t, before, (), clock(), True)
    # then phasing is missing from that day on, naming the event
    assert girl.status(10, day=39) == "evidenced"
    ten = girl.element(10)
    assert ten.status == "missing"
    assert t.version in ten.positions


def test_11_trauma_therapy_started_is_not_trauma_processed(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    start = StartTraumaTherapy(method="emdr", provider="jeugd-ggz")
    started = Girl(app, clock).did(20, start).left(90)
    under_way = Girl(app, clock).did(20, start).did(27, HoldTraumaTherapySession(note="1"))
    completed = Girl(app, clock).did(20, start).did(80, CompleteTraumaTherapy(outcome="done"))
    assert started.status(11) == "missing"
    assert under_way.status(11, day=25) == "due"
    assert under_way.status(11) == "evidenced"
    assert under_way.element(11).evidenced_on == under_way.start + timedelta(days=27)
    assert completed.status(11) == "evidenced"


def test_12_leisure_without_education_is_not_education_from_day_one(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    leisure = ArrangeLeisure(kind="sport", activity="zwemmen", supervised=True)
    only_leisure = Girl(app, clock).did(3, leisure)
    schooled = Girl(app, clock).did(3, ArrangeEducation(school="De Brug", level="vmbo"), leisure)
    assert only_leisure.status(12) == "missing"
    assert schooled.status(12) == "evidenced"
    assert len(schooled.element(12).positions) == 2


@pytest.mark.parametrize(
    ("element", "counts", "other"),
    [
        (13, "resilience_training", "psycho_education_sexuality"),
        (14, "psycho_education_relationships", "resilience_training"),
    ],
)
def test_13_and_14_only_their_own_interventions_count(
    app: TrajectoryApplication, clock: FakeClock, element: int, counts: str, other: str
) -> None:
    def given(kind: str) -> DeliverIntervention:
        return DeliverIntervention(kind=kind, provider="team")  # type: ignore[arg-type]

    another = Girl(app, clock).did(40, given(other)).left(90)
    its_own = Girl(app, clock).did(40, given(counts)).left(90)
    assert another.status(element) == "missing"
    assert its_own.status(element) == "evidenced"


def test_15_a_warm_handover_counts_once_aftercare_reached_her(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given two girls handed over warmly on day 100, and a case conference on day 50
    def warm() -> Girl:
        girl = Girl(app, clock).did(50, HoldCaseConference(partners=["politie"]))
        return handed_over(girl, 100)

    unreached = warm().did(
        110, RecordAftercareContact(channel="phone", outcome="not_reached"), actor=AFTERCARE
    )
    reached = warm().did(
        110, RecordAftercareContact(channel="visit", outcome="reached"), actor=AFTERCARE
    )
    # then a case conference in care is not chain cooperation and aftercare yet
    assert reached.status(15, day=60) == "due"
    # after aftercare started, it is due until the first contact interval has passed
    assert unreached.status(15, day=120) == "due"
    assert unreached.element(15, day=120).due_on == unreached.start + timedelta(days=128)
    assert unreached.status(15, day=129) == "missing"
    assert reached.status(15) == "evidenced"
    assert reached.element(15).evidenced_on == reached.start + timedelta(days=110)


def test_15_closed_after_a_warm_handover_to_a_receiver_elsewhere(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl handed over warmly to another organisation's worker, the file closed
    girl = Girl(app, clock).did(
        100,
        DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        PrepareHandover(
            receiving_organisation="org-c",
            receiving_worker=AFTERCARE.user_id,
            package=handover_package(),
        ),
        HoldHandoverMeeting(
            girl_present=True, sending_worker_present=True, receiving_worker_present=True
        ),
    )
    girl.did(104, AcceptHandover(), actor=AFTERCARE)
    in_care = girl.status(15, day=105)
    girl.did(110, CloseTrajectory(reason="transferred", destination="other_youth_care"))
    # then in care the handover alone was not yet element 15; closed after it, it is
    assert in_care == "due"
    assert girl.status(15) == "evidenced"
    assert girl.element(15).evidenced_on == girl.start + timedelta(days=110)


# -- the rules, the page and the read model's shape --------------------------------------------


def test_every_element_has_a_rule_and_the_documentation_is_the_rules() -> None:
    assert sorted(RULES) == sorted(ELEMENTS)
    assert {e for e, rule in RULES.items() if rule.level == "organisation"} == {1, 9}
    assert sorted(KEPT) == [5, 6, 7]
    page = Path(__file__).parents[1] / "docs" / "core-elements.md"
    assert page.read_text() == markdown(), (
        "docs/core-elements.md differs from the rules: python -m trajectory.protocol.evidence"
        " docs/core-elements.md"
    )


def test_organisation_level_elements_stay_not_applicable_per_trajectory(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    girl = Girl(app, clock).left(30)
    assert girl.status(1) == girl.status(9) == "not_applicable"


def test_a_matrix_stored_in_the_old_shape_is_rebuilt_at_start_up(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a store whose matrix was kept by the version before the evidence rules: its
    # tables without the new columns, its position at the head, no version recorded
    girl = Girl(app, clock).did(1, interpreted()).left(30)
    setup_projections(app).catch_up()
    with app.db.transaction() as tx:
        for table in CoreElementsProjection.tables:
            tx.execute(f"DROP TABLE {table}")
        tx.execute(
            "CREATE TABLE core_element_trajectories (trajectory_id TEXT PRIMARY KEY,"
            " organisation TEXT NOT NULL, intake_date TEXT NOT NULL, care_ended_on TEXT,"
            " deadlines TEXT NOT NULL, care_analysis_interval_days INTEGER NOT NULL)"
        )
        tx.execute("DELETE FROM projection_versions WHERE name = 'core_elements'")
    head = app.recorder.max_notification_id()
    assert setup_projections(app, create_tables=False).positions(["core_elements"]) == {
        "core_elements": head
    }
    # when a process starts (and makes its tables) and its runner catches up
    runner = setup_projections(app)
    assert runner.positions(["core_elements"]) == {"core_elements": 0}
    runner.catch_up()
    # then the matrix is whole again, by the rules
    assert girl.status(2) == "evidenced"
    assert girl.status(15) == "waived"
    # and the version is recorded: the next start-up keeps what was built
    setup_projections(app)
    assert setup_projections(app).positions(["core_elements"]) == {"core_elements": head}


# -- the new fact: the signals interpreted at intake ----------------------------------------------


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_the_coordinator_records_how_the_signals_were_interpreted(live: Live) -> None:
    body = {"disciplines": ["behavioural_scientist", "youth_protection"], "together": True,
            "discussed_with_her": True, "discussed_on": "2026-02-20",
            "occurred_on": "2026-02-21"}
    with live.client(live.token("coordinator", "coordinator", "org-a")) as coordinator:
        tid = coordinator.post("/trajectories", json=INTAKE).json()["id"]
        path = f"/trajectories/{tid}/signal-interpretations"
        # when she says they were discussed with her but not when, or on a day to come
        undated = coordinator.post(path, json={**body, "discussed_on": None})
        future = coordinator.post(path, json={**body, "discussed_on": "2099-01-01"})
        stray = coordinator.post(path, json={**body, "discussed_with_her": False})
        unknown = coordinator.post(path, json={**body, "disciplines": ["astrologer"]})
        # then each is refused, naming the rule or the field
        assert assert_problem(undated, 409)["rule"] == "signals-discussed-on-required"
        assert assert_problem(future, 409)["rule"] == "signals-discussed-on-future"
        assert assert_problem(stray, 409)["rule"] == "signals-discussed-on-unexpected"
        assert "disciplines" in str(assert_problem(unknown, 422))
        # and an aftercare worker may not record it
        with live.client(live.token("aftercare", "aftercare", "org-a")) as other:
            assert_problem(other.post(path, json=body), 403)
        # when she records it whole
        done = coordinator.post(path, json=body)
        history = coordinator.get(f"/trajectories/{tid}/events").json()
    assert done.status_code == 201, done.text
    (position,) = done.json()["positions"]
    (entry,) = [e for e in history if e["position"] == position]
    assert entry["type"] == "SignalsInterpreted"
    assert entry["data"]["disciplines"] == body["disciplines"]
    assert (entry["data"]["together"], entry["data"]["discussed_on"]) == (True, "2026-02-20")
    assert [e["type"] for e in history] == ["TrajectoryOpened", "SignalsInterpreted"]


def test_her_page_has_the_form_in_dutch(world: World) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/signal-interpretation"
        form = b.get(path)
        assert form.status_code == 200
        for label in ("Duiding van de signalen vastleggen", "Disciplines die de signalen duidden",
                      "gedragswetenschapper", "jeugdbescherming", "Met haar besproken",
                      "Besproken op"):
            assert label in form.text, label
        done = b.submit(path, {"disciplines": ["physician", "police"], "together": "1",
                               "discussed_with_her": "1", "discussed_on": "2026-02-26",
                               "occurred_on": "2026-02-27"}, follow_redirects=False)
        assert done.status_code == 303, done.text
        page = b.get(f"/app/trajectories/{world.girl}/history")
        history = page.text[page.text.index('id="h-history"'):]
        assert "Signalen geduid" in history
        assert "politie" in history
        refused = b.submit(path, {"disciplines": ["physician"], "discussed_with_her": "1",
                                  "occurred_on": "2026-02-27"})
        assert "op welke dag de signalen met haar zijn besproken" in refused.text


def test_the_quality_page_says_that_one_event_proves_no_element(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/quality")
    assert page.status_code == 200
    assert "één gebeurtenis bewijst het nooit alleen" in page.text
