"""The list of facts: every kind of fact that can be recorded on a trajectory, declared once.

An entry says what a fact is (its command Struct, the only place its fields are written
besides the stored event class; the event it records), how it is reached (its HTTP path
under `/trajectories/{id}/`, the roles that may record it, its web form), what it is
called (an English title and help; the Dutch form title until the words move into the
catalogues), and what it means for the protocol: the entry criteria it satisfies, the
core element it evidences and the timeline lane it shows in.

The HTTP routes (`api/facts.py`), the web forms (`web/forms.py`), the core-element
mapping (`projections/core_elements.py`) and the timeline (`web/timeline.py`) are read
from this list; a test checks they agree with it. A fact whose command has no method of
its own in the aggregate's `HANDLERS` takes the generic path: `Trajectory.record_fact`
triggers the entry's event with the command's fields.

Adding a fact (leisure took these): its command in `commands.py` (and a new vocabulary
in `aggregates/vocabulary.py`, if it has one); its event in `aggregates/events/` (a line
in the README's event catalogue); one entry here; its words (event, fields, values: below);
a test. Then regenerate what the tests compare: `python -m trajectory.research.codebook`
and `python -m tests.upgrade_fixture --schema` (and record a store that holds the new
event, see tests/fixtures/upgrade/README.md). Its words: `scripts/i18n-update`, then the
Dutch in the catalogue (docs/words.md). A fact with rules of its own also gets an
aggregate method that takes its command, and a line in the aggregate's `HANDLERS`.
Intake (`OpenTrajectory`) is not in the list: it creates the trajectory rather than
adding to one.

This module is domain level: it imports no API and no web code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from trajectory import bounded
from trajectory import commands as c
from trajectory.aggregates.events import (
    analysis,
    chain,
    closure,
    education,
    handover,
    intake,
    network,
    outcomes,
    phasing,
    privacy,
    quality,
    runaway,
    safety,
    teams,
    treatment,
)
from trajectory.aggregates.events.base import TrajectoryEvent

Role = Literal["coordinator", "aftercare"]
COORDINATOR: tuple[Role, ...] = ("coordinator",)
AFTERCARE: tuple[Role, ...] = ("aftercare",)
CARE: tuple[Role, ...] = ("coordinator", "aftercare")

FormGroup = Literal[
    "safety", "analysis", "network", "phasing", "treatment", "education", "runaway", "chain",
    "handover", "aftercare", "outcomes", "end", "privacy", "team",
]
LaneName = Literal["phases", "runaway", "safety", "therapy", "education", "handover",
                   "aftercare"]


@dataclass(frozen=True)
class Evidence:
    """The core element (numbered as in the action plan) a fact evidences, under a code
    that names the kind of evidence in the matrix."""

    element: int
    code: str


@dataclass(frozen=True)
class EvidenceByKind:
    """The element depends on the fact's `kind` (an intervention): kind -> element, under
    the code `<prefix>:<kind>`. A kind not listed evidences none."""

    prefix: str
    elements: Mapping[str, int]


@dataclass(frozen=True)
class OnTimeline:
    """Where a fact shows on the girl's timeline. `mark`: a mark on its day; `onward`: a
    bar from its day to the end; `span`: it opens or closes a span the timeline pairs
    itself (a phase, a runaway, a therapy, aftercare)."""

    name: LaneName
    shape: Literal["mark", "onward", "span"]
    css: str = ""


@dataclass(frozen=True)
class Form:
    """The fact's web form: its address (`/app/.../forms/<slug>`) and the group it is
    listed under. Its title is the fact's `title`, translated by the pages' catalogues."""

    slug: str
    group: FormGroup


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One kind of fact. `element` and `lane` have no default: every entry says, if only
    `None`, whether it evidences a core element and shows on the timeline."""

    command: type[c.Command]
    event: type[TrajectoryEvent]
    """The event it records (the one the generic path triggers)."""
    path: str
    """Under /trajectories/{trajectory_id}/; `{contact_id}` or `{kind}` come from the path
    into the command's field of that name."""
    roles: tuple[Role, ...]
    title: str
    """English: the OpenAPI summary and the form's English title."""
    help: str = ""
    """English: the OpenAPI description (empty: the command's docstring)."""
    form: Form | None
    criteria: tuple[str, ...] = ()
    """The protocol's entry criteria and attention items this fact satisfies."""
    element: Evidence | EvidenceByKind | None
    lane: OnTimeline | None
    method: Literal["POST", "PUT"] = "POST"
    body: type[c.Command] | None = None
    """What the wire decodes, when it is a bounded twin of the command."""
    also: tuple[type[TrajectoryEvent], ...] = ()
    """Other events its rules may record (a regression caps permissions, ...)."""

    @property
    def schema(self) -> type[c.Command]:
        """The Struct a route or a form decodes into."""
        return self.body or self.command

    @property
    def slug(self) -> str | None:
        return self.form.slug if self.form else None



class Facts:
    """The list, with the look-ups its readers need."""

    def __init__(self, *facts: Fact):
        self.all = facts
        self._by_command = {f.command: f for f in facts}
        self.by_slug: dict[str, Fact] = {f.form.slug: f for f in facts if f.form}
        if len(self._by_command) != len(facts) or len(self.by_slug) != sum(
            1 for f in facts if f.form
        ):
            raise ValueError("a command or a form slug is declared twice")

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    def of(self, command: type[c.Command]) -> Fact:
        """The entry of a command (or of its bounded twin)."""
        for cls in command.__mro__:
            if cls in self._by_command:
                return self._by_command[cls]
        raise KeyError(f"{command.__name__} is not in the list of facts")


INTERVENTION_ELEMENTS: dict[str, int] = {
    "family_system_therapy": 8,
    "resilience_training": 13,
    "body_oriented": 13,
    "social_skills": 13,
    "problem_solving_skills": 13,
    "psycho_education_relationships": 14,
    "psycho_education_sexuality": 14,
    "experiential_expert": 14,
}

# Paths and titles are the API's since its first version: a path never changes.
FACTS = Facts(
    # -- signals at intake ---------------------------------------------------------------
    Fact(command=c.InterpretSignals, event=intake.SignalsInterpreted,
         path="signal-interpretations", roles=COORDINATOR,
         title="Record how the signals were interpreted",
         help="At intake or soon after: the disciplines that interpreted the signals with"
         " her coordinator, whether together (one multidisciplinary consultation), and"
         " whether and on which day they were discussed with her (core elements 2 and 3).",
         form=Form("signal-interpretation", "analysis"),
         element=Evidence(2, "signals-interpreted"), lane=None),
    # -- safety, analysis, placement ---------------------------------------------------------
    Fact(command=c.RecordSafetyAnalysis, event=safety.SafetyAnalysisRecorded,
         path="safety-analyses", roles=COORDINATOR, title="Record a safety analysis",
         form=Form("safety-analysis", "safety"),
         criteria=("safety-analysis", "safety-after-runaway"),
         element=Evidence(5, "safety-analysis"),
         lane=OnTimeline("safety", "mark", "safety-analysis")),
    Fact(command=c.AssessMedicalCare, event=safety.MedicalCareAssessed,
         path="medical-assessments", roles=COORDINATOR, title="Record a medical assessment",
         form=Form("medical-assessment", "safety"),
         criteria=("medical-assessment", "medical-after-runaway"),
         element=Evidence(6, "medical-assessment"), lane=None),
    Fact(command=c.RecordCareAnalysis, event=analysis.CareAnalysisRecorded,
         path="care-analyses", roles=COORDINATOR,
         title="Record a care analysis",
         form=Form("care-analysis", "analysis"),
         criteria=("care-analysis", "care-analysis-current"),
         element=Evidence(7, "care-analysis"), lane=None),
    Fact(command=c.SetTreatmentPlan, event=analysis.TreatmentPlanSet,
         path="treatment-plans", roles=COORDINATOR, title="Set the treatment plan",
         form=Form("treatment-plan", "analysis"),
         criteria=("treatment-plan",), element=None, lane=None),
    Fact(command=c.DecidePlacement, event=analysis.PlacementDecided,
         path="placements", roles=COORDINATOR, title="Decide the placement",
         form=Form("placement", "analysis"),
         criteria=("placement",), element=None, lane=None),
    Fact(command=c.ChangeVictimStatus, event=intake.VictimStatusChanged,
         path="victim-status-changes", roles=COORDINATOR, title="Change the victim status",
         form=Form("victim-status", "analysis"),
         element=None, lane=None),
    # -- network -------------------------------------------------------------------------
    Fact(command=c.RegisterNetworkContact, event=network.NetworkContactRegistered,
         path="network-contacts", roles=COORDINATOR, title="Register a network contact",
         form=Form("network-contact", "network"),
         element=Evidence(3, "network-analysis"), lane=None),
    Fact(command=c.AssessNetworkContactRisk, event=network.NetworkContactRiskAssessed,
         path="network-contacts/{contact_id}/risk-assessments", roles=COORDINATOR,
         title="Reassess a contact's risk",
         form=Form("contact-risk", "network"),
         element=None, lane=None, also=(network.NetworkContactRestricted,)),
    Fact(command=c.RestoreNetworkContact, event=network.NetworkContactRestored,
         path="network-contacts/{contact_id}/restorations", roles=COORDINATOR,
         title="Restore contact (supervised/unsupervised)",
         form=Form("contact-restore", "network"),
         element=None, lane=None),
    Fact(command=c.RestrictNetworkContact, event=network.NetworkContactRestricted,
         path="network-contacts/{contact_id}/restrictions", roles=COORDINATOR,
         title="Restrict or cut off contact",
         form=Form("contact-restrict", "network"),
         element=None, lane=None),
    Fact(command=c.RecordFamilyInvolvement, event=network.FamilyInvolvementRecorded,
         path="family-involvements", roles=COORDINATOR, title="Record family involvement",
         form=Form("family-involvement", "network"),
         criteria=("family-involvement",),
         element=Evidence(8, "family-involvement"), lane=None),
    # -- phases and permissions ----------------------------------------------------------
    Fact(command=c.ChangePermission, event=phasing.PermissionChanged,
         path="permissions/{kind}", method="PUT", roles=COORDINATOR,
         title="Set a permission level",
         help="Set internet, social_media, phone, leave or contact_with_boys; the"
         " phase's cap refuses what is unsafe (409 phase-permission-cap).",
         form=Form("permission", "phasing"),
         element=Evidence(10, "permission-changed"), lane=None),
    Fact(command=c.TransitionPhase, event=phasing.PhaseAdvanced,
         path="phase-transitions", roles=COORDINATOR, title="Advance or regress a phase",
         form=Form("phase-transition", "phasing"),
         element=Evidence(10, "phase-advanced"), lane=OnTimeline("phases", "span"),
         also=(phasing.PhaseRegressed, phasing.PermissionsCapped)),
    # -- treatment -----------------------------------------------------------------------
    Fact(command=c.StartTraumaTherapy, event=treatment.TraumaTherapyStarted,
         path="trauma-therapies", roles=COORDINATOR, title="Start trauma therapy",
         form=Form("trauma-therapy", "treatment"),
         criteria=("trauma-therapy",),
         element=Evidence(11, "trauma-therapy"), lane=OnTimeline("therapy", "span")),
    Fact(command=c.HoldTraumaTherapySession, event=treatment.TraumaTherapySessionHeld,
         path="trauma-therapies/sessions", roles=COORDINATOR,
         title="Record a trauma therapy session",
         form=Form("therapy-session", "treatment"),
         element=Evidence(11, "therapy-session"), lane=OnTimeline("therapy", "mark", "session")),
    Fact(command=c.CompleteTraumaTherapy, event=treatment.TraumaTherapyCompleted,
         path="trauma-therapies/completion", roles=COORDINATOR,
         title="Complete trauma therapy",
         form=Form("therapy-completion", "treatment"),
         element=Evidence(11, "therapy-completed"), lane=OnTimeline("therapy", "span")),
    Fact(command=c.DeliverIntervention, event=treatment.InterventionDelivered,
         path="interventions", roles=COORDINATOR, title="Record an intervention",
         form=Form("intervention", "treatment"),
         element=EvidenceByKind("intervention", INTERVENTION_ELEMENTS), lane=None),
    # -- education -----------------------------------------------------------------------
    Fact(command=c.ArrangeEducation, event=education.EducationArranged,
         path="education", roles=COORDINATOR, title="Arrange education",
         form=Form("education", "education"),
         criteria=("education",),
         element=Evidence(12, "education"), lane=OnTimeline("education", "onward", "education")),
    Fact(command=c.RecordEducationProgress, event=education.EducationProgressRecorded,
         path="education/progress", roles=COORDINATOR, title="Record school progress",
         form=Form("education-progress", "education"),
         element=Evidence(12, "education-progress"),
         lane=OnTimeline("education", "mark", "milestone")),
    Fact(command=c.ObtainQualification, event=education.QualificationObtained,
         path="education/qualifications", roles=COORDINATOR, title="Record a qualification",
         form=Form("qualification", "education"),
         element=Evidence(12, "qualification"), lane=OnTimeline("education", "mark", "milestone")),
    Fact(command=c.ArrangeLeisure, event=education.LeisureArranged,
         path="leisure-activities", roles=COORDINATOR, title="Record a leisure activity",
         help="A leisure activity arranged for her (sport, music, a club, volunteering):"
         " adequate leisure is part of core element 12, education and the future living"
         " situation.",
         form=Form("leisure", "education"),
         element=Evidence(12, "leisure"), lane=OnTimeline("education", "mark", "milestone")),
    # -- runaways ------------------------------------------------------------------------
    Fact(command=c.ReportRunaway, event=runaway.RunawayReported,
         path="runaways", roles=CARE, title="Report a runaway",
         help="In care or in aftercare: the aftercare worker reports a runaway too.",
         form=Form("runaway", "runaway"),
         element=None, lane=OnTimeline("runaway", "span")),
    Fact(command=c.EndRunaway, event=runaway.RunawayEnded,
         path="runaways/return", roles=CARE,
         title="Record her return after a runaway",
         form=Form("runaway-return", "runaway"),
         criteria=("no-open-runaway",), element=None, lane=OnTimeline("runaway", "span")),
    # -- police and chain ------------------------------------------------------------------
    Fact(command=c.DiscussPoliceReport, event=chain.PoliceReportDiscussed,
         path="police-reports/discussions", roles=COORDINATOR,
         title="Record a discussion of a police report",
         form=Form("police-discussion", "chain"),
         element=Evidence(3, "police-report-discussed"),
         lane=OnTimeline("safety", "mark", "police")),
    Fact(command=c.FilePoliceReport, event=chain.PoliceReportFiled,
         path="police-reports", roles=COORDINATOR, title="Record a filed police report",
         form=Form("police-report", "chain"),
         element=Evidence(3, "police-report-filed"),
         lane=OnTimeline("safety", "mark", "police")),
    Fact(command=c.HoldCaseConference, event=chain.CaseConferenceHeld,
         path="case-conferences", roles=COORDINATOR, title="Record a case conference",
         form=Form("case-conference", "chain"),
         element=Evidence(15, "case-conference"), lane=None),
    Fact(command=c.DecideComenshaRegistration, event=chain.ComenshaRegistrationDecided,
         path="comensha-decisions", roles=COORDINATOR,
         title="Record the CoMensha registration decision",
         form=Form("comensha-decision", "chain"),
         criteria=("comensha-decision",),
         element=Evidence(4, "comensha-decision"), lane=None),
    # The report itself, apart from the decision: only a report sent makes her a
    # registered victim in the national figures, and core element 4 (registration with
    # CoMensha) is evidenced by the report sent, or by an argued decision not to register
    # (the rule: `trajectory.protocol.evidence`, element 4; the decision's code names
    # which decision it was, `core_elements.facts_of`).
    Fact(command=c.ReportToComensha, event=chain.ComenshaReportSent,
         path="comensha-reports", roles=COORDINATOR,
         title="Record the report sent to CoMensha",
         help="The day her registration was sent to CoMensha, after a decision to register"
         " her, and the role of the one who sent it.",
         form=Form("comensha-report", "chain"),
         criteria=("comensha-report",),
         element=Evidence(4, "comensha-report-sent"), lane=None),
    Fact(command=c.RecordComenshaAcknowledgement, event=chain.ComenshaReportAcknowledged,
         path="comensha-reports/acknowledgements", roles=COORDINATOR,
         title="Record CoMensha's acknowledgement",
         help="The day CoMensha acknowledged the report sent, and its reference (kept"
         " encrypted, like every note).",
         form=Form("comensha-acknowledgement", "chain"),
         element=None, lane=None),
    Fact(command=c.RecordSignal, event=quality.SignalRecorded,
         path="signals", roles=COORDINATOR, title="Record a quality signal",
         form=Form("signal", "chain"),
         element=None, lane=OnTimeline("safety", "mark", "signal")),
    # -- handover and aftercare ------------------------------------------------------------
    Fact(command=c.PrepareHandover, body=bounded.PrepareHandover,
         event=handover.HandoverPrepared,
         path="handover", roles=COORDINATOR, title="Prepare the handover",
         form=Form("handover", "handover"),
         criteria=("handover-prepared",),
         element=Evidence(15, "handover-prepared"),
         lane=OnTimeline("handover", "mark", "handover")),
    Fact(command=c.HoldHandoverMeeting, event=handover.HandoverMeetingHeld,
         path="handover/meeting", roles=COORDINATOR, title="Record the warm handover meeting",
         form=Form("handover-meeting", "handover"),
         criteria=("handover-meeting",),
         element=Evidence(15, "handover-meeting"), lane=OnTimeline("handover", "mark", "handover")),
    Fact(command=c.AcceptHandover, event=handover.HandoverAccepted,
         path="handover/acceptance", roles=CARE, title="Accept the handover",
         help="By the receiving worker of this installation; for a receiver outside it,"
         " her coordinator records the receiver's confirmation.",
         form=Form("handover-acceptance", "handover"),
         criteria=("handover-accepted", "handover-acceptance"),
         element=Evidence(15, "handover-accepted"),
         lane=OnTimeline("handover", "mark", "handover")),
    Fact(command=c.StartAftercare, body=bounded.StartAftercare,
         event=handover.AftercareStarted,
         path="aftercare", roles=CARE, title="End residential care; start aftercare",
         form=Form("aftercare-start", "aftercare"),
         element=None, lane=OnTimeline("aftercare", "span")),
    Fact(command=c.RecordAftercareContact, event=handover.AftercareContactRecorded,
         path="aftercare-contacts", roles=CARE, title="Record an aftercare contact",
         form=Form("aftercare-contact", "aftercare"),
         criteria=("aftercare-contact",),
         element=Evidence(15, "aftercare-contact"),
         lane=OnTimeline("aftercare", "mark", "contact")),
    Fact(command=c.RecordAftercareContactDetails,
         event=handover.AftercareContactDetailsRecorded,
         path="aftercare/contact-details", roles=CARE,
         title="Record how to reach her in aftercare",
         help="Her phone, address and school or work, for the aftercare worker to reach"
         " her; kept encrypted like her name.",
         form=Form("aftercare-contact-details", "aftercare"),
         element=None, lane=None),
    Fact(command=c.DecideContinuationAfter18, event=handover.ContinuationAfter18Decided,
         path="continuation-after-18", roles=CARE,
         title="Record the decision on care after 18",
         help="Extended youth care, adult care, aftercare by this organisation, or her own"
         " argued refusal: decided before she turns 18.",
         form=Form("continuation-after-18", "aftercare"),
         criteria=("continuation-after-18",),
         element=None, lane=None),
    Fact(command=c.EndAftercare, event=handover.AftercareEnded,
         path="aftercare/end", roles=CARE, title="End aftercare",
         form=Form("aftercare-end", "aftercare"),
         element=None, lane=OnTimeline("aftercare", "span")),
    # -- outcomes: revictimisation and follow-up measurements --------------------------------
    Fact(command=c.ReportRevictimisation, event=outcomes.RevictimisationReported,
         path="revictimisations", roles=CARE, title="Report revictimisation",
         help="A new exploitation or loverboy contact became known: the day it happened or"
         " became known, how, and whether the police were involved. In care, in aftercare"
         " and after the file was closed; where she was then is read from her file.",
         form=Form("revictimisation", "outcomes"),
         element=None, lane=OnTimeline("runaway", "mark", "revictimisation")),
    Fact(command=c.RecordFollowUpNotPossible, event=outcomes.FollowUpNotPossible,
         path="follow-ups/not-possible", roles=CARE,
         title="Record that a follow-up measurement was not possible",
         help="Not reached, refused, deceased or another reason (with a note): itself an"
         " outcome, and it settles the moment as a measurement does (the attention item"
         " links to the measurement's form, which offers this one). Also after the file"
         " was closed.",
         form=Form("follow-up-not-possible", "outcomes"),
         element=None, lane=OnTimeline("aftercare", "mark", "follow-up-missed")),
    Fact(command=c.MeasureFollowUp, event=outcomes.FollowUpMeasured,
         path="follow-ups", roles=CARE, title="Record a follow-up measurement",
         help="An outcome measurement (effectmeting) at one of the protocol's moments after"
         " residential care (at its end, and 6, 12 and 24 months after by default): living"
         " situation, school or work, qualification, revictimisation and runaways since,"
         " contact with the loverboy or his network, and scores of validated instruments."
         " Also after the file was closed.",
         form=Form("follow-up", "outcomes"),
         criteria=("follow-up",),
         element=Evidence(15, "follow-up"), lane=OnTimeline("aftercare", "mark", "follow-up")),
    Fact(command=c.RecordYouthCareItems, event=intake.YouthCareItemsRecorded,
         path="youth-care-items", roles=COORDINATOR, title="Record the items for CBS",
         help="Her citizen service number once it is known, or an item of"
         " Beleidsinformatie Jeugd the intake did not record (sex, municipality, referrer,"
         " form of care, started in crisis). Only what you fill in changes.",
         form=Form("youth-care-items", "end"),
         element=None, lane=None),
    Fact(command=c.RecordCareOutcome, event=outcomes.CareOutcomeRecorded,
         path="care-outcomes", roles=COORDINATOR, title="Record the outcome of care",
         help="At the end of care (also after the file was closed): was she satisfied with"
         " the use of the care, can she go on without help, who answered, and per goal of"
         " the treatment plan whether it was attained. The national outcome criteria of"
         " Beleidsinformatie Jeugd, delivered to CBS.",
         form=Form("care-outcome", "end"),
         element=None, lane=None),
    # -- the end, and corrections ------------------------------------------------------------
    Fact(command=c.CloseTrajectory, body=bounded.CloseTrajectory,
         event=closure.TrajectoryClosed,
         path="closure", roles=COORDINATOR, title="Close the trajectory",
         form=Form("closure", "end"),
         element=None, lane=None),
    Fact(command=c.CorrectEntry, event=closure.EntryCorrected,
         path="corrections", roles=COORDINATOR, title="Correct or mark an entry in error",
         form=Form("correction", "end"),
         element=None, lane=None, also=(closure.EntryMarkedInError,)),
    # -- privacy: research consent and early destruction ---------------------------------
    Fact(command=c.GiveResearchConsent, event=privacy.ResearchConsentGiven,
         path="research-consents", roles=COORDINATOR, title="Record research consent",
         form=Form("research-consent", "privacy"),
         element=None, lane=None),
    Fact(command=c.WithdrawResearchConsent, event=privacy.ResearchConsentWithdrawn,
         path="research-consents/withdrawal", roles=COORDINATOR,
         title="Record withdrawal of research consent",
         form=Form("research-consent-withdrawal", "privacy"),
         element=None, lane=None),
    Fact(command=c.RequestDestruction, event=privacy.DestructionRequested,
         path="destruction-requests", roles=COORDINATOR, title="Record a destruction request",
         form=Form("destruction-request", "privacy"),
         element=None, lane=None),
    Fact(command=c.DecideDestructionRequest, event=privacy.DestructionRequestDecided,
         path="destruction-requests/decision", roles=COORDINATOR,
         title="Grant or refuse the destruction request",
         form=Form("destruction-decision", "privacy"),
         element=None, lane=None),
    # -- who is responsible: her team and her coordinator ----------------------------------
    Fact(command=c.AssignTeam, event=teams.TeamAssigned,
         path="team-assignments", roles=COORDINATOR, title="Place her with a team",
         help="The coordinators of her team see her file and record on it; those of her"
         " earlier team no longer do, from the day given.",
         form=Form("team", "team"),
         element=None, lane=None),
    Fact(command=c.AssignCoordinator, event=teams.CoordinatorAssigned,
         path="coordinator-assignments", roles=COORDINATOR,
         title="Make a coordinator responsible",
         help="The responsible coordinator sees her file whichever team she is in.",
         form=Form("coordinator", "team"),
         element=None, lane=None),
)

EXCHANGE_FACTS: dict[type[c.Command], type[TrajectoryEvent]] = {
    c.RecordHandoverExport: handover.HandoverExported,
}
"""Facts the exchange with other installations records (`trajectory.exchange.handover`),
never a route or a form: a `HandoverExported` says a sealed bundle was made, so only the
code that made it records it (through the one write path, with its rules)."""
