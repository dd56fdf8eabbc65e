"""Commands: one Struct per fact that can be recorded, shared by the API, CLI and tests.

A command is the caller's request, decoded and checked for shape by msgspec (unknown
fields refused, constraints in the types). `execute` hands it to the aggregate, which
checks the rules. Commands are not events: they may change; stored events may not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

import msgspec

from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.aggregates.vocabulary import (
    AftercareContactKind,
    ClosureReason,
    ComenshaDecision,
    ConsentGiver,
    ContactLevel,
    ContactRisk,
    FamilyInvolvementForm,
    InterventionKind,
    Level,
    MedicalNeed,
    PlacementKind,
    RiskLevel,
    RiskProfile,
    RunawayEnding,
    SafetyLevel,
    SafetyMeasure,
    SafetyRisk,
    Setting,
    SignalKind,
    TherapyMethod,
    VictimStatus,
)
from trajectory.protocol.model import Protocol

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=4_000)]
OccurredOn = Annotated[
    str,
    msgspec.Meta(
        description="When it happened: a date (YYYY-MM-DD) or an RFC 3339 time; not in the"
        " future. Absent: now.",
        examples=["2026-03-14"],
        max_length=40,
    ),
]
Names = Annotated[list[Short], msgspec.Meta(max_length=50)]


class Command(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every command: when the fact happened (optional, defaults to now)."""

    occurred_on: OccurredOn | None = None
    needs_protocol: ClassVar[bool] = False

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> str | None:
        """Run on the aggregate; returns the id of what it created, if anything."""
        raise NotImplementedError


class OpenTrajectory(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Intake: open a trajectory. Organisation and coordinator come from the caller."""

    intake_date: date
    victim_status: VictimStatus
    risk_profiles: Annotated[list[RiskProfile], msgspec.Meta(max_length=5)]
    setting: Setting
    referral_source: Short
    legal_framework: Short
    identity: Identity
    risk_assessment_instrument: Short = "not recorded"
    risk_assessment_result: Text = ""


class ChangeVictimStatus(Command, kw_only=True, forbid_unknown_fields=True):
    victim_status: VictimStatus
    reason: Reason

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.change_victim_status(meta=meta, victim_status=self.victim_status, reason=self.reason)


class RecordSafetyAnalysis(Command, kw_only=True, forbid_unknown_fields=True):
    instrument: Short
    physical_safety: SafetyLevel
    experienced_safety: SafetyLevel
    risks: Annotated[list[SafetyRisk], msgspec.Meta(max_length=20)] = []
    runaway_risk: RiskLevel
    measures: Annotated[list[SafetyMeasure], msgspec.Meta(max_length=20)] = []
    police_involved: bool = False
    notes: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_safety_analysis(
            meta=meta,
            instrument=self.instrument,
            physical_safety=self.physical_safety,
            experienced_safety=self.experienced_safety,
            risks=self.risks,
            runaway_risk=self.runaway_risk,
            measures=self.measures,
            police_involved=self.police_involved,
            notes=self.notes,
        )


class AssessMedicalCare(Command, kw_only=True, forbid_unknown_fields=True):
    needs: Annotated[list[MedicalNeed], msgspec.Meta(min_length=1, max_length=10)]
    provider: Short
    notes: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.assess_medical_care(meta=meta, needs=self.needs, provider=self.provider, notes=self.notes)


class RecordCareAnalysis(Command, kw_only=True, forbid_unknown_fields=True):
    disciplines: Names
    abuse_circumstances: Text = ""
    abuse_nature: Text = ""
    abuse_frequency: Text = ""
    upper_problems: Text = ""
    underlying_problems: Text = ""
    education_history: Text = ""
    risky_contacts_and_places: Text = ""
    strengths: Text = ""
    needs: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_care_analysis(
            meta=meta,
            disciplines=self.disciplines,
            abuse_circumstances=self.abuse_circumstances,
            abuse_nature=self.abuse_nature,
            abuse_frequency=self.abuse_frequency,
            upper_problems=self.upper_problems,
            underlying_problems=self.underlying_problems,
            education_history=self.education_history,
            risky_contacts_and_places=self.risky_contacts_and_places,
            strengths=self.strengths,
            needs=self.needs,
        )


class SetTreatmentPlan(Command, kw_only=True, forbid_unknown_fields=True):
    goals: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]],
        msgspec.Meta(min_length=1, max_length=30),
    ]
    summary: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.set_treatment_plan(meta=meta, goals=self.goals, summary=self.summary)


class DecidePlacement(Command, kw_only=True, forbid_unknown_fields=True):
    kind: PlacementKind
    region: Short
    argument: Text | None = None

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.decide_placement(meta=meta, kind=self.kind, region=self.region, argument=self.argument)


class RegisterNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    role: Short
    risk: ContactRisk
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> str:
        return t.register_network_contact(meta=meta, role=self.role, risk=self.risk, note=self.note)


class AssessNetworkContactRisk(Command, kw_only=True, forbid_unknown_fields=True):
    risk: ContactRisk
    reason: Reason
    contact_id: str = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.assess_network_contact_risk(
            meta=meta,
            protocol=protocol,
            contact_id=self.contact_id,
            risk=self.risk,
            reason=self.reason,
        )


class RestoreNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    level: ContactLevel
    reason: Reason
    contact_id: str = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.restore_network_contact(
            meta=meta,
            protocol=protocol,
            contact_id=self.contact_id,
            level=self.level,
            reason=self.reason,
        )


class RestrictNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    level: ContactLevel
    reason: Reason
    contact_id: str = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.restrict_network_contact(
            meta=meta, contact_id=self.contact_id, level=self.level, reason=self.reason
        )


class RecordFamilyInvolvement(Command, kw_only=True, forbid_unknown_fields=True):
    form: FamilyInvolvementForm
    participants: Names = []
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_family_involvement(
            meta=meta, form=self.form, participants=self.participants, note=self.note
        )


class ChangePermission(Command, kw_only=True, forbid_unknown_fields=True):
    level: Level
    reason: Text = ""
    kind: str = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.change_permission(
            meta=meta,
            protocol=protocol,
            kind=self.kind,  # type: ignore[arg-type]
            level=self.level,
            reason=self.reason,
        )


class TransitionPhase(Command, kw_only=True, forbid_unknown_fields=True):
    """Advance one phase (entry criteria, or waivers with a justification) or regress."""

    to_phase: Annotated[int, msgspec.Meta(ge=1, le=20)]
    reason: Text = ""
    waivers: Annotated[list[Waiver], msgspec.Meta(max_length=20)] = []

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.transition_phase(
            meta=meta,
            protocol=protocol,
            to_phase=self.to_phase,
            reason=self.reason,
            waivers=self.waivers,
        )


class StartTraumaTherapy(Command, kw_only=True, forbid_unknown_fields=True):
    method: TherapyMethod
    provider: Short
    reason: Text | None = None

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.start_trauma_therapy(
            meta=meta, method=self.method, provider=self.provider, reason=self.reason
        )


class HoldTraumaTherapySession(Command, kw_only=True, forbid_unknown_fields=True):
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.hold_trauma_therapy_session(meta=meta, note=self.note)


class CompleteTraumaTherapy(Command, kw_only=True, forbid_unknown_fields=True):
    outcome: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.complete_trauma_therapy(meta=meta, outcome=self.outcome)


class DeliverIntervention(Command, kw_only=True, forbid_unknown_fields=True):
    kind: InterventionKind
    provider: Short
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.deliver_intervention(meta=meta, kind=self.kind, provider=self.provider, note=self.note)


class ArrangeEducation(Command, kw_only=True, forbid_unknown_fields=True):
    school: Short
    level: Short
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.arrange_education(meta=meta, school=self.school, level=self.level, note=self.note)


class RecordEducationProgress(Command, kw_only=True, forbid_unknown_fields=True):
    attending: bool
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_education_progress(meta=meta, attending=self.attending, note=self.note)


class ObtainQualification(Command, kw_only=True, forbid_unknown_fields=True):
    qualification: Short

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.obtain_qualification(meta=meta, qualification=self.qualification)


class ReportRunaway(Command, kw_only=True, forbid_unknown_fields=True):
    from_where: Short
    suspected_destination: Text = ""
    suspected_with: Text = ""
    how: Text = ""
    police_forces_informed: Names = []
    home_region_police_informed: bool = False

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.report_runaway(
            meta=meta,
            from_where=self.from_where,
            suspected_destination=self.suspected_destination,
            suspected_with=self.suspected_with,
            how=self.how,
            police_forces_informed=self.police_forces_informed,
            home_region_police_informed=self.home_region_police_informed,
        )


class EndRunaway(Command, kw_only=True, forbid_unknown_fields=True):
    ending: RunawayEnding
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.end_runaway(meta=meta, ending=self.ending, note=self.note)


class DiscussPoliceReport(Command, kw_only=True, forbid_unknown_fields=True):
    outcome: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.discuss_police_report(meta=meta, outcome=self.outcome)


class FilePoliceReport(Command, kw_only=True, forbid_unknown_fields=True):
    police_force: Short

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.file_police_report(meta=meta, police_force=self.police_force)


class HoldCaseConference(Command, kw_only=True, forbid_unknown_fields=True):
    partners: Annotated[list[Short], msgspec.Meta(min_length=1, max_length=50)]
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.hold_case_conference(meta=meta, partners=self.partners, note=self.note)


class DecideComenshaRegistration(Command, kw_only=True, forbid_unknown_fields=True):
    decision: ComenshaDecision
    consent_by: ConsentGiver | None = None
    argument: Text | None = None

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.decide_comensha_registration(
            meta=meta, decision=self.decision, consent_by=self.consent_by, argument=self.argument
        )


class RecordSignal(Command, kw_only=True, forbid_unknown_fields=True):
    kind: SignalKind
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_signal(meta=meta, kind=self.kind, note=self.note)


class PrepareHandover(Command, kw_only=True, forbid_unknown_fields=True):
    receiving_organisation: Short
    receiving_worker: Short
    package: HandoverPackage

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.prepare_handover(
            meta=meta,
            receiving_organisation=self.receiving_organisation,
            receiving_worker=self.receiving_worker,
            package=self.package,
        )


class HoldHandoverMeeting(Command, kw_only=True, forbid_unknown_fields=True):
    girl_present: bool
    sending_worker_present: bool
    receiving_worker_present: bool
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.hold_handover_meeting(
            meta=meta,
            girl_present=self.girl_present,
            sending_worker_present=self.sending_worker_present,
            receiving_worker_present=self.receiving_worker_present,
            note=self.note,
        )


class AcceptHandover(Command, kw_only=True, forbid_unknown_fields=True):
    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.accept_handover(meta=meta)


class StartAftercare(Command, kw_only=True, forbid_unknown_fields=True):
    plan: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.start_aftercare(meta=meta, protocol=protocol, plan=self.plan)


class RecordAftercareContact(Command, kw_only=True, forbid_unknown_fields=True):
    kind: AftercareContactKind
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.record_aftercare_contact(meta=meta, kind=self.kind, note=self.note)


class EndAftercare(Command, kw_only=True, forbid_unknown_fields=True):
    reason: Reason

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.end_aftercare(meta=meta, reason=self.reason)


class CloseTrajectory(Command, kw_only=True, forbid_unknown_fields=True):
    reason: ClosureReason
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.close(meta=meta, reason=self.reason, note=self.note)


class CorrectEntry(Command, kw_only=True, forbid_unknown_fields=True):
    """Correct an earlier entry, or mark it as recorded in error."""

    position: Annotated[int, msgspec.Meta(ge=1)]
    action: Literal["correct", "mark_in_error"] = "correct"
    reason: Reason
    corrected_occurred_on: date | None = None

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        if self.action == "mark_in_error":
            t.mark_entry_in_error(meta=meta, position=self.position, reason=self.reason)
        else:
            t.correct_entry(
                meta=meta,
                position=self.position,
                correction=self.reason,
                corrected_occurred_on=self.corrected_occurred_on,
            )


class GiveResearchConsent(Command, kw_only=True, forbid_unknown_fields=True):
    """Consent for pseudonymised research use (a parent or guardian, or the girl from 16)."""

    given_by: ConsentGiver
    note: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.give_research_consent(meta=meta, given_by=self.given_by, note=self.note)


class WithdrawResearchConsent(Command, kw_only=True, forbid_unknown_fields=True):
    withdrawn_by: ConsentGiver
    reason: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.withdraw_research_consent(meta=meta, withdrawn_by=self.withdrawn_by, reason=self.reason)


class RequestDestruction(Command, kw_only=True, forbid_unknown_fields=True):
    """A request to destroy the file early; honoured within three months unless the law
    or a substantial interest of another forbids it."""

    requested_by: ConsentGiver

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.request_destruction(meta=meta, requested_by=self.requested_by)


class DecideDestructionRequest(Command, kw_only=True, forbid_unknown_fields=True):
    granted: bool
    argument: Text = ""

    def execute(self, t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.decide_destruction_request(meta=meta, granted=self.granted, argument=self.argument)
