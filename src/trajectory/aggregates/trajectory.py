"""The Trajectory aggregate: one per girl, the write side of everything.

Every public method is a command: it checks the rules (pure functions in
`trajectory.protocol.rules`) against the current state, and only then triggers events.
A refused command raises and leaves nothing pending. Events fold themselves into
`self.state`; this class adds the hash chain to each event as it is triggered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from trajectory.aggregates import corrections
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events import (
    analysis,
    chain,
    closure,
    education,
    handover,
    intake,
    network,
    phasing,
    privacy,
    quality,
    runaway,
    safety,
    treatment,
)
from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.hashing import GENESIS, event_hash
from trajectory.aggregates.state import TrajectoryState
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
    PermissionKind,
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
    contact_rank,
)
from trajectory.protocol import rules
from trajectory.protocol.model import Protocol


@dataclass(frozen=True)
class Meta:
    """Who records a fact, when it happened, and what day it is now (Amsterdam)."""

    recorded_by: str
    occurred_on: date
    today: date
    occurred_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "recorded_by": self.recorded_by,
            "occurred_on": self.occurred_on,
            "occurred_at": self.occurred_at,
        }


class Trajectory(Aggregate):
    """One girl's treatment trajectory."""

    if TYPE_CHECKING:  # set by TrajectoryOpened.apply and every event's mutate
        state: TrajectoryState
        head_hash: str

    def __init__(self) -> None:
        """Called once when the opening event is applied; the event sets the state."""

    # -- the hash chain ------------------------------------------------------------
    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        kwargs["timestamp"] = event_class.create_timestamp()
        kwargs["prev_hash"] = self.head_hash
        fields = {**kwargs, "originator_id": self.id, "originator_version": self.version + 1}
        kwargs["hash"] = event_hash(get_topic(event_class), fields)
        super().trigger_event(event_class, **kwargs)

    # -- intake --------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        meta: Meta,
        protocol: Protocol,
        organisation: str,
        coordinator: str,
        referral_source: str,
        legal_framework: str,
        setting: Setting,
        victim_status: VictimStatus,
        risk_profiles: Sequence[RiskProfile],
        risk_assessment_instrument: str,
        risk_assessment_result: str,
        identity: Identity,
        trajectory_id: UUID | None = None,
    ) -> Trajectory:
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        if identity.date_of_birth >= meta.occurred_on:
            raise RuleRefused(
                "the date of birth must lie before the intake date", code="date-of-birth-invalid"
            )
        event_class = intake.TrajectoryOpened
        kwargs: dict[str, Any] = {
            **meta.fields(),
            "organisation": organisation,
            "coordinator": coordinator,
            "referral_source": referral_source,
            "legal_framework": legal_framework,
            "setting": setting,
            "victim_status": victim_status,
            "risk_profiles": tuple(dict.fromkeys(risk_profiles)),
            "risk_assessment_instrument": risk_assessment_instrument,
            "risk_assessment_result": risk_assessment_result,
            "identity": identity,
            "protocol_name": protocol.name,
            "protocol_version": protocol.version,
            "prev_hash": GENESIS,
            "timestamp": event_class.create_timestamp(),
        }
        originator_id = trajectory_id or uuid4()
        fields = {
            **kwargs,
            "originator_id": originator_id,
            "originator_version": cls.INITIAL_VERSION,
            "originator_topic": get_topic(cls),
        }
        kwargs["hash"] = event_hash(get_topic(event_class), fields)
        return cls._create(event_class, id=originator_id, **kwargs)

    def _record(
        self, event_class: type[Any], meta: Meta, *, allow_closed: bool = False, **payload: Any
    ) -> None:
        """Trigger an event after the checks every fact shares."""
        if not allow_closed:
            rules.check_not_closed(self.state)
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        self.trigger_event(event_class, **meta.fields(), **payload)

    def change_victim_status(self, *, meta: Meta, victim_status: VictimStatus, reason: str) -> None:
        rules.check_reason_given(reason, "changing the victim status")
        if victim_status == self.state.victim_status:
            raise RuleRefused(f"the victim status is already {victim_status}", code="no-change")
        self._record(intake.VictimStatusChanged, meta, victim_status=victim_status, reason=reason)

    # -- safety and medical ----------------------------------------------------------
    def record_safety_analysis(
        self,
        *,
        meta: Meta,
        instrument: str,
        physical_safety: SafetyLevel,
        experienced_safety: SafetyLevel,
        risks: Sequence[SafetyRisk],
        runaway_risk: RiskLevel,
        measures: Sequence[SafetyMeasure],
        police_involved: bool,
        notes: str,
    ) -> None:
        self._record(
            safety.SafetyAnalysisRecorded,
            meta,
            instrument=instrument,
            physical_safety=physical_safety,
            experienced_safety=experienced_safety,
            risks=tuple(risks),
            runaway_risk=runaway_risk,
            measures=tuple(measures),
            police_involved=police_involved,
            notes=notes,
        )

    def assess_medical_care(
        self, *, meta: Meta, needs: Sequence[MedicalNeed], provider: str, notes: str
    ) -> None:
        if "none" in needs and len(set(needs)) > 1:
            raise RuleRefused("'none' cannot be combined with other needs", code="needs-invalid")
        self._record(
            safety.MedicalCareAssessed, meta, needs=tuple(needs), provider=provider, notes=notes
        )

    # -- analysis, plan, placement ---------------------------------------------------
    def record_care_analysis(
        self,
        *,
        meta: Meta,
        disciplines: Sequence[str],
        abuse_circumstances: str,
        abuse_nature: str,
        abuse_frequency: str,
        upper_problems: str,
        underlying_problems: str,
        education_history: str,
        risky_contacts_and_places: str,
        strengths: str,
        needs: str,
    ) -> None:
        rules.check_disciplines(disciplines)
        self._record(
            analysis.CareAnalysisRecorded,
            meta,
            disciplines=tuple(disciplines),
            abuse_circumstances=abuse_circumstances,
            abuse_nature=abuse_nature,
            abuse_frequency=abuse_frequency,
            upper_problems=upper_problems,
            underlying_problems=underlying_problems,
            education_history=education_history,
            risky_contacts_and_places=risky_contacts_and_places,
            strengths=strengths,
            needs=needs,
        )

    def set_treatment_plan(self, *, meta: Meta, goals: Sequence[str], summary: str) -> None:
        if not self.state.has("care-analysis"):
            raise RuleRefused(
                "a treatment plan follows from a care analysis; record that first",
                code="care-analysis-missing",
                unmet=["care-analysis"],
            )
        self._record(analysis.TreatmentPlanSet, meta, goals=tuple(goals), summary=summary)

    def decide_placement(
        self, *, meta: Meta, kind: PlacementKind, region: str, argument: str | None
    ) -> None:
        rules.check_placement_argued(kind, argument)
        self._record(analysis.PlacementDecided, meta, kind=kind, region=region, argument=argument)

    # -- network ---------------------------------------------------------------------
    def register_network_contact(
        self, *, meta: Meta, role: str, risk: ContactRisk, note: str, contact_id: str | None = None
    ) -> str:
        new_id = contact_id or uuid4().hex
        if new_id in self.state.contacts:
            raise RuleRefused(f"contact {new_id} already exists", code="contact-exists")
        self._record(
            network.NetworkContactRegistered,
            meta,
            contact_id=new_id,
            role=role,
            risk=risk,
            note=note,
        )
        return new_id

    def assess_network_contact_risk(
        self, *, meta: Meta, protocol: Protocol, contact_id: str, risk: ContactRisk, reason: str
    ) -> None:
        rules.check_contact_known(self.state, contact_id)
        current = self.state.contacts[contact_id]
        if risk == current.risk:
            raise RuleRefused(f"the contact is already assessed as {risk}", code="no-change")
        lowered = (
            rules.contact_level_after_risk(self.state, protocol, contact_id, risk)
            if self.state.status == "in_care" or risk == "prohibited"
            else current.level
        )
        self._record(
            network.NetworkContactRiskAssessed,
            meta,
            contact_id=contact_id,
            risk=risk,
            reason=reason,
        )
        if lowered != current.level:
            self._record(
                network.NetworkContactRestricted,
                meta,
                contact_id=contact_id,
                level=lowered,
                reason=f"risk assessed as {risk}",
            )

    def restore_network_contact(
        self,
        *,
        meta: Meta,
        protocol: Protocol,
        contact_id: str,
        level: ContactLevel,
        reason: str,
    ) -> None:
        rules.check_in_care(self.state)
        rules.check_contact_restorable(self.state, protocol, contact_id, level)
        if contact_rank(level) <= contact_rank(self.state.contacts[contact_id].level):
            raise RuleRefused(
                f"contact is already at {self.state.contacts[contact_id].level!r};"
                " restoring must raise it",
                code="no-change",
            )
        self._record(
            network.NetworkContactRestored, meta, contact_id=contact_id, level=level, reason=reason
        )

    def restrict_network_contact(
        self, *, meta: Meta, contact_id: str, level: ContactLevel, reason: str
    ) -> None:
        rules.check_contact_known(self.state, contact_id)
        rules.check_reason_given(reason, "restricting a contact")
        if contact_rank(level) >= contact_rank(self.state.contacts[contact_id].level):
            raise RuleRefused(
                "restricting must lower the contact's level", code="no-change"
            )
        self._record(
            network.NetworkContactRestricted,
            meta,
            contact_id=contact_id,
            level=level,
            reason=reason,
        )

    def record_family_involvement(
        self,
        *,
        meta: Meta,
        form: FamilyInvolvementForm,
        participants: Sequence[str],
        note: str,
    ) -> None:
        self._record(
            network.FamilyInvolvementRecorded,
            meta,
            form=form,
            participants=tuple(participants),
            note=note,
        )

    # -- phases and permissions --------------------------------------------------------
    def change_permission(
        self, *, meta: Meta, protocol: Protocol, kind: PermissionKind, level: Level, reason: str
    ) -> None:
        rules.check_in_care(self.state)
        rules.check_permission_within_cap(self.state, protocol, kind, level)
        if self.state.permissions.get(kind) == level:
            raise RuleRefused(f"{kind} is already {level!r}", code="no-change")
        self._record(phasing.PermissionChanged, meta, kind=kind, level=level, reason=reason)

    def transition_phase(
        self,
        *,
        meta: Meta,
        protocol: Protocol,
        to_phase: int,
        reason: str,
        waivers: Sequence[Waiver] = (),
    ) -> None:
        """Advance one phase (criteria, waivers) or regress (reason; caps lowered)."""
        rules.check_transition_target(self.state, protocol, to_phase)
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        rules.check_not_before_current_phase(self.state, meta.occurred_on)
        if to_phase > self.state.phase:
            # Criteria are judged on the day the transition happened, not the day it is
            # recorded: a backdated advance must have met them then.
            advance = rules.check_advance(
                self.state, protocol, to_phase, waivers, meta.occurred_on
            )
            self._record(
                phasing.PhaseAdvanced,
                meta,
                from_phase=self.state.phase,
                to_phase=to_phase,
                reason=reason,
                protocol_name=protocol.name,
                protocol_version=protocol.version,
                criteria_met=advance.criteria_met,
                waivers=advance.waivers,
            )
            return
        rules.check_reason_given(reason, "a regression")
        if waivers:
            raise RuleRefused(
                "waivers belong to an advance, not a regression", code="waiver-invalid"
            )
        from_phase = self.state.phase
        self._record(
            phasing.PhaseRegressed, meta, from_phase=from_phase, to_phase=to_phase, reason=reason
        )
        permissions, contacts = rules.caps_for_phase(self.state, protocol, to_phase)
        if permissions or contacts:
            self._record(
                phasing.PermissionsCapped,
                meta,
                cause=f"regression from phase {from_phase} to {to_phase}",
                permissions=permissions,
                contacts=contacts,
            )

    # -- treatment -----------------------------------------------------------------------
    def start_trauma_therapy(
        self, *, meta: Meta, method: TherapyMethod, provider: str, reason: str | None
    ) -> None:
        therapy = self.state.therapy
        if therapy is not None and therapy.completed_on is None:
            raise RuleRefused("a trauma therapy is already running", code="therapy-running")
        if method == "other" and not rules.has_text(reason):
            raise RuleRefused(
                "a method other than EMDR or CBT needs a reason", code="therapy-reason-required"
            )
        self._record(
            treatment.TraumaTherapyStarted, meta, method=method, provider=provider, reason=reason
        )

    def _check_therapy_running(self) -> None:
        therapy = self.state.therapy
        if therapy is None or therapy.completed_on is not None:
            raise RuleRefused("no trauma therapy is running", code="therapy-not-started")

    def hold_trauma_therapy_session(self, *, meta: Meta, note: str) -> None:
        self._check_therapy_running()
        self._record(treatment.TraumaTherapySessionHeld, meta, note=note)

    def complete_trauma_therapy(self, *, meta: Meta, outcome: str) -> None:
        self._check_therapy_running()
        self._record(treatment.TraumaTherapyCompleted, meta, outcome=outcome)

    def deliver_intervention(
        self, *, meta: Meta, kind: InterventionKind, provider: str, note: str
    ) -> None:
        self._record(treatment.InterventionDelivered, meta, kind=kind, provider=provider, note=note)

    # -- education -----------------------------------------------------------------------
    def arrange_education(self, *, meta: Meta, school: str, level: str, note: str) -> None:
        self._record(education.EducationArranged, meta, school=school, level=level, note=note)

    def record_education_progress(self, *, meta: Meta, attending: bool, note: str) -> None:
        self._record(education.EducationProgressRecorded, meta, attending=attending, note=note)

    def obtain_qualification(self, *, meta: Meta, qualification: str) -> None:
        self._record(education.QualificationObtained, meta, qualification=qualification)

    # -- runaways ------------------------------------------------------------------------
    def report_runaway(
        self,
        *,
        meta: Meta,
        from_where: str,
        suspected_destination: str,
        suspected_with: str,
        how: str,
        police_forces_informed: Sequence[str],
        home_region_police_informed: bool,
    ) -> None:
        rules.check_in_care(self.state)
        if self.state.open_runaway is not None:
            raise RuleRefused("a runaway is already open", code="runaway-open")
        self._record(
            runaway.RunawayReported,
            meta,
            from_where=from_where,
            suspected_destination=suspected_destination,
            suspected_with=suspected_with,
            how=how,
            police_forces_informed=tuple(police_forces_informed),
            home_region_police_informed=home_region_police_informed,
        )

    def end_runaway(self, *, meta: Meta, ending: RunawayEnding, note: str) -> None:
        open_runaway = self.state.open_runaway
        if open_runaway is None:
            raise RuleRefused("no runaway is open", code="no-open-runaway")
        if meta.occurred_on < open_runaway.since:
            raise RuleRefused(
                "a runaway cannot end before it began", code="occurred-before-runaway"
            )
        self._record(runaway.RunawayEnded, meta, ending=ending, note=note)

    # -- police, chain, registration, quality ------------------------------------------
    def discuss_police_report(self, *, meta: Meta, outcome: str) -> None:
        self._record(chain.PoliceReportDiscussed, meta, outcome=outcome)

    def file_police_report(self, *, meta: Meta, police_force: str) -> None:
        self._record(chain.PoliceReportFiled, meta, police_force=police_force)

    def hold_case_conference(self, *, meta: Meta, partners: Sequence[str], note: str) -> None:
        if not [p for p in partners if p.strip()]:
            raise RuleRefused("a case conference names its partners", code="partners-required")
        self._record(chain.CaseConferenceHeld, meta, partners=tuple(partners), note=note)

    def decide_comensha_registration(
        self,
        *,
        meta: Meta,
        decision: ComenshaDecision,
        consent_by: ConsentGiver | None,
        argument: str | None,
    ) -> None:
        rules.check_comensha_argued(decision, consent_by, argument)
        rules.check_consent_giver(consent_by, self.state.date_of_birth, meta.occurred_on)
        self._record(
            chain.ComenshaRegistrationDecided,
            meta,
            decision=decision,
            consent_by=consent_by,
            argument=argument,
        )

    def record_signal(self, *, meta: Meta, kind: SignalKind, note: str) -> None:
        self._record(quality.SignalRecorded, meta, kind=kind, note=note)

    # -- handover and aftercare ---------------------------------------------------------
    def prepare_handover(
        self,
        *,
        meta: Meta,
        receiving_organisation: str,
        receiving_worker: str,
        package: HandoverPackage,
    ) -> None:
        rules.check_in_care(self.state)
        missing = [
            name
            for name in ("sexual_development", "loverboy_problem", "safety_plan", "aftercare_plan")
            if not rules.has_text(getattr(package, name))
        ]
        if not self.state.has("comensha-decision"):
            missing.append("comensha-decision")
        if missing:
            raise RuleRefused(
                "the handover package must carry the sexual development, an explicit mention"
                " of the loverboy problem, the safety and aftercare plans and the CoMensha"
                f" decision; missing: {', '.join(missing)}",
                code="handover-package-incomplete",
                unmet=missing,
            )
        self._record(
            handover.HandoverPrepared,
            meta,
            receiving_organisation=receiving_organisation,
            receiving_worker=receiving_worker,
            package=package,
        )

    def hold_handover_meeting(
        self,
        *,
        meta: Meta,
        girl_present: bool,
        sending_worker_present: bool,
        receiving_worker_present: bool,
        note: str,
    ) -> None:
        rules.check_in_care(self.state)
        if not self.state.has("handover-prepared"):
            raise RuleRefused(
                "prepare the handover first", code="handover-not-prepared",
                unmet=["handover-prepared"],
            )
        if not (girl_present and sending_worker_present and receiving_worker_present):
            raise RuleRefused(
                "a warm handover needs the girl, the sending and the receiving worker present",
                code="handover-not-warm",
            )
        self._record(
            handover.HandoverMeetingHeld,
            meta,
            girl_present=girl_present,
            sending_worker_present=sending_worker_present,
            receiving_worker_present=receiving_worker_present,
            note=note,
        )

    def accept_handover(self, *, meta: Meta) -> None:
        rules.check_in_care(self.state)
        if not self.state.has("handover-meeting"):
            raise RuleRefused(
                "the warm handover meeting comes before acceptance",
                code="handover-meeting-missing",
                unmet=["handover-meeting"],
            )
        if self.state.has("handover-accepted"):
            raise RuleRefused("the handover was already accepted", code="no-change")
        if meta.recorded_by != self.state.handover.receiving_worker:
            raise RuleRefused(
                "only the receiving worker accepts the handover", code="handover-wrong-receiver"
            )
        self._record(handover.HandoverAccepted, meta, receiving_worker=meta.recorded_by)

    def start_aftercare(self, *, meta: Meta, protocol: Protocol, plan: str) -> None:
        rules.check_in_care(self.state)
        rules.check_not_before_current_phase(self.state, meta.occurred_on)
        rules.check_advance(self.state, protocol, None, (), meta.occurred_on)
        self._record(handover.AftercareStarted, meta, plan=plan)

    def record_aftercare_contact(
        self, *, meta: Meta, kind: AftercareContactKind, note: str
    ) -> None:
        self._check_in_aftercare()
        self._record(handover.AftercareContactRecorded, meta, kind=kind, note=note)

    def end_aftercare(self, *, meta: Meta, reason: str) -> None:
        self._check_in_aftercare()
        rules.check_reason_given(reason, "ending aftercare")
        self._record(handover.AftercareEnded, meta, reason=reason)

    def _check_in_aftercare(self) -> None:
        if self.state.status != "aftercare" or self.state.aftercare_ended_on is not None:
            raise RuleRefused("she is not in aftercare", code="not-in-aftercare")

    # -- the end, and corrections ------------------------------------------------------------
    def close(self, *, meta: Meta, reason: ClosureReason, note: str) -> None:
        if self.state.open_runaway is not None:
            raise RuleRefused(
                "close only after the runaway has ended: she must not go out of view",
                code="runaway-open",
            )
        if reason == "other" and not rules.has_text(note):
            raise RuleRefused("closing for another reason needs a note", code="reason-required")
        self._record(closure.TrajectoryClosed, meta, reason=reason, note=note)

    def _check_correctable(self, position: int) -> None:
        corrections.check_correctable(self.state, position)

    def correct_entry(
        self, *, meta: Meta, position: int, correction: str, corrected_occurred_on: date | None
    ) -> None:
        self._check_correctable(position)
        rules.check_reason_given(correction, "a correction")
        if corrected_occurred_on is not None:
            rules.check_occurred_not_in_future(corrected_occurred_on, meta.today)
        self._record(
            closure.EntryCorrected,
            meta,
            position=position,
            correction=correction,
            corrected_occurred_on=corrected_occurred_on,
        )

    def mark_entry_in_error(self, *, meta: Meta, position: int, reason: str) -> None:
        self._check_correctable(position)
        rules.check_reason_given(reason, "marking an entry in error")
        self._record(closure.EntryMarkedInError, meta, position=position, reason=reason)

    # -- privacy: research consent and early destruction ---------------------------------
    def give_research_consent(self, *, meta: Meta, given_by: ConsentGiver, note: str) -> None:
        rules.check_research_consent_giver(given_by, self.state.date_of_birth, meta.occurred_on)
        if self.state.research_consent:
            raise RuleRefused("consent for research is already given", code="no-change")
        self._record(
            privacy.ResearchConsentGiven, meta, allow_closed=True, given_by=given_by, note=note
        )

    def withdraw_research_consent(
        self, *, meta: Meta, withdrawn_by: ConsentGiver, reason: str
    ) -> None:
        if not self.state.research_consent:
            raise RuleRefused("no consent for research is in force", code="no-consent")
        self._record(
            privacy.ResearchConsentWithdrawn,
            meta,
            allow_closed=True,
            withdrawn_by=withdrawn_by,
            reason=reason,
        )

    def request_destruction(self, *, meta: Meta, requested_by: ConsentGiver) -> None:
        rules.check_destruction_requester(requested_by, self.state.date_of_birth, meta.occurred_on)
        pending = self.state.destruction
        if pending is not None and pending.status == "pending":
            raise RuleRefused(
                f"a request of {pending.requested_on.isoformat()} is still pending",
                code="destruction-request-pending",
            )
        self._record(
            privacy.DestructionRequested,
            meta,
            allow_closed=True,
            requested_by=requested_by,
            deadline=rules.destruction_deadline(meta.occurred_on),
        )

    def decide_destruction_request(self, *, meta: Meta, granted: bool, argument: str) -> None:
        pending = self.state.destruction
        if pending is None or pending.status != "pending":
            raise RuleRefused("no destruction request is pending", code="no-destruction-request")
        if not granted:
            rules.check_reason_given(argument, "refusing a destruction request")
        self._record(
            privacy.DestructionRequestDecided,
            meta,
            allow_closed=True,
            granted=granted,
            argument=argument,
        )
