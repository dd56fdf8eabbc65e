"""Commands: one Struct per fact that can be recorded, shared by the API, CLI and tests.

A command is the caller's request, decoded and checked for shape by msgspec (unknown
fields refused, constraints in the types). Its fields are written here and nowhere else
(besides the stored event): the routes, forms and the aggregate read them off the Struct.
A command is data only: the aggregate's `handle` runs it (a fact with rules of its own
through its method; one without through the generic path, which triggers the event its
entry in `trajectory.facts` names with the command's fields). Commands are not events:
they may change; stored events may not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from trajectory.aggregates.events.handover import (
    ExternalReceiver,
    HandoverPackage,
    HandoverParty,
    WithoutHandover,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.outcomes import GoalOutcome, InstrumentScore
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.reasons import NOT_RECORDED
from trajectory.aggregates.vocabulary import (
    AftercareContactKind,
    CareForm,
    ClosureReason,
    ComenshaDecision,
    ComenshaSender,
    ConsentGiver,
    ContactLevel,
    ContactOutcome,
    ContactRisk,
    ContinuationDecision,
    Destination,
    EndReason,
    FamilyInvolvementForm,
    FollowUpNotPossibleReason,
    InterventionKind,
    LeisureKind,
    Level,
    LivingSituation,
    LoverboyContact,
    MedicalNeed,
    Nationality,
    OutcomeAnswer,
    OutcomeInformant,
    PlacementKind,
    QualificationLevel,
    Referrer,
    RevictimisationDay,
    RevictimisationKind,
    RevictimisationSource,
    RiskLevel,
    RiskProfile,
    RunawayEnding,
    RunawayInformed,
    SafetyLevel,
    SafetyMeasure,
    SafetyRisk,
    SchoolOrWork,
    Setting,
    Sex,
    SignalDiscipline,
    SignalKind,
    TherapyMethod,
    VictimStatus,
)

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
TIME_OF_DAY = r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
"""A time of day, HH:MM (24 hours, Amsterdam), or empty: not known."""
TimeOfDay = Annotated[
    str,
    msgspec.Meta(pattern=TIME_OF_DAY, max_length=5, examples=["21:30"],
                 description="A time of day, HH:MM (24 hours, Amsterdam); empty: not known."),
]
PoliceReportNumber = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9./-]{2,39})?$",
        max_length=40,
        examples=["PL0900-2026123456"],
        description="The police's number of the missing-person report (vermissingsmelding):"
        " 3 to 40 letters, digits, dots, slashes and dashes; empty: none yet.",
    ),
]


class Command(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every command: when the fact happened (optional, defaults to now)."""

    occurred_on: OccurredOn | None = None


class OpenTrajectory(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Intake: open a trajectory. Organisation and coordinator come from the caller."""

    intake_date: date
    victim_status: VictimStatus
    nationality: Nationality = "unknown"
    risk_profiles: Annotated[list[RiskProfile], msgspec.Meta(max_length=5)]
    setting: Setting
    referral_source: Short
    legal_framework: Short
    identity: Identity
    risk_assessment_instrument: Short = NOT_RECORDED
    risk_assessment_result: Text = ""
    duplicate_reason: Text = ""
    """Why she is taken in although a girl with the same name and birth date is in care in
    the organisation (`trajectory.duplicates`); empty when there is none."""
    team: Annotated[str, msgspec.Meta(max_length=200)] = ""
    """The team she is placed with (its id; `TeamAssigned` at intake). Empty: the one team
    of the coordinator's, if she belongs to exactly one (`trajectory.writing`)."""
    # Beleidsinformatie Jeugd (issue 20): the items CBS asks at the start of care, in the
    # protocol's categories (`trajectory.bij.codes`); her BSN is in `identity`.
    sex: Sex = "female"
    municipality: Annotated[str, msgspec.Meta(max_length=4, pattern=r"^(?:[0-9]{4})?$")] = ""
    """Her municipality of residence: the four-digit CBS municipality code."""
    referrer: Referrer | None = None
    care_form: CareForm | None = None
    started_in_crisis: bool = False


class ChangeVictimStatus(Command, kw_only=True, forbid_unknown_fields=True):
    victim_status: VictimStatus
    reason: Reason


class RecordSafetyAnalysis(Command, kw_only=True, forbid_unknown_fields=True):
    instrument: Short
    physical_safety: SafetyLevel
    experienced_safety: SafetyLevel
    risks: Annotated[list[SafetyRisk], msgspec.Meta(max_length=20)] = []
    runaway_risk: RiskLevel
    measures: Annotated[list[SafetyMeasure], msgspec.Meta(max_length=20)] = []
    police_involved: bool = False
    notes: Text = ""



class AssessMedicalCare(Command, kw_only=True, forbid_unknown_fields=True):
    needs: Annotated[list[MedicalNeed], msgspec.Meta(min_length=1, max_length=10)]
    provider: Short
    notes: Text = ""


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


class SetTreatmentPlan(Command, kw_only=True, forbid_unknown_fields=True):
    goals: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]],
        msgspec.Meta(min_length=1, max_length=30),
    ]
    summary: Text = ""


class DecidePlacement(Command, kw_only=True, forbid_unknown_fields=True):
    kind: PlacementKind
    region: Short
    argument: Text | None = None


class RegisterNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    role: Short
    risk: ContactRisk
    note: Text = ""


class AssessNetworkContactRisk(Command, kw_only=True, forbid_unknown_fields=True):
    risk: ContactRisk
    reason: Reason
    contact_id: str = ""


class RestoreNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    level: ContactLevel
    reason: Reason
    contact_id: str = ""


class RestrictNetworkContact(Command, kw_only=True, forbid_unknown_fields=True):
    level: ContactLevel
    reason: Reason
    contact_id: str = ""


class RecordFamilyInvolvement(Command, kw_only=True, forbid_unknown_fields=True):
    form: FamilyInvolvementForm
    participants: Names = []
    note: Text = ""



class ChangePermission(Command, kw_only=True, forbid_unknown_fields=True):
    level: Level
    reason: Text = ""
    kind: str = ""


class TransitionPhase(Command, kw_only=True, forbid_unknown_fields=True):
    """Advance one phase (entry criteria, or waivers with a justification) or regress."""

    to_phase: Annotated[int, msgspec.Meta(ge=1, le=20)]
    reason: Text = ""
    waivers: Annotated[list[Waiver], msgspec.Meta(max_length=20)] = []


class StartTraumaTherapy(Command, kw_only=True, forbid_unknown_fields=True):
    method: TherapyMethod
    provider: Short
    reason: Text | None = None


class HoldTraumaTherapySession(Command, kw_only=True, forbid_unknown_fields=True):
    note: Text = ""


class CompleteTraumaTherapy(Command, kw_only=True, forbid_unknown_fields=True):
    outcome: Text = ""


class DeliverIntervention(Command, kw_only=True, forbid_unknown_fields=True):
    kind: InterventionKind
    provider: Short
    note: Text = ""



class ArrangeEducation(Command, kw_only=True, forbid_unknown_fields=True):
    school: Short
    level: Short
    note: Text = ""



class RecordEducationProgress(Command, kw_only=True, forbid_unknown_fields=True):
    attending: bool
    note: Text = ""



class ObtainQualification(Command, kw_only=True, forbid_unknown_fields=True):
    qualification: Short



class ArrangeLeisure(Command, kw_only=True, forbid_unknown_fields=True):
    """Record a leisure activity arranged for her: what and where, and whether an adult
    supervises it."""

    kind: LeisureKind
    activity: Annotated[
        Short, msgspec.Meta(description="What and where.", examples=["football at the club"])
    ]
    supervised: bool
    note: Text = ""


class AssignTeam(Command, kw_only=True, forbid_unknown_fields=True):
    """Place her with a team of the organisation: its coordinators see her file from the
    day given (`occurred_on`) on, and those of her earlier team no longer."""

    team: Annotated[Short, msgspec.Meta(description="The team's id (GET /teams).")]
    reason: Text = ""


class AssignCoordinator(Command, kw_only=True, forbid_unknown_fields=True):
    """Make a coordinator of the organisation responsible for her."""

    coordinator: Annotated[Short, msgspec.Meta(description="The coordinator's user id.")]
    reason: Text = ""


class ReportRunaway(Command, kw_only=True, forbid_unknown_fields=True):
    from_where: Short
    suspected_destination: Text = ""
    suspected_with: Text = ""
    how: Text = ""
    police_forces_informed: Names = []
    home_region_police_informed: bool = False
    missing_since: TimeOfDay = ""
    """The time of day she was last seen, on the day it happened (`occurred_on`)."""
    police_report_number: PoliceReportNumber = ""
    informed: Annotated[list[RunawayInformed], msgspec.Meta(max_length=5)] = []


class EndRunaway(Command, kw_only=True, forbid_unknown_fields=True):
    ending: RunawayEnding
    note: Text = ""
    returned_at: TimeOfDay = ""
    """The time of day she came back or was found, on the day it happened."""


class DiscussPoliceReport(Command, kw_only=True, forbid_unknown_fields=True):
    outcome: Text = ""



class FilePoliceReport(Command, kw_only=True, forbid_unknown_fields=True):
    police_force: Short



class HoldCaseConference(Command, kw_only=True, forbid_unknown_fields=True):
    partners: Annotated[list[Short], msgspec.Meta(min_length=1, max_length=50)]
    note: Text = ""


class DecideComenshaRegistration(Command, kw_only=True, forbid_unknown_fields=True):
    decision: ComenshaDecision
    consent_by: ConsentGiver | None = None
    argument: Text | None = None


class InterpretSignals(Command, kw_only=True, forbid_unknown_fields=True):
    """Who interpreted the signals with her coordinator, with which disciplines; whether
    together (one multidisciplinary consultation); whether they were discussed with her,
    and on which day (required when they were, absent when not)."""

    disciplines: Annotated[list[SignalDiscipline], msgspec.Meta(min_length=1, max_length=10)]
    together: bool
    discussed_with_her: bool
    discussed_on: date | None = None
    note: Text = ""


class ReportToComensha(Command, kw_only=True, forbid_unknown_fields=True):
    """The report to CoMensha was sent (`occurred_on`: the day it was sent), after a
    decision to register her; `sent_by`: the role of the one who sent it."""

    sent_by: ComenshaSender = "coordinator"


class RecordComenshaAcknowledgement(Command, kw_only=True, forbid_unknown_fields=True):
    """CoMensha acknowledged the report (`occurred_on`: the day it did), under its
    `reference`, which is kept encrypted with the fact and shown to her coordinators only."""

    reference: Short


class RecordSignal(Command, kw_only=True, forbid_unknown_fields=True):
    kind: SignalKind
    note: Text = ""



class PrepareHandover(Command, kw_only=True, forbid_unknown_fields=True):
    """To a worker of this installation (`receiving_worker`: her user id, chosen from
    `GET /aftercare-workers`) or to one outside it (`external_receiver`), never both."""

    receiving_organisation: Short
    receiving_worker: Text = ""
    package: HandoverPackage
    external_receiver: ExternalReceiver | None = None
    parties: Annotated[tuple[HandoverParty, ...], msgspec.Meta(max_length=20)] = ()


class HoldHandoverMeeting(Command, kw_only=True, forbid_unknown_fields=True):
    girl_present: bool
    sending_worker_present: bool
    receiving_worker_present: bool
    note: Text = ""


class AcceptHandover(Command, kw_only=True, forbid_unknown_fields=True):
    """The receiving worker accepts the handover: who she is comes from the caller. For a
    receiver outside this installation her coordinator records the receiver's
    `confirmation` (how and when it came)."""

    confirmation: Text = ""


class RecordHandoverExport(Command, kw_only=True, forbid_unknown_fields=True):
    """The handover was sealed for another installation (`trajectory.exchange.handover`
    records it, with the bundle it made): never a route or a form of its own."""

    to_organisation: Short
    bundle_hash: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class StartAftercare(Command, kw_only=True, forbid_unknown_fields=True):
    plan: Text = ""
    destination: Destination | None = None
    without_handover: WithoutHandover | None = None
    waivers: Annotated[list[Waiver], msgspec.Meta(max_length=20)] = []


class RecordAftercareContact(Command, kw_only=True, forbid_unknown_fields=True):
    """`channel` (or, by its first name, `kind`): how she was contacted; `outcome`: whether
    it reached her."""

    kind: AftercareContactKind | None = None
    channel: AftercareContactKind | None = None
    outcome: ContactOutcome = "reached"
    note: Text = ""


class RecordAftercareContactDetails(Command, kw_only=True, forbid_unknown_fields=True):
    phone: Text = ""
    address: Text = ""
    school_or_work: Text = ""
    note: Text = ""


class DecideContinuationAfter18(Command, kw_only=True, forbid_unknown_fields=True):
    decision: ContinuationDecision
    argument: Text = ""


class EndAftercare(Command, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class CloseTrajectory(Command, kw_only=True, forbid_unknown_fields=True):
    reason: ClosureReason
    note: Text = ""
    destination: Destination | None = None
    responsible_next: Text = ""
    without_handover: WithoutHandover | None = None
    waivers: Annotated[list[Waiver], msgspec.Meta(max_length=20)] = []
    end_reason: EndReason | None = None
    """The reason of ending in the categories of Beleidsinformatie Jeugd; absent: mapped
    from `reason` and `destination` (`trajectory.bij.codes.end_reason_of`)."""


class RecordYouthCareItems(Command, kw_only=True, forbid_unknown_fields=True):
    """Record or correct the items of Beleidsinformatie Jeugd after intake (her citizen
    service number once known, or an item an intake before issue 20 did not ask); only the
    items given change."""

    bsn: Annotated[str, msgspec.Meta(max_length=40)] = ""
    sex: Sex | None = None
    municipality: Annotated[str, msgspec.Meta(max_length=4, pattern=r"^(?:[0-9]{4})?$")] = ""
    referrer: Referrer | None = None
    care_form: CareForm | None = None
    started_in_crisis: bool | None = None


class RecordCareOutcome(Command, kw_only=True, forbid_unknown_fields=True):
    """The outcome questions at the end of care (Beleidsinformatie Jeugd)."""

    satisfied: OutcomeAnswer
    without_help: OutcomeAnswer
    informant: OutcomeInformant
    goals: Annotated[list[GoalOutcome], msgspec.Meta(max_length=30)] = []
    note: Text = ""


class CorrectEntry(Command, kw_only=True, forbid_unknown_fields=True):
    """Correct an earlier entry, or mark it as recorded in error."""

    position: Annotated[int, msgspec.Meta(ge=1)]
    action: Literal["correct", "mark_in_error"] = "correct"
    reason: Reason
    corrected_occurred_on: date | None = None


class GiveResearchConsent(Command, kw_only=True, forbid_unknown_fields=True):
    """Consent for pseudonymised research use (a parent or guardian, or the girl from 16)."""

    given_by: ConsentGiver
    note: Text = ""


class WithdrawResearchConsent(Command, kw_only=True, forbid_unknown_fields=True):
    withdrawn_by: ConsentGiver
    reason: Text = ""


class RequestDestruction(Command, kw_only=True, forbid_unknown_fields=True):
    """A request to destroy the file early; honoured within three months unless the law
    or a substantial interest of another forbids it."""

    requested_by: ConsentGiver


class DecideDestructionRequest(Command, kw_only=True, forbid_unknown_fields=True):
    granted: bool
    argument: Text = ""


# -- outcomes: revictimisation and follow-up measurements ----------------------------------

Moment = Annotated[
    int,
    msgspec.Meta(
        ge=0, le=240,
        description="Which follow-up moment: months after residential care ended (0: at"
        " its end), one of the protocol's `[follow_up]` moments.",
        examples=[6],
    ),
]


class ReportRevictimisation(Command, kw_only=True, forbid_unknown_fields=True):
    """A new exploitation or loverboy contact became known: `occurred_on` is the day it
    happened or the day it became known (`day_is`). Where she was then (in care, in
    aftercare, after closure) is read from her file."""

    kind: RevictimisationKind
    day_is: RevictimisationDay = "happened"
    known_via: RevictimisationSource
    police_involved: bool
    note: Text = ""


class MeasureFollowUp(Command, kw_only=True, forbid_unknown_fields=True):
    """A follow-up measurement (effectmeting) at one of the protocol's moments: where she
    lives, school or work, her qualification, revictimisation and runaways since the last
    measurement, contact with the loverboy or his network, and the scores of validated
    instruments (the product stores scores; it ships no instrument)."""

    moment: Moment
    living_situation: LivingSituation
    school_or_work: SchoolOrWork
    qualification: QualificationLevel
    revictimised_since: bool
    runaways_since: Annotated[int, msgspec.Meta(ge=0, le=1000)]
    loverboy_contact: LoverboyContact
    instruments: Annotated[list[InstrumentScore], msgspec.Meta(max_length=20)] = []
    note: Text = ""


class RecordFollowUpNotPossible(Command, kw_only=True, forbid_unknown_fields=True):
    """A follow-up measurement could not be made: why (another reason needs a note)."""

    moment: Moment
    reason: FollowUpNotPossibleReason
    note: Text = ""
