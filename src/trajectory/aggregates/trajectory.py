"""The Trajectory aggregate: one per girl, the write side of everything.

Every public method is a command: it checks the rules (pure functions in
`trajectory.protocol.rules`) against the current state, and only then triggers events.
A refused command raises and leaves nothing pending. Events fold themselves into
`self.state`; this class adds the hash chain to each event as it is triggered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4

import msgspec

from trajectory import commands as c
from trajectory.aggregates import corrections, reasons
from trajectory.aggregates.chained import HashChained
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events import (
    analysis,
    chain,
    closure,
    handover,
    intake,
    network,
    outcomes,
    phasing,
    privacy,
    runaway,
    safety,
    teams,
    treatment,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    CareForm,
    ContactRisk,
    Nationality,
    PermissionKind,
    Referrer,
    RiskProfile,
    Setting,
    Sex,
    VictimStatus,
    contact_rank,
)
from trajectory.bij import rules as bij_rules
from trajectory.bij.codes import end_reason_of
from trajectory.facts import FACTS
from trajectory.protocol import comensha, follow_up, rules
from trajectory.protocol.model import Protocol


@dataclass(frozen=True)
class Meta:
    """Who records a fact, when it happened, and what day it is now (Amsterdam)."""

    recorded_by: str
    occurred_on: date
    today: date
    occurred_at: datetime | None = None
    # When it is recorded, by the application's clock (None: the library's wall clock).
    recorded_at: datetime | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "recorded_by": self.recorded_by,
            "occurred_on": self.occurred_on,
            "occurred_at": self.occurred_at,
        }


@dataclass(frozen=True)
class Received:
    """Where a girl taken in from another installation came from (`exchange.handover`)."""

    sender: str
    bundle_hash: str
    care: intake.EarlierCare


@dataclass(frozen=True)
class YouthCareAtIntake:
    """What Beleidsinformatie Jeugd asks at the start of care, besides her identity."""

    sex: Sex = "unknown"
    municipality: str = ""
    referrer: Referrer | None = None
    care_form: CareForm | None = None
    started_in_crisis: bool = False


class Trajectory(HashChained):
    """One girl's treatment trajectory."""

    if TYPE_CHECKING:  # set by TrajectoryOpened.apply and every event's mutate
        state: TrajectoryState
        head_hash: str

    def __init__(self) -> None:
        """Called once when the opening event is applied; the event sets the state."""

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
        nationality: Nationality = "unknown",
        duplicate_reason: str = "",
        received: Received | None = None,
        youth_care: YouthCareAtIntake | None = None,
    ) -> Trajectory:
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        bij_rules.check_bsn(identity.bsn)
        if identity.date_of_birth >= meta.occurred_on:
            raise RuleRefused(
                "the date of birth must lie before the intake date", code="date-of-birth-invalid",
                fields=["identity.date_of_birth"],
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
            "nationality": nationality,
            "duplicate_reason": duplicate_reason,
        }
        if youth_care is not None:
            kwargs.update(sex=youth_care.sex, municipality=youth_care.municipality,
                          referrer=youth_care.referrer, care_form=youth_care.care_form,
                          started_in_crisis=youth_care.started_in_crisis)
        if received is not None:
            kwargs.update(received_from=received.sender, received_bundle=received.bundle_hash,
                          received_care=received.care)
        return cls._opened(event_class, trajectory_id or uuid4(), kwargs, meta.recorded_at)

    def _record(
        self, event_class: type[Any], meta: Meta, *, allow_closed: bool = False, **fields: Any
    ) -> None:
        """Trigger an event after the checks every fact shares."""
        if not allow_closed:
            rules.check_not_closed(self.state)
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        self.trigger_event(
            event_class, **meta.fields(), recorded_at=meta.recorded_at, **fields
        )

    def handle(self, command: c.Command, meta: Meta, protocol: Protocol) -> str | None:
        """Run one command: a fact with rules of its own goes to its method (`HANDLERS`);
        any other records the event its entry in `trajectory.facts` names. Returns the id
        of what it created (a network contact), if anything."""
        for cls in type(command).__mro__:
            if cls in HANDLERS:
                return HANDLERS[cls](self, command, meta, protocol)
        self.record_fact(FACTS.of(type(command)).event, command, meta)
        return None

    def record_fact(self, event_class: type[Any], command: msgspec.Struct, meta: Meta) -> None:
        """A fact with no rules of its own: the command's fields become the event's.

        Which event a command records is declared once, in `trajectory.facts`."""
        self._record(event_class, meta, **payload(command))

    # -- who is responsible ------------------------------------------------------------
    def assign_team(self, command: c.AssignTeam, meta: Meta) -> None:
        """That the team exists in her organisation is the write path's to check (it is
        not in her stream); here only that it is a change."""
        if command.team == self.state.team:
            raise RuleRefused("she is in this team already", code="no-change",
                              fields=["team"])
        self.record_fact(teams.TeamAssigned, command, meta)

    def assign_coordinator(self, command: c.AssignCoordinator, meta: Meta) -> None:
        if command.coordinator == self.state.coordinator:
            raise RuleRefused("this coordinator is responsible for her already",
                              code="no-change", fields=["coordinator"])
        self.record_fact(teams.CoordinatorAssigned, command, meta)

    def change_victim_status(self, command: c.ChangeVictimStatus, meta: Meta) -> None:
        rules.check_reason_given(command.reason, "changing the victim status")
        if command.victim_status == self.state.victim_status:
            raise RuleRefused(
                f"the victim status is already {command.victim_status}", code="no-change"
            )
        self._record(intake.VictimStatusChanged, meta, **payload(command))

    # -- signals at intake ------------------------------------------------------------
    def interpret_signals(self, command: c.InterpretSignals, meta: Meta) -> None:
        rules.check_signals_discussed(
            command.discussed_with_her, command.discussed_on, meta.today
        )
        fields = payload(command)
        fields["disciplines"] = tuple(dict.fromkeys(command.disciplines))
        self._record(intake.SignalsInterpreted, meta, **fields)

    # -- safety and medical ----------------------------------------------------------
    def record_safety_analysis(self, command: c.RecordSafetyAnalysis, meta: Meta) -> None:
        rules.check_police_involvement(command.measures, command.police_involved)
        self.record_fact(safety.SafetyAnalysisRecorded, command, meta)

    def assess_medical_care(self, command: c.AssessMedicalCare, meta: Meta) -> None:
        if "none" in command.needs and len(set(command.needs)) > 1:
            raise RuleRefused("'none' cannot be combined with other needs", code="needs-invalid",
                              fields=["needs"])
        self._record(safety.MedicalCareAssessed, meta, **payload(command))

    # -- analysis, plan, placement ---------------------------------------------------
    def record_care_analysis(self, command: c.RecordCareAnalysis, meta: Meta) -> None:
        rules.check_disciplines(command.disciplines)
        self._record(analysis.CareAnalysisRecorded, meta, **payload(command))

    def set_treatment_plan(self, command: c.SetTreatmentPlan, meta: Meta) -> None:
        if not self.state.has("care-analysis"):
            raise RuleRefused(
                "a treatment plan follows from a care analysis; record that first",
                code="care-analysis-missing",
                unmet=["care-analysis"],
            )
        self._record(analysis.TreatmentPlanSet, meta, **payload(command))

    def decide_placement(self, command: c.DecidePlacement, meta: Meta) -> None:
        rules.check_placement_argued(command.kind, command.argument)
        rules.check_ambulatory_placement_safe(self.state, command.kind, meta.occurred_on)
        self._record(analysis.PlacementDecided, meta, **payload(command))

    # -- network ---------------------------------------------------------------------
    def register_network_contact(
        self, *, meta: Meta, role: str, risk: ContactRisk, note: str, contact_id: str | None = None
    ) -> str:
        # Keywords, not the command: the id is made here (or given by a test's story).
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
        self, command: c.AssessNetworkContactRisk, meta: Meta, protocol: Protocol
    ) -> None:
        contact_id, risk = command.contact_id, command.risk
        rules.check_contact_known(self.state, contact_id)
        current = self.state.contacts[contact_id]
        if risk == current.risk:
            raise RuleRefused(f"the contact is already assessed as {risk}", code="no-change")
        lowered = (
            rules.contact_level_after_risk(self.state, protocol, contact_id, risk)
            if self.state.status == "in_care" or risk == "prohibited"
            else current.level
        )
        self._record(network.NetworkContactRiskAssessed, meta, **payload(command))
        if lowered != current.level:
            self._record(
                network.NetworkContactRestricted,
                meta,
                contact_id=contact_id,
                level=lowered,
                reason=reasons.risk_assessed(risk),
            )

    def restore_network_contact(
        self, command: c.RestoreNetworkContact, meta: Meta, protocol: Protocol
    ) -> None:
        contact_id, level = command.contact_id, command.level
        rules.check_in_care(self.state)
        rules.check_contact_restorable(self.state, protocol, contact_id, level)
        if contact_rank(level) <= contact_rank(self.state.contacts[contact_id].level):
            raise RuleRefused(
                f"contact is already at {self.state.contacts[contact_id].level!r};"
                " restoring must raise it",
                code="no-change",
            )
        self._record(network.NetworkContactRestored, meta, **payload(command))

    def restrict_network_contact(self, command: c.RestrictNetworkContact, meta: Meta) -> None:
        contact_id, level = command.contact_id, command.level
        rules.check_contact_known(self.state, contact_id)
        rules.check_reason_given(command.reason, "restricting a contact")
        if contact_rank(level) >= contact_rank(self.state.contacts[contact_id].level):
            raise RuleRefused(
                "restricting must lower the contact's level", code="no-change"
            )
        self._record(network.NetworkContactRestricted, meta, **payload(command))

    # -- phases and permissions --------------------------------------------------------
    def change_permission(
        self, command: c.ChangePermission, meta: Meta, protocol: Protocol
    ) -> None:
        kind = cast(PermissionKind, command.kind)  # the route checked it against the list
        rules.check_in_care(self.state)
        rules.check_permission_within_cap(self.state, protocol, kind, command.level)
        if self.state.permissions.get(kind) == command.level:
            raise RuleRefused(f"{kind} is already {command.level!r}", code="no-change")
        self._record(phasing.PermissionChanged, meta, **payload(command))

    def transition_phase(
        self, command: c.TransitionPhase, meta: Meta, protocol: Protocol
    ) -> None:
        """Advance one phase (criteria, waivers) or regress (reason; caps lowered)."""
        to_phase, reason, waivers = command.to_phase, command.reason, command.waivers
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
                cause=reasons.regression(from_phase, to_phase),
                permissions=permissions,
                contacts=contacts,
            )

    # -- treatment -----------------------------------------------------------------------
    def start_trauma_therapy(self, command: c.StartTraumaTherapy, meta: Meta) -> None:
        therapy = self.state.therapy
        if therapy is not None and therapy.completed_on is None:
            raise RuleRefused("a trauma therapy is already running", code="therapy-running")
        if command.method == "other" and not rules.has_text(command.reason):
            raise RuleRefused(
                "a method other than EMDR or CBT needs a reason", code="therapy-reason-required",
                fields=["reason"],
            )
        self._record(treatment.TraumaTherapyStarted, meta, **payload(command))

    def _check_therapy_running(self) -> None:
        therapy = self.state.therapy
        if therapy is None or therapy.completed_on is not None:
            raise RuleRefused("no trauma therapy is running", code="therapy-not-started")

    def hold_trauma_therapy_session(
        self, command: c.HoldTraumaTherapySession, meta: Meta
    ) -> None:
        self._check_therapy_running()
        self._record(treatment.TraumaTherapySessionHeld, meta, **payload(command))

    def complete_trauma_therapy(self, command: c.CompleteTraumaTherapy, meta: Meta) -> None:
        self._check_therapy_running()
        self._record(treatment.TraumaTherapyCompleted, meta, **payload(command))

    # -- runaways ------------------------------------------------------------------------
    def report_runaway(self, command: c.ReportRunaway, meta: Meta) -> None:
        """In care, or in aftercare: she must not go out of view after care either."""
        if self.state.status != "aftercare" or self.state.aftercare_ended_on is not None:
            rules.check_in_care(self.state)
        if self.state.open_runaway is not None:
            raise RuleRefused("a runaway is already open", code="runaway-open")
        self._record(runaway.RunawayReported, meta, **payload(command))

    def end_runaway(self, command: c.EndRunaway, meta: Meta) -> None:
        open_runaway = self.state.open_runaway
        if open_runaway is None:
            raise RuleRefused("no runaway is open", code="no-open-runaway")
        if meta.occurred_on < open_runaway.since:
            raise RuleRefused(
                "a runaway cannot end before it began", code="occurred-before-runaway"
            )
        self._record(runaway.RunawayEnded, meta, **payload(command))

    # -- police, chain, registration ---------------------------------------------------
    def hold_case_conference(self, command: c.HoldCaseConference, meta: Meta) -> None:
        if not [p for p in command.partners if p.strip()]:
            raise RuleRefused("a case conference names its partners", code="partners-required",
                              fields=["partners"])
        self._record(chain.CaseConferenceHeld, meta, **payload(command))

    def decide_comensha_registration(
        self, command: c.DecideComenshaRegistration, meta: Meta
    ) -> None:
        rules.check_comensha_argued(command.decision, command.consent_by, command.argument)
        rules.check_consent_giver(command.consent_by, self.state.date_of_birth, meta.occurred_on)
        self._record(chain.ComenshaRegistrationDecided, meta, **payload(command))

    def report_to_comensha(self, command: c.ReportToComensha, meta: Meta) -> None:
        comensha.check_report_follows_decision(self.state)
        self._record(chain.ComenshaReportSent, meta, **payload(command))

    def record_comensha_acknowledgement(
        self, command: c.RecordComenshaAcknowledgement, meta: Meta
    ) -> None:
        comensha.check_acknowledgement_follows_report(self.state)
        comensha.check_acknowledged_after_sent(self.state, meta.occurred_on)
        self._record(chain.ComenshaReportAcknowledged, meta, **payload(command))

    # -- handover and aftercare ---------------------------------------------------------
    def prepare_handover(self, command: c.PrepareHandover, meta: Meta) -> None:
        """To one receiver: a worker of this installation (`receiving_worker`; that she is
        an active aftercare worker is the write path's check, against the user directory)
        or one outside it (`external_receiver`, named, with a route to reach her)."""
        rules.check_in_care(self.state)
        internal = rules.has_text(command.receiving_worker)
        external = command.external_receiver
        if internal and external is not None:
            raise RuleRefused(
                "hand over to one receiver: a worker of this installation or an external"
                " one, not both",
                code="receiver-ambiguous",
            )
        if not internal and external is None:
            raise RuleRefused(
                "name the receiver: an aftercare worker of this installation"
                " (receiving_worker) or an external one (external_receiver)",
                code="receiver-required",
                unmet=["receiving_worker", "external_receiver"],
            )
        if external is not None:
            blank = [
                f"external_receiver.{name}"
                for name in ("organisation", "worker", "contact")
                if not rules.has_text(getattr(external, name))
            ]
            if blank:
                raise RuleRefused(
                    "an external receiver is named with her organisation, worker and a way"
                    f" to reach her; missing: {', '.join(blank)}",
                    code="external-receiver-incomplete",
                    unmet=blank,
                    fields=blank,
                )
        unnamed = [
            f"parties[{n}].name"
            for n, party in enumerate(command.parties)
            if not rules.has_text(party.name)
        ]
        if unnamed:
            raise RuleRefused(
                "every party around her is named", code="party-name-required", unmet=unnamed,
                fields=unnamed,
            )
        missing = [
            name
            for name in rules.HANDOVER_PACKAGE_TEXTS
            if not rules.has_text(getattr(command.package, name))
        ]
        blank = [f"package.{name}" for name in missing]
        if not self.state.has("comensha-decision"):
            missing.append("comensha-decision")
        if missing:
            raise RuleRefused(
                "the handover package must carry the sexual development, an explicit mention"
                " of the loverboy problem, the safety and aftercare plans and the CoMensha"
                f" decision; missing: {', '.join(missing)}",
                code="handover-package-incomplete",
                unmet=missing,
                fields=blank,
            )
        self._record(
            handover.HandoverPrepared,
            meta,
            **payload(command),
            comensha_decision=self.state.comensha_decision,
        )

    def hold_handover_meeting(self, command: c.HoldHandoverMeeting, meta: Meta) -> None:
        rules.check_in_care(self.state)
        if not self.state.has("handover-prepared"):
            raise RuleRefused(
                "prepare the handover first", code="handover-not-prepared",
                unmet=["handover-prepared"],
            )
        if not (
            command.girl_present
            and command.sending_worker_present
            and command.receiving_worker_present
        ):
            raise RuleRefused(
                "a warm handover needs the girl, the sending and the receiving worker present",
                code="handover-not-warm",
            )
        self._record(handover.HandoverMeetingHeld, meta, **payload(command))

    def accept_handover(self, command: c.AcceptHandover, meta: Meta) -> None:
        """The receiving worker of this installation accepts herself. Nobody of this
        installation accepts for an external receiver: the sending coordinator records the
        receiver's confirmation (how it came; required), and `receiving_worker` stays
        empty: who recorded it is the event's `recorded_by`."""
        rules.check_in_care(self.state)
        if not self.state.has("handover-meeting"):
            raise RuleRefused(
                "the warm handover meeting comes before acceptance",
                code="handover-meeting-missing",
                unmet=["handover-meeting"],
            )
        if self.state.has("handover-accepted"):
            raise RuleRefused("the handover was already accepted", code="no-change")
        if self.state.handover.external:
            if not rules.has_text(command.confirmation):
                raise RuleRefused(
                    "the external receiver's acceptance is recorded with how she confirmed it",
                    code="handover-confirmation-required",
                    unmet=["confirmation"],
                )
            self._record(
                handover.HandoverAccepted,
                meta,
                receiving_worker="",
                confirmation=command.confirmation,
            )
            return
        if meta.recorded_by != self.state.handover.receiving_worker:
            raise RuleRefused(
                "only the receiving worker accepts the handover", code="handover-wrong-receiver"
            )
        self._record(
            handover.HandoverAccepted,
            meta,
            receiving_worker=meta.recorded_by,
            confirmation=command.confirmation,
        )

    def export_handover(self, command: c.RecordHandoverExport, meta: Meta) -> None:
        """A handover travels to another installation only once it is prepared, and only
        to the organisation it was prepared for."""
        rules.check_in_care(self.state)
        if not self.state.has("handover-prepared"):
            raise RuleRefused(
                "prepare the handover first: the bundle carries its package",
                code="handover-not-prepared", unmet=["handover-prepared"],
            )
        prepared_for = (self.state.handover.receiving_organisation or "").strip().casefold()
        if command.to_organisation.strip().casefold() != prepared_for:
            raise RuleRefused(
                "the handover was prepared for another organisation; send the bundle to"
                " the organisation it was prepared for, or prepare the handover again",
                code="handover-prepared-for-another", fields=["to_organisation"],
            )
        self._record(handover.HandoverExported, meta, **payload(command))

    def start_aftercare(self, command: c.StartAftercare, meta: Meta, protocol: Protocol) -> None:
        """Residential care ends and aftercare starts: with a destination; after a warm
        handover, or without one argued (`without_handover`, which then flags her out of
        view); and the protocol's entry criteria for aftercare stay, checked first, whatever
        is argued (in the default protocol they are the warm handover itself, so there
        aftercare never starts without one, refused as `entry-criteria-unmet`: a girl
        leaving without a handover is closed, argued, instead; an argument after a warm
        handover is refused as pointless). The checks after a runaway are criteria here
        too, waivable with a justification; a handover step is not waived."""
        rules.check_in_care(self.state)
        rules.check_not_before_current_phase(self.state, meta.occurred_on)
        rules.check_no_handover_waived(command.waivers)
        rules.check_advance(self.state, protocol, None, command.waivers, meta.occurred_on)
        rules.check_destination(self.state, command.destination)
        rules.check_handover_for_ending(self.state, command.without_handover, transfer=False)
        self._record(handover.AftercareStarted, meta, **payload(command))

    def record_aftercare_contact(self, command: c.RecordAftercareContact, meta: Meta) -> None:
        """In aftercare; and, on a file closed when she left without a warm handover, until
        a contact reaches her: whoever keeps the file (her coordinator) records the attempts
        to find her, and the one that reaches her takes her off the out-of-view list. The
        file stays closed; once she is in view again it takes no more contacts."""
        searching = self.state.status == "closed" and rules.left_out_of_view(self.state)
        if not searching:
            rules.check_not_closed(self.state)
            self._check_in_aftercare()
        channel = command.channel or command.kind
        if channel is None:
            raise RuleRefused("say how she was contacted (channel)", code="channel-required")
        self._record(
            handover.AftercareContactRecorded,
            meta,
            allow_closed=searching,
            kind=channel,
            note=command.note,
            outcome=command.outcome,
        )

    def decide_continuation_after_18(
        self, command: c.DecideContinuationAfter18, meta: Meta
    ) -> None:
        rules.check_continuation_argued(command.decision, command.argument)
        self._record(handover.ContinuationAfter18Decided, meta, **payload(command))

    def end_aftercare(self, command: c.EndAftercare, meta: Meta) -> None:
        self._check_in_aftercare()
        rules.check_reason_given(command.reason, "ending aftercare")
        self._record(handover.AftercareEnded, meta, **payload(command))

    def _check_in_aftercare(self) -> None:
        if self.state.status != "aftercare" or self.state.aftercare_ended_on is not None:
            raise RuleRefused("she is not in aftercare", code="not-in-aftercare")

    # -- the end, and corrections ------------------------------------------------------------
    def close(self, command: c.CloseTrajectory, meta: Meta, protocol: Protocol) -> None:
        """Close the trajectory. From care, this ends residential care: a destination, and a
        warm handover or its absence argued (`without_handover`: out of view at once); a
        transfer needs the handover package even when argued. From aftercare, the handover
        was made: the destination recorded at aftercare start stands, and an argument is
        refused as pointless. Either way, the checks after a runaway must be done (or
        waived with a justification)."""
        if self.state.open_runaway is not None:
            raise RuleRefused(
                "close only after the runaway has ended: she must not go out of view",
                code="runaway-open",
            )
        if command.reason == "other" and not rules.has_text(command.note):
            raise RuleRefused("closing for another reason needs a note", code="reason-required",
                              fields=["note"])
        rules.check_not_closed(self.state)
        rules.check_destination(self.state, command.destination)
        if self.state.status == "in_care":
            rules.check_handover_for_ending(
                self.state, command.without_handover, transfer=command.reason == "transferred"
            )
        elif command.without_handover is not None:
            raise RuleRefused(
                "she is in aftercare: the handover was made, there is nothing to argue",
                code="without-handover-pointless",
            )
        rules.check_no_handover_waived(command.waivers)
        rules.check_advance(
            self.state, protocol, None, command.waivers, meta.occurred_on,
            criteria=rules.RUNAWAY_CHECKS,
        )
        fields = payload(command)
        if command.end_reason is None:
            # Mapped now and stored: the delivery reads the decision, not today's mapping.
            fields["end_reason"] = end_reason_of(command.reason, command.destination)
        self._record(closure.TrajectoryClosed, meta, **fields)

    def _check_correctable(self, position: int) -> None:
        corrections.check_correctable(self.state, position)

    def correct_entry(self, command: c.CorrectEntry, meta: Meta) -> None:
        """Correct an earlier entry, or (action `mark_in_error`) mark it as recorded in error."""
        self._check_correctable(command.position)
        if command.action == "mark_in_error":
            rules.check_reason_given(command.reason, "marking an entry in error")
            self._record(
                closure.EntryMarkedInError, meta, position=command.position, reason=command.reason
            )
            return
        rules.check_reason_given(command.reason, "a correction")
        if command.corrected_occurred_on is not None:
            rules.check_occurred_not_in_future(command.corrected_occurred_on, meta.today)
        self._record(
            closure.EntryCorrected,
            meta,
            position=command.position,
            correction=command.reason,
            corrected_occurred_on=command.corrected_occurred_on,
        )

    # -- privacy: research consent and early destruction ---------------------------------
    def give_research_consent(self, command: c.GiveResearchConsent, meta: Meta) -> None:
        rules.check_research_consent_giver(
            command.given_by, self.state.date_of_birth, meta.occurred_on
        )
        if self.state.research_consent:
            raise RuleRefused("consent for research is already given", code="no-change")
        self._record(privacy.ResearchConsentGiven, meta, allow_closed=True, **payload(command))

    def withdraw_research_consent(self, command: c.WithdrawResearchConsent, meta: Meta) -> None:
        if not self.state.research_consent:
            raise RuleRefused("no consent for research is in force", code="no-consent")
        self._record(
            privacy.ResearchConsentWithdrawn, meta, allow_closed=True, **payload(command)
        )

    def request_destruction(self, command: c.RequestDestruction, meta: Meta) -> None:
        rules.check_destruction_requester(
            command.requested_by, self.state.date_of_birth, meta.occurred_on
        )
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
            requested_by=command.requested_by,
            deadline=rules.destruction_deadline(meta.occurred_on),
        )

    def decide_destruction_request(
        self, command: c.DecideDestructionRequest, meta: Meta
    ) -> None:
        pending = self.state.destruction
        if pending is None or pending.status != "pending":
            raise RuleRefused("no destruction request is pending", code="no-destruction-request")
        if not command.granted:
            rules.check_reason_given(command.argument, "refusing a destruction request")
        self._record(
            privacy.DestructionRequestDecided, meta, allow_closed=True, **payload(command)
        )


    # -- outcomes: revictimisation and follow-up measurements --------------------------------
    def report_revictimisation(self, command: c.ReportRevictimisation, meta: Meta) -> None:
        """In care, in aftercare and after closure (a closed file takes it): where she was
        on the day recorded is read from her file, never typed."""
        self._record(
            outcomes.RevictimisationReported,
            meta,
            allow_closed=True,
            **payload(command),
            stage=follow_up.stage_on(self.state, meta.occurred_on),
        )

    def measure_follow_up(
        self, command: c.MeasureFollowUp, meta: Meta, protocol: Protocol
    ) -> None:
        follow_up.check_follow_up_moment(self.state, protocol, command.moment)
        self._record(outcomes.FollowUpMeasured, meta, allow_closed=True, **payload(command))

    def record_youth_care_items(self, command: c.RecordYouthCareItems, meta: Meta) -> None:
        """Also after the file was closed: a delivery for the last half year may ask."""
        bij_rules.check_bsn(command.bsn, field="bsn")
        self._record(intake.YouthCareItemsRecorded, meta, allow_closed=True,
                     **payload(command))

    def record_care_outcome(self, command: c.RecordCareOutcome, meta: Meta) -> None:
        """The outcome questions, asked when care ends: also after the file was closed
        (the questions are often asked at the last meeting, the answers come later)."""
        self._record(outcomes.CareOutcomeRecorded, meta, allow_closed=True, **payload(command))

    def record_follow_up_not_possible(
        self, command: c.RecordFollowUpNotPossible, meta: Meta, protocol: Protocol
    ) -> None:
        follow_up.check_follow_up_moment(self.state, protocol, command.moment)
        if command.reason == "other" and not rules.has_text(command.note):
            raise RuleRefused(
                "another reason needs a note", code="reason-required", unmet=["note"],
                fields=["note"],
            )
        self._record(outcomes.FollowUpNotPossible, meta, allow_closed=True, **payload(command))


def payload(command: msgspec.Struct) -> dict[str, Any]:
    """A command's fields as its event's: all but `occurred_on` (which goes into `Meta`),
    lists as tuples (an event is immutable, and its stored shape says tuple)."""
    out: dict[str, Any] = {}
    for name in command.__struct_fields__:
        if name == "occurred_on":
            continue
        value = getattr(command, name)
        out[name] = tuple(value) if isinstance(value, list) else value
    return out


Handler = Callable[[Trajectory, Any, Meta, Protocol], str | None]

HANDLERS: dict[type[c.Command], Handler] = {
    c.RecordCareOutcome: lambda t, cmd, meta, p: t.record_care_outcome(cmd, meta),
    c.RecordYouthCareItems: lambda t, cmd, meta, p: t.record_youth_care_items(cmd, meta),
    c.AssignTeam: lambda t, cmd, meta, p: t.assign_team(cmd, meta),
    c.AssignCoordinator: lambda t, cmd, meta, p: t.assign_coordinator(cmd, meta),
    # The facts with rules of their own, and the method that checks them. A command not
    # named here has none: `Trajectory.handle` records its event as the list of facts says.
    c.ChangeVictimStatus: lambda t, cmd, meta, p: t.change_victim_status(cmd, meta),
    c.InterpretSignals: lambda t, cmd, meta, p: t.interpret_signals(cmd, meta),
    c.RecordSafetyAnalysis: lambda t, cmd, meta, p: t.record_safety_analysis(cmd, meta),
    c.AssessMedicalCare: lambda t, cmd, meta, p: t.assess_medical_care(cmd, meta),
    c.RecordCareAnalysis: lambda t, cmd, meta, p: t.record_care_analysis(cmd, meta),
    c.SetTreatmentPlan: lambda t, cmd, meta, p: t.set_treatment_plan(cmd, meta),
    c.DecidePlacement: lambda t, cmd, meta, p: t.decide_placement(cmd, meta),
    c.RegisterNetworkContact: lambda t, cmd, meta, p: t.register_network_contact(
        meta=meta, role=cmd.role, risk=cmd.risk, note=cmd.note
    ),
    c.AssessNetworkContactRisk: lambda t, cmd, meta, p: t.assess_network_contact_risk(cmd, meta, p),
    c.RestoreNetworkContact: lambda t, cmd, meta, p: t.restore_network_contact(cmd, meta, p),
    c.RestrictNetworkContact: lambda t, cmd, meta, p: t.restrict_network_contact(cmd, meta),
    c.ChangePermission: lambda t, cmd, meta, p: t.change_permission(cmd, meta, p),
    c.TransitionPhase: lambda t, cmd, meta, p: t.transition_phase(cmd, meta, p),
    c.StartTraumaTherapy: lambda t, cmd, meta, p: t.start_trauma_therapy(cmd, meta),
    c.HoldTraumaTherapySession: lambda t, cmd, meta, p: t.hold_trauma_therapy_session(cmd, meta),
    c.CompleteTraumaTherapy: lambda t, cmd, meta, p: t.complete_trauma_therapy(cmd, meta),
    c.ReportRunaway: lambda t, cmd, meta, p: t.report_runaway(cmd, meta),
    c.EndRunaway: lambda t, cmd, meta, p: t.end_runaway(cmd, meta),
    c.HoldCaseConference: lambda t, cmd, meta, p: t.hold_case_conference(cmd, meta),
    c.DecideComenshaRegistration: lambda t, cmd, meta, p: t.decide_comensha_registration(cmd, meta),
    c.ReportToComensha: lambda t, cmd, meta, p: t.report_to_comensha(cmd, meta),
    c.RecordComenshaAcknowledgement: lambda t, cmd, meta, p: t.record_comensha_acknowledgement(
        cmd, meta
    ),
    c.PrepareHandover: lambda t, cmd, meta, p: t.prepare_handover(cmd, meta),
    c.HoldHandoverMeeting: lambda t, cmd, meta, p: t.hold_handover_meeting(cmd, meta),
    c.AcceptHandover: lambda t, cmd, meta, p: t.accept_handover(cmd, meta),
    c.RecordHandoverExport: lambda t, cmd, meta, p: t.export_handover(cmd, meta),
    c.StartAftercare: lambda t, cmd, meta, p: t.start_aftercare(cmd, meta, p),
    c.RecordAftercareContact: lambda t, cmd, meta, p: t.record_aftercare_contact(cmd, meta),
    c.DecideContinuationAfter18: lambda t, cmd, meta, p: t.decide_continuation_after_18(
        cmd, meta
    ),
    c.EndAftercare: lambda t, cmd, meta, p: t.end_aftercare(cmd, meta),
    c.CloseTrajectory: lambda t, cmd, meta, p: t.close(cmd, meta, p),
    c.CorrectEntry: lambda t, cmd, meta, p: t.correct_entry(cmd, meta),
    c.GiveResearchConsent: lambda t, cmd, meta, p: t.give_research_consent(cmd, meta),
    c.WithdrawResearchConsent: lambda t, cmd, meta, p: t.withdraw_research_consent(cmd, meta),
    c.RequestDestruction: lambda t, cmd, meta, p: t.request_destruction(cmd, meta),
    c.DecideDestructionRequest: lambda t, cmd, meta, p: t.decide_destruction_request(cmd, meta),
    c.ReportRevictimisation: lambda t, cmd, meta, p: t.report_revictimisation(cmd, meta),
    c.MeasureFollowUp: lambda t, cmd, meta, p: t.measure_follow_up(cmd, meta, p),
    c.RecordFollowUpNotPossible: lambda t, cmd, meta, p: t.record_follow_up_not_possible(
        cmd, meta, p
    ),
}
