"""A second protocol, end to end on the real store: nothing of the default is hard-coded.

An organisation installs the four-phase protocol (tests/protocols/four_phases.toml) as its
current one. A girl taken in under it goes through its four phases and into aftercare by
its caps, criteria and numbers; a girl taken in earlier under the default keeps the
default's rules, whatever protocol is current now.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.builders import AFTERCARE, COORDINATOR, handover_package, open_trajectory, record_all
from tests.conftest import PROTOCOLS, FakeClock
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.phasing import PermissionsCapped, PhaseAdvanced
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    ArrangeEducation,
    AssessMedicalCare,
    ChangePermission,
    Command,
    DecideComenshaRegistration,
    DecidePlacement,
    HoldHandoverMeeting,
    PrepareHandover,
    RecordAftercareContact,
    RecordCareAnalysis,
    RecordFamilyInvolvement,
    RecordSafetyAnalysis,
    RegisterNetworkContact,
    RestoreNetworkContact,
    SetTreatmentPlan,
    StartAftercare,
    StartTraumaTherapy,
    TransitionPhase,
)
from trajectory.protocol import (
    ProtocolRegistry,
    ProtocolRegistryError,
    default_protocol,
    load_protocol,
)
from trajectory.protocol.attention import attention_items

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from trajectory.aggregates.vocabulary import Level
    from trajectory.settings import Settings

FOUR_PHASES = PROTOCOLS / "four_phases.toml"


@pytest.fixture
def four_phase_app(
    app: TrajectoryApplication, settings: Settings, clock: FakeClock
) -> Iterator[TrajectoryApplication]:
    """The same store, opened by an organisation whose current protocol is the four-phase
    one; it still knows the default, under which older trajectories were opened."""
    protocols = ProtocolRegistry(load_protocol(FOUR_PHASES), default_protocol())
    application = TrajectoryApplication(settings, clock=clock, protocols=protocols)
    try:
        yield application
    finally:
        application.close()


def today(clock: FakeClock) -> date:
    return amsterdam_date(clock())


def permission(kind: str, level: Level) -> ChangePermission:
    return ChangePermission(kind=kind, level=level, reason="agreed in the team")


def advance(to_phase: int) -> TransitionPhase:
    return TransitionPhase(to_phase=to_phase, reason="criteria met")


def refused(
    app: TrajectoryApplication, trajectory_id: UUID, command: Command, actor: Actor = COORDINATOR
) -> RuleRefused:
    """Execute a command the rules must refuse; check that the store holds nothing new."""
    version = app.current_version(trajectory_id)
    state = app.get(trajectory_id).state
    with pytest.raises(RuleRefused) as info:
        app.execute(trajectory_id, command, actor)
    assert app.current_version(trajectory_id) == version
    assert len(list(app.stream(trajectory_id))) == version
    assert app.get(trajectory_id).state == state
    return info.value


def advanced(app: TrajectoryApplication, trajectory_id: UUID) -> list[PhaseAdvanced]:
    return [e for e in app.stream(trajectory_id) if isinstance(e, PhaseAdvanced)]


def test_a_girl_goes_through_the_four_phases_and_into_aftercare_by_the_file(
    four_phase_app: TrajectoryApplication, clock: FakeClock
) -> None:
    app = four_phase_app
    # given a girl taken in today, under the organisation's current protocol
    girl = open_trajectory(app, intake_date=today(clock))
    assert app.get(girl).state.protocol_name == "four-phase"
    assert app.get(girl).state.protocol_version == "2025.2"

    # then phase 1 (arrival) refuses what the default's phase 1 allows
    assert refused(app, girl, permission("internet", "supervised")).code == (
        "phase-permission-cap"
    )
    mother = app.execute(girl, RegisterNetworkContact(role="mother", risk="safe"), COORDINATOR)
    assert mother.created is not None
    restore_mother = RestoreNetworkContact(
        contact_id=mother.created, level="supervised", reason="visits"
    )
    assert refused(app, girl, restore_mother).code == "network-contact-cap"
    # and phase 2 needs the file's criteria only, after 14 days (not 28)
    assert refused(app, girl, advance(2)).unmet == (
        "safety-analysis",
        "medical-assessment",
        "min-days-in-phase",
    )
    record_all(
        app,
        girl,
        [
            RecordSafetyAnalysis(
                instrument="structured",
                physical_safety="concerns",
                experienced_safety="unsafe",
                runaway_risk="high",
            ),
            AssessMedicalCare(needs=["sti_test"], provider="Centrum Seksueel Geweld"),
        ],
    )
    clock.advance(days=13)
    assert refused(app, girl, advance(2)).unmet == ("min-days-in-phase",)
    clock.advance(days=1)
    app.execute(girl, advance(2), COORDINATOR)

    # when in phase 2 (stabilisation), supervised internet and the mother are allowed
    record_all(app, girl, [permission("internet", "supervised"), restore_mother])
    # but social media stays off, unlike the default's phase 2
    assert refused(app, girl, permission("social_media", "supervised")).code == (
        "phase-permission-cap"
    )
    # and phase 3 asks for the analysis, plan, placement, education, CoMensha and 42 days
    assert refused(app, girl, advance(3)).unmet == (
        "care-analysis",
        "treatment-plan",
        "placement",
        "education",
        "comensha-decision",
        "min-days-in-phase",
    )
    record_all(
        app,
        girl,
        [
            RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
            SetTreatmentPlan(goals=["stabilise"]),
            DecidePlacement(kind="homogeneous_group", region="Utrecht"),
            ArrangeEducation(school="De Brug", level="vmbo"),
            DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        ],
    )
    clock.advance(days=41)
    assert refused(app, girl, advance(3)).unmet == ("min-days-in-phase",)
    clock.advance(days=1)
    app.execute(girl, advance(3), COORDINATOR)

    # when in phase 3 (treatment), supervised contact with boys is allowed
    app.execute(girl, permission("contact_with_boys", "supervised"), COORDINATOR)
    # and phase 4 needs a care analysis of at most 60 days (the default allows 91)
    record_all(
        app,
        girl,
        [
            StartTraumaTherapy(method="emdr", provider="jeugd-ggz"),
            RecordFamilyInvolvement(form="family_meeting", participants=["mother"]),
        ],
    )
    clock.advance(days=19)  # the care analysis is now 61 days old
    assert refused(app, girl, advance(4)).unmet == ("care-analysis-current",)
    app.execute(girl, RecordCareAnalysis(disciplines=["psychologist", "pedagogue"]), COORDINATOR)
    app.execute(girl, advance(4), COORDINATOR)

    # when in phase 4 (independence), contact with boys stops at limited
    assert refused(app, girl, permission("contact_with_boys", "free")).code == (
        "phase-permission-cap"
    )
    app.execute(girl, permission("contact_with_boys", "limited"), COORDINATOR)
    # and there is no phase 5
    assert refused(app, girl, advance(5)).code == "phase-unknown"

    # then aftercare follows the warm handover, accepted by the receiving worker
    assert refused(app, girl, StartAftercare(plan="visits")).code == "entry-criteria-unmet"
    record_all(
        app,
        girl,
        [
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
    assert refused(app, girl, AcceptHandover()).code == "handover-wrong-receiver"
    app.execute(girl, AcceptHandover(), AFTERCARE)
    app.execute(girl, StartAftercare(plan="weekly visits for 6 months",
                                   destination="independent"), AFTERCARE)

    # then the store holds three advances, each under the file's name and version
    t = app.get(girl)
    assert (t.state.status, t.state.phase) == ("aftercare", 4)
    assert [(e.to_phase, e.protocol_name, e.protocol_version) for e in advanced(app, girl)] == [
        (2, "four-phase", "2025.2"),
        (3, "four-phase", "2025.2"),
        (4, "four-phase", "2025.2"),
    ]
    # and the aftercare contact is due by the file's interval: 14 days, not 28; the file
    # has no [follow_up] table, so the measurement at the end of care is due by the
    # defaults, 30 days after she left
    start = today(clock)
    items = attention_items(t.state, app.protocol_of(t), start)
    assert [(i.code, i.due_on) for i in items] == [
        ("aftercare-contact", start + timedelta(days=14)),
        ("follow-up", start + timedelta(days=30)),
    ]
    app.execute(girl, RecordAftercareContact(kind="visit"), AFTERCARE)


def test_a_regression_lowers_to_the_files_phase_1_caps(
    four_phase_app: TrajectoryApplication, clock: FakeClock
) -> None:
    app = four_phase_app
    # given a girl in phase 2 of the four-phase protocol with supervised internet and phone
    girl = open_trajectory(app, intake_date=today(clock) - timedelta(days=14))
    record_all(
        app,
        girl,
        [
            RecordSafetyAnalysis(
                instrument="structured",
                physical_safety="safe",
                experienced_safety="concerns",
                runaway_risk="medium",
            ),
            AssessMedicalCare(needs=["none"], provider="GP"),
            advance(2),
            permission("internet", "supervised"),
            permission("phone", "supervised"),
        ],
    )
    # when she is regressed to arrival
    recorded = app.execute(
        girl, TransitionPhase(to_phase=1, reason="ran off with her phone"), COORDINATOR
    )
    # then internet and phone are capped to none, the file's phase 1 caps
    capped = list(app.stream(girl))[-1]
    assert isinstance(capped, PermissionsCapped)
    assert len(recorded.positions) == 2
    assert {p.kind: p.to_level for p in capped.permissions} == {
        "internet": "none",
        "phone": "none",
    }
    assert set(app.get(girl).state.permissions.values()) == {"none"}


def test_a_trajectory_opened_under_the_default_keeps_the_default(
    app: TrajectoryApplication, four_phase_app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl taken in under the default protocol, before the four-phase one came
    earlier = open_trajectory(app, intake_date=today(clock))
    # and a girl taken in today, under the four-phase protocol now current
    later = open_trajectory(four_phase_app, intake_date=today(clock))
    # then each keeps the protocol she was taken in under
    assert four_phase_app.protocol_of(four_phase_app.get(earlier)).name == "default"
    assert four_phase_app.protocol_of(four_phase_app.get(later)).name == "four-phase"

    # when supervised internet is granted to both in phase 1
    four_phase_app.execute(earlier, permission("internet", "supervised"), COORDINATOR)
    error = refused(four_phase_app, later, permission("internet", "supervised"))
    # then the default's phase 1 allows it and the four-phase phase 1 does not
    assert error.code == "phase-permission-cap"

    # when both have the safety analysis and medical assessment, 14 days later
    facts: list[Command] = [
        RecordSafetyAnalysis(
            instrument="structured",
            physical_safety="concerns",
            experienced_safety="concerns",
            runaway_risk="low",
        ),
        AssessMedicalCare(needs=["none"], provider="GP"),
    ]
    record_all(four_phase_app, earlier, facts)
    record_all(four_phase_app, later, facts)
    clock.advance(days=14)
    # then the four-phase girl advances, and the default's criteria hold the other back
    four_phase_app.execute(later, advance(2), COORDINATOR)
    assert refused(four_phase_app, earlier, advance(2)).unmet == (
        "care-analysis",
        "treatment-plan",
        "placement",
        "education",
        "min-days-in-phase",
    )
    assert [e.protocol_version for e in advanced(four_phase_app, later)] == ["2025.2"]
    assert advanced(four_phase_app, earlier) == []


def test_a_trajectory_whose_protocol_is_not_installed_is_not_run_on_another(
    four_phase_app: TrajectoryApplication, settings: Settings, clock: FakeClock
) -> None:
    # given a girl taken in under the four-phase protocol
    girl = open_trajectory(four_phase_app, intake_date=today(clock))
    version = four_phase_app.current_version(girl)
    # and an installation that knows only the default
    default_only = TrajectoryApplication(
        settings, clock=clock, protocols=ProtocolRegistry(default_protocol())
    )
    try:
        # when a permission is changed there, then it refuses rather than guess the rules
        with pytest.raises(ProtocolRegistryError, match=r"four-phase 2025\.2 is not installed"):
            default_only.execute(girl, permission("internet", "supervised"), COORDINATOR)
        # and nothing is recorded
        assert default_only.current_version(girl) == version
    finally:
        default_only.close()
