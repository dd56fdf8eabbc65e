"""Builders for test data: realistic commands with defaults, overridable per test."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from trajectory.aggregates.events.handover import HandoverPackage, WithoutHandover
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.vocabulary import ClosureReason
from trajectory.application import Actor, Recorded, TrajectoryApplication
from trajectory.commands import (
    ArrangeEducation,
    AssessMedicalCare,
    CloseTrajectory,
    DecideComenshaRegistration,
    DecidePlacement,
    OpenTrajectory,
    RecordCareAnalysis,
    RecordFamilyInvolvement,
    RecordSafetyAnalysis,
    SetTreatmentPlan,
    StartTraumaTherapy,
)

COORDINATOR = Actor(user_id="coord-1", role="coordinator", organisation="org-a")
OTHER_COORDINATOR = Actor(user_id="coord-2", role="coordinator", organisation="org-b")
AFTERCARE = Actor(user_id="after-1", role="aftercare", organisation="org-c")


def intake(**overrides: Any) -> OpenTrajectory:
    fields: dict[str, Any] = {
        "intake_date": date(2026, 1, 5),
        "victim_status": "suspected",
        "risk_profiles": ["traumatised", "influenceable"],
        "setting": "residential",
        "referral_source": "police",
        "legal_framework": "ots",
        "identity": Identity(
            name="Test Meisje", date_of_birth=date(2010, 4, 1), home_region="Utrecht"
        ),
        "risk_assessment_instrument": "risicotaxatie",
        "risk_assessment_result": "high",
    }
    fields.update(overrides)
    return OpenTrajectory(**fields)


def open_trajectory(
    app: TrajectoryApplication, actor: Actor = COORDINATOR, **overrides: Any
) -> UUID:
    return app.open_trajectory(intake(**overrides), actor).trajectory_id


def phase_2_facts() -> list[Any]:
    """Commands that satisfy every default phase-2 criterion except days in phase."""
    return [
        RecordSafetyAnalysis(
            instrument="structured",
            physical_safety="concerns",
            experienced_safety="unsafe",
            risks=["internet_social_media"],
            runaway_risk="high",
            measures=["police_involved"],
            police_involved=True,
        ),
        AssessMedicalCare(needs=["sti_test"], provider="Centrum Seksueel Geweld"),
        RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
        SetTreatmentPlan(goals=["stabilise"]),
        DecidePlacement(kind="homogeneous_group", region="Utrecht"),
        ArrangeEducation(school="De Brug", level="vmbo"),
    ]


def phase_3_facts() -> list[Any]:
    return [
        StartTraumaTherapy(method="emdr", provider="jeugd-ggz"),
        RecordFamilyInvolvement(form="family_meeting", participants=["mother"]),
        DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
        RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
    ]


def handover_package() -> HandoverPackage:
    return HandoverPackage(
        sexual_development="age-appropriate, history of abuse",
        loverboy_problem="confirmed loverboy victim",
        safety_plan="no contact with prohibited contacts",
        agreements="weekly contact",
        aftercare_plan="weekly visits for 6 months",
    )


def record_all(
    app: TrajectoryApplication, trajectory_id: UUID, commands: list[Any], actor: Actor = COORDINATOR
) -> Recorded | None:
    result = None
    for command in commands:
        result = app.execute(trajectory_id, command, actor)
    return result


ARGUED = WithoutHandover(
    reason="left_suddenly",
    argument="She moved to another region overnight and refuses contact with us.",
)


def left_care(reason: ClosureReason = "moved_away", **overrides: Any) -> CloseTrajectory:
    """A closure from care with nothing arranged: no handover (argued), destination unknown,
    as the rules of leaving care allow."""
    fields: dict[str, Any] = {
        "reason": reason, "destination": "unknown", "without_handover": ARGUED
    }
    fields.update(overrides)
    return CloseTrajectory(**fields)
