"""Realistic synthetic trajectories: what `trajectory demo` writes.

Every fact goes through the application's commands, so the phase protocol checks it as it
would check a coordinator's entry: the demo never writes an event itself, and a story the
rules refuse is a bug in the story. Names, places and texts are invented and recognisably
fake ("Demo Meisje 07", "De Demo-haven"); user ids start with `demo-`.

How a girl is written: her story is planned first, as commands on days after intake; then
her intake date is chosen so that the story ends on or before today, 6 to 24 months after
intake; then the facts are recorded in order, each with its `occurred_on`, through the one
write path (trajectory.writing) as every adapter's facts are. The demo's write path has a
clock of its own that reads the day of the fact being recorded: the rules judge each fact
on the day it happened, as they did for the coordinator who recorded it that day (a care
analysis counts as current for three months from its own date, not from the day the demo
runs). The application's own clock, and the logging, are left alone: the demo may run
beside an application that serves requests.

Deterministic for a seed: the same stories, dates and texts. Ids (random UUIDs) and hashes
(which cover the recording time) differ per run. Written for the default protocol's three
phases; caps are read from the protocol in force.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import msgspec

from trajectory.aggregates.events.handover import (
    ExternalReceiver,
    HandoverPackage,
    WithoutHandover,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.outcomes import GoalOutcome, InstrumentScore
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    RISK_PROFILES,
    CareForm,
    ClosureReason,
    ComenshaDecision,
    ComenshaSender,
    ConsentGiver,
    ContactLevel,
    ContactRisk,
    Destination,
    FollowUpNotPossibleReason,
    GoalAttained,
    InterventionKind,
    Level,
    MedicalNeed,
    Nationality,
    OutcomeAnswer,
    PermissionKind,
    PlacementKind,
    RiskProfile,
    SafetyMeasure,
    Setting,
    TherapyMethod,
    VictimStatus,
    contact_rank,
    level_rank,
)
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import AMSTERDAM, amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    ArrangeEducation,
    AssessMedicalCare,
    AssessNetworkContactRisk,
    AssignTeam,
    ChangePermission,
    ChangeVictimStatus,
    CloseTrajectory,
    Command,
    CompleteTraumaTherapy,
    CorrectEntry,
    DecideComenshaRegistration,
    DecideContinuationAfter18,
    DecidePlacement,
    DeliverIntervention,
    DiscussPoliceReport,
    EndAftercare,
    EndRunaway,
    FilePoliceReport,
    GiveResearchConsent,
    HoldCaseConference,
    HoldHandoverMeeting,
    HoldTraumaTherapySession,
    InterpretSignals,
    MeasureFollowUp,
    ObtainQualification,
    OpenTrajectory,
    PrepareHandover,
    RecordAftercareContact,
    RecordAftercareContactDetails,
    RecordCareAnalysis,
    RecordCareOutcome,
    RecordComenshaAcknowledgement,
    RecordEducationProgress,
    RecordFamilyInvolvement,
    RecordFollowUpNotPossible,
    RecordSafetyAnalysis,
    RecordSignal,
    RegisterNetworkContact,
    ReportRevictimisation,
    ReportRunaway,
    ReportToComensha,
    RestoreNetworkContact,
    SetTreatmentPlan,
    StartAftercare,
    StartTraumaTherapy,
    TransitionPhase,
)
from trajectory.identity.teams import Teams
from trajectory.identity.users import UserStore
from trajectory.logs import Progress
from trajectory.organisation.demo import record_demo_duties
from trajectory.protocol.model import Protocol
from trajectory.protocol.registry import ProtocolRegistry
from trajectory.writing import WritePath

ORGANISATIONS = ("demo-org-noord", "demo-org-midden", "demo-org-zuid")
COORDINATORS = tuple(
    Actor(user_id=f"demo-coord-{n}", role="coordinator", organisation=ORGANISATIONS[(n - 1) // 2])
    for n in range(1, 7)
)
# Two teams per organisation, a coordinator in each (the odd-numbered in the group home,
# the even-numbered in the ambulatory team): each girl is placed with her coordinator's
# team at intake; some move to the other team later (`TeamAssigned`), her coordinator
# staying responsible for her.
TEAMS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "demo-org-noord": (("demo-team-noord-1", "Groepswonen De Linde"),
                       ("demo-team-noord-2", "Ambulant team Noord")),
    "demo-org-midden": (("demo-team-midden-1", "Groepswonen De Eik"),
                        ("demo-team-midden-2", "Ambulant team Midden")),
    "demo-org-zuid": (("demo-team-zuid-1", "Groepswonen De Wilg"),
                      ("demo-team-zuid-2", "Ambulant team Zuid")),
}


def team_of(coordinator: Actor) -> int:
    """Which of her organisation's two teams a demo coordinator belongs to (0 or 1)."""
    return (int(coordinator.user_id.rsplit("-", 1)[1]) - 1) % 2


# One aftercare organisation, a worker per region (`serve --demo` issues demo-after-1 a token).
AFTERCARE_ORGANISATION = "demo-nazorg"
AFTERCARE_WORKERS = tuple(
    Actor(user_id=f"demo-after-{n}", role="aftercare", organisation=AFTERCARE_ORGANISATION)
    for n in range(1, len(ORGANISATIONS) + 1)
)
REGIONS = (
    ("Demo-Groningen", "Noord-Nederland"),
    ("Demo-Zwolle", "Oost-Nederland"),
    ("Demo-Utrecht", "Midden-Nederland"),
    ("Demo-Rotterdam", "Rotterdam"),
    ("Demo-Den Haag", "Den Haag"),
    ("Demo-Eindhoven", "Oost-Brabant"),
    ("Demo-Maastricht", "Limburg"),
    ("Demo-Amsterdam", "Amsterdam"),
)
PLACEMENTS: dict[Setting, PlacementKind] = {
    "residential": "homogeneous_group", "ambulatory": "ambulatory", "closed": "closed"
}
# Homogeneous girls' group unless: every other placement carries its argument.
PLACEMENT_ARGUMENTS: dict[PlacementKind, str | None] = {
    "homogeneous_group": None,
    "mixed_group": "Geen plek in een meidengroep in de regio; gemengde groep met extra"
    " toezicht (demo).",
    "ambulatory": "Veiligheid thuis gewaarborgd: ouders beschermend, pleger in beeld bij"
    " politie (demo).",
    "closed": "Ernstig gevaar van onttrekking; machtiging gesloten jeugdhulp (demo).",
}
MIN_DAYS_SINCE_INTAKE = 183  # intake 6 to 24 months before today
MAX_DAYS_SINCE_INTAKE = 730
CARE_ANALYSIS_EVERY = 77  # days; the protocol asks every three months (91)

Factory = Callable[["_Girl"], Command]


@dataclass(frozen=True)
class _Step:
    day: int  # days after intake
    make: Factory
    aftercare: bool = False  # recorded by her aftercare worker, else by her coordinator
    key: str | None = None  # remember the position (and a new contact's id) under this key


@dataclass
class _PlannedContact:
    risk: ContactRisk
    level: ContactLevel = "none"


@dataclass
class _Girl:
    """One girl while her planned story is recorded: what later steps refer to."""

    trajectory_id: UUID
    intake_date: date
    date_of_birth: date
    contacts: dict[str, str] = field(default_factory=dict)  # key -> contact id
    positions: dict[str, int] = field(default_factory=dict)  # key -> event position

    def on(self, day: int) -> date:
        return self.intake_date + timedelta(days=day)

    def age_on(self, day: int) -> int:
        on, born = self.on(day), self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _fixed(command: Command) -> Factory:
    return lambda _girl: command


class _Plan:
    """A girl's story as commands on days after intake, kept valid by a model of the rules.

    The model mirrors what the aggregate will hold (phase, permissions, contact levels,
    the last care analysis), so that every planned command is one the rules accept.
    """

    def __init__(self, rng: random.Random, protocol: Protocol, setting: Setting):
        self.rng = rng
        self.protocol = protocol
        self.setting: Setting = setting
        self.steps: list[_Step] = []
        self.day = 0
        self.phase = 1
        self.phase_since = 0
        self.permissions: dict[PermissionKind, Level] = dict.fromkeys(PERMISSION_KINDS, "none")
        self.contacts: dict[str, _PlannedContact] = {}
        self.last_care_analysis: int | None = None
        self.sessions_left: int | None = None  # therapy running: sessions still to come
        self.therapy: TherapyMethod | None = None  # the method, when a story decides it
        self.therapy_started = False
        self.sessions_held = 0
        self.family = True  # the family can be involved (not when that is unsafe)
        self.in_aftercare = False
        self.slack = 0  # days between the last fact and today
        self.birth = (0, rng.randint(13 * 365 + 40, 17 * 365 + 200))  # (day, age in days then)
        self.victim_status: VictimStatus = "suspected"
        self.risk_profiles: list[RiskProfile] = sorted(
            rng.sample(RISK_PROFILES, rng.randint(1, 3)), key=RISK_PROFILES.index
        )
        self.region = rng.choice(REGIONS)
        self.turns_18_in: int | None = None  # days from today to her 18th birthday, if set
        self.left_day: int | None = None  # the day residential care ended, once it has
        # The outcomes research asks about draw from a stream of their own, so that adding
        # them left every other draw (and so every intake date, age and profile) as it was.
        self.outcomes = random.Random(0)
        self.measured: list[int] = []  # the days of her follow-up measurements
        # Her nationality and the CoMensha report draw from a stream of their own too (they
        # came later): every other draw stays as it was.
        self.registration = random.Random(0)
        self.nationality: Nationality = "unknown"
        self.registering_step: int | None = None  # the step deciding to register her
        self.closed_step: int | None = None  # the step closing her file, once planned
        # Beleidsinformatie Jeugd (issue 20): the outcome of care at its end, from a stream
        # of its own (every other draw stays as it was), and the goals of her plan.
        self.bij = random.Random(0)
        self.plan_goals: list[str] = []

    # -- the calendar ---------------------------------------------------------------
    def wait(self, low: int, high: int) -> None:
        self.day += self.rng.randint(low, high)

    def do(
        self, command: Command | Factory, *, key: str | None = None, aftercare: bool = False
    ) -> None:
        make = _fixed(command) if isinstance(command, Command) else command
        self.steps.append(_Step(self.day, make, aftercare=aftercare, key=key))

    # -- decisions kept within the protocol -----------------------------------------
    def permit(self, kind: PermissionKind, level: Level, reason: str) -> None:
        cap = self.protocol.phase_spec(self.phase).caps[kind]
        if level_rank(kind, level) > level_rank(kind, cap):
            level = cap
        if self.permissions[kind] == level:
            return
        self.permissions[kind] = level
        self.do(ChangePermission(kind=kind, level=level, reason=reason))

    def register(self, key: str, role: str, risk: ContactRisk, note: str) -> None:
        self.contacts[key] = _PlannedContact(risk)
        self.do(RegisterNetworkContact(role=role, risk=risk, note=note), key=key)

    def restore(self, key: str, level: ContactLevel, reason: str) -> None:
        contact = self.contacts[key]
        if contact.risk == "prohibited":
            return
        cap = self.protocol.phase_spec(self.phase).network[contact.risk]
        if contact_rank(level) > contact_rank(cap):
            level = cap
        if level == "none" or contact_rank(level) <= contact_rank(contact.level):
            return
        contact.level = level
        self.do(
            lambda g: RestoreNetworkContact(contact_id=g.contacts[key], level=level, reason=reason)
        )

    def assess(self, key: str, risk: ContactRisk, reason: str) -> None:
        contact = self.contacts[key]
        if contact.risk == risk:
            return
        contact.risk = risk
        if risk == "prohibited":
            contact.level = "none"
        else:
            cap = self.protocol.phase_spec(self.phase).network[risk]
            if contact_rank(contact.level) > contact_rank(cap):
                contact.level = cap
        self.do(
            lambda g: AssessNetworkContactRisk(contact_id=g.contacts[key], risk=risk, reason=reason)
        )

    def advance(self, reason: str, waivers: tuple[Waiver, ...] = ()) -> None:
        self.phase += 1
        self.phase_since = self.day
        self.do(TransitionPhase(to_phase=self.phase, reason=reason, waivers=list(waivers)))

    def regress(self, to_phase: int, reason: str) -> None:
        """Back to a lower phase; the aggregate caps what is above the new phase's caps."""
        self.phase = to_phase
        self.phase_since = self.day
        spec = self.protocol.phase_spec(to_phase)
        for kind in PERMISSION_KINDS:
            if level_rank(kind, self.permissions[kind]) > level_rank(kind, spec.caps[kind]):
                self.permissions[kind] = spec.caps[kind]
        for contact in self.contacts.values():
            cap: ContactLevel = (
                "none" if contact.risk == "prohibited" else spec.network[contact.risk]
            )
            if contact_rank(contact.level) > contact_rank(cap):
                contact.level = cap
        self.do(TransitionPhase(to_phase=to_phase, reason=reason))

    def wait_for_phase(self, extra: tuple[int, int] = (0, 12)) -> None:
        """Wait until the next phase's minimum days in this phase have passed."""
        needed = self.protocol.phase_spec(self.phase + 1).min_days_in_previous_phase
        self.day = max(self.day, self.phase_since + needed) + self.rng.randint(*extra)

    # -- facts ------------------------------------------------------------------------
    def safety_analysis(self, note: str) -> None:
        rng = self.rng
        measures: list[SafetyMeasure] = [
            "parent_agreements", "phone_restriction", "runaway_agreements"
        ]
        if self.setting == "closed":
            measures.append("temporary_closed_setting")
        if rng.random() < 0.3:
            measures.append("other_region")
        police = rng.random() < 0.7
        if police:
            measures.append("police_involved")
        self.do(
            RecordSafetyAnalysis(
                instrument="Demo veiligheidsanalyse (gestructureerd)",
                physical_safety=rng.choice(["concerns", "unsafe", "concerns"]),
                experienced_safety=rng.choice(["concerns", "unsafe"]),
                risks=sorted(
                    rng.sample(
                        ["internet_social_media", "runaway", "trafficker_contact", "network"],
                        rng.randint(2, 4),
                    )
                ),
                runaway_risk=rng.choice(["medium", "high", "high"]),
                measures=sorted(measures),
                police_involved=police,
                notes=note,
            )
        )

    def medical(self, needs: list[MedicalNeed], note: str, key: str | None = None) -> None:
        self.do(
            AssessMedicalCare(needs=needs, provider="Demo Centrum Seksueel Geweld", notes=note),
            key=key,
        )

    def care_analysis(self) -> None:
        rng = self.rng
        first = self.last_care_analysis is None
        self.last_care_analysis = self.day
        self.do(
            RecordCareAnalysis(
                disciplines=rng.sample(
                    ["gedragswetenschapper", "psychiater", "mentor", "maatschappelijk werker",
                     "jeugdarts"],
                    rng.randint(2, 4),
                ),
                abuse_circumstances="Geworven via sociale media door een oudere 'vriend' (demo)."
                if first
                else "",
                abuse_nature="Seksuele uitbuiting (demo)." if first else "",
                abuse_frequency=rng.choice(["meerdere keren per week", "wekelijks", "onbekend"]),
                upper_problems="Weglopen, wantrouwen naar volwassenen (demo).",
                underlying_problems="Hechtingsproblematiek en trauma (demo).",
                education_history="Schooluitval in de tweede klas (demo)." if first else "",
                risky_contacts_and_places="Station en winkelcentrum in de stad (demo).",
                strengths=rng.choice(
                    ["Sportief, zorgzaam voor jongere zus.", "Creatief, wil kapster worden.",
                     "Doorzetter, goed in rekenen."]
                ),
                needs="Veiligheid, structuur, traumaverwerking (demo).",
            )
        )

    def care_analysis_if_due(self, within: int = CARE_ANALYSIS_EVERY) -> None:
        if self.last_care_analysis is not None and self.day - self.last_care_analysis >= within:
            self.care_analysis()

    def research_consent(self) -> None:
        """Four in five girls (or their parents) consent to research, so that an export
        can be tried on the demo data; the others show how girls are left out."""
        if self.rng.random() >= 0.8:
            return
        day = self.day

        def consent(g: _Girl) -> Command:
            giver: ConsentGiver = "girl" if g.age_on(day) >= 16 else "parent"
            return GiveResearchConsent(given_by=giver, note="Toestemming voor onderzoek (demo).")

        self.do(consent)

    def comensha(self, decision: ComenshaDecision) -> None:
        self.research_consent()
        if decision == "registered_by_name":
            consent: ConsentGiver = self.rng.choice(["parent", "guardian", "girl"])
            day = self.day

            def by_name(g: _Girl) -> Command:
                giver = consent if consent != "girl" or g.age_on(day) >= 16 else "parent"
                return DecideComenshaRegistration(decision=decision, consent_by=giver)

            self.do(by_name)
            self.registering_step = len(self.steps) - 1
        elif decision == "registered_by_date_of_birth":
            self.do(
                DecideComenshaRegistration(
                    decision=decision,
                    argument="Toestemming vragen schaadt nu de werkrelatie met ouders;"
                    " geregistreerd op geboortedatum (demo).",
                )
            )
            self.registering_step = len(self.steps) - 1
        else:
            self.do(
                DecideComenshaRegistration(
                    decision=decision,
                    argument="Na onderzoek geen signalen van uitbuiting; opnieuw bezien bij"
                    " nieuwe signalen (demo).",
                )
            )

    def intervention(self, kinds: tuple[InterventionKind, ...], key: str | None = None) -> None:
        kind = self.rng.choice(kinds)
        self.do(
            DeliverIntervention(kind=kind, provider="Demo-team", note="Groepsaanbod (demo)."),
            key=key,
        )

    def start_therapy(self) -> None:
        rng = self.rng
        method: TherapyMethod = (
            rng.choice(["emdr", "emdr", "cbt", "other"]) if self.therapy is None else self.therapy
        )
        reason = (
            "Traumagerichte speltherapie: EMDR te belastend bij licht verstandelijke"
            " beperking (demo)."
            if method == "other"
            else None
        )
        self.do(StartTraumaTherapy(method=method, provider="Demo jeugd-ggz", reason=reason))
        self.sessions_left = rng.randint(6, 14)
        self.therapy_started = True

    def finish_therapy(self) -> None:
        if self.sessions_left is not None:
            self.sessions_left = None
            self.do(CompleteTraumaTherapy(outcome="Klachten verminderd; afgerond (demo)."))

    # -- segments of a story --------------------------------------------------------------
    def stabilisation(
        self, comensha: ComenshaDecision, *, education: bool = True, family: bool = True
    ) -> None:
        """Phase 1: safety, medical care, analysis and plan; the network in view."""
        rng = self.rng
        self.family = family
        self.do(RecordSignal(kind="loverboy", note="Signalen van uitbuiting bij aanmelding."))
        day = self.day
        self.do(lambda g: InterpretSignals(
            disciplines=["behavioural_scientist", "police", "youth_protection"],
            together=True, discussed_with_her=True, discussed_on=g.on(day),
            note="Samen geduid in het multidisciplinair overleg; met haar besproken.",
        ))
        kind: PlacementKind = PLACEMENTS[self.setting]
        if kind == "homogeneous_group" and rng.random() < 0.2:
            kind = "mixed_group"
        placement = DecidePlacement(
            kind=kind, region=self.region[0], argument=PLACEMENT_ARGUMENTS[kind]
        )
        # Ambulatory treatment waits for the safety analysis (the floor); a residential
        # or closed placement is decided at once.
        at_home = kind == "ambulatory"
        if not at_home:
            self.do(placement)
        honour = "honour_related" in self.risk_profiles
        self.register("mother", "moeder", "safe", "Beschermend, wil meewerken.")
        self.register("lover", "vermoedelijke loverboy", "prohibited", "Nooit contact.")
        if honour:
            self.register("father", "vader", "risky", "Eergerelateerde dreiging (demo).")
        friend_risk: ContactRisk = rng.choice(["risky", "unknown"])
        self.register("friend", "vriendin", friend_risk, "Kent de vermoedelijke loverboy.")
        self.wait(1, 3)
        self.safety_analysis("Eerste veiligheidsanalyse na opname.")
        if at_home:
            self.do(placement)
        self.wait(0, 2)
        needs: list[MedicalNeed] = sorted(
            rng.sample(["sti_test", "pregnancy", "medication", "forensic_exam"], rng.randint(1, 2))
        )
        self.medical(needs, "Acute medische zorg na opname.", key="medical")
        self.wait(0, 2)
        self.permit("phone", "supervised", "Bellen onder toezicht, alleen veilige contacten.")
        self.permit("internet", "supervised", "Internet alleen onder toezicht op school.")
        if education:
            self.wait(1, 4)
            self.do(ArrangeEducation(school="Demo-school De Brug", level=rng.choice(
                ["vmbo", "praktijkonderwijs", "mbo 1", "havo"])))
        self.wait(2, 6)
        self.do(DiscussPoliceReport(outcome=rng.choice(
            ["Wil nog geen aangifte doen; later opnieuw bespreken.", "Wil aangifte doen."])))
        self.wait(3, 7)
        self.restore("mother", "supervised", "Moeder is een veilig contact; bezoek onder toezicht.")
        self.wait(1, 5)
        self.permit("leave", "accompanied", "Begeleid verlof met groepsleiding.")
        if family:
            self.wait(1, 6)
            self.do(RecordFamilyInvolvement(
                form="family_meeting", participants=["moeder"], note="Kennismaking en uitleg."))
        self.wait(2, 6)
        self.do(HoldCaseConference(
            partners=["politie", "Demo jeugdbescherming", "gemeente"], note="Zorgtafel (demo)."))
        self.day = max(self.day, rng.randint(14, 26))
        self.comensha(comensha)
        self.wait(1, 6)
        self.care_analysis()
        self.wait(1, 4)
        self.plan_goals = ["Veiligheid en stabiliteit", "Traumaverwerking",
                           "Onderwijs hervatten", "Netwerk herstellen"]
        self.do(SetTreatmentPlan(goals=list(self.plan_goals),
                                 summary="Behandelplan na de eerste analyse (demo)."))
        self.wait(1, 5)
        self.intervention(("resilience_training", "body_oriented"))

    def processing_start(self) -> None:
        """Early phase 2: therapy starts, a little more room, contacts rebuilt."""
        self.wait(2, 12)
        if not self.therapy_started:
            self.start_therapy()
        self.wait(3, 10)
        self.permit("phone", "limited", "Fase 2: eigen telefoon op vaste tijden.")
        self.restore("mother", "unsupervised", "Bezoek van moeder zonder toezicht.")
        self.wait(3, 10)
        self.permit("contact_with_boys", "supervised", "Contact met jongens onder begeleiding.")
        if self.contacts["friend"].risk == "unknown":
            self.assess("friend", self.rng.choice(["safe", "risky"]), "Netwerkanalyse afgerond.")
        self.restore("friend", "supervised", "Contact met vriendin onder toezicht.")
        self.wait(3, 10)
        self.intervention(("psycho_education_relationships", "social_skills"))

    def integration_start(self) -> None:
        """Early phase 3: practise independence."""
        self.wait(2, 10)
        self.permit("internet", "limited", "Fase 3: beperkt internet zonder toezicht.")
        self.permit("social_media", "limited", "Fase 3: eigen account, afspraken over gebruik.")
        self.permit("phone", "free", "Fase 3: vrij telefoongebruik.")
        self.wait(3, 10)
        self.permit("leave", "unaccompanied", "Fase 3: onbegeleid verlof naar huis.")
        self.permit("contact_with_boys", "limited", "Fase 3: afspraken met jongens, besproken.")
        self.wait(3, 10)
        self.intervention(("experiential_expert", "psycho_education_sexuality"))

    def ordinary_week(self) -> None:
        """A week in care: therapy, school, the three-monthly analysis now and then."""
        rng = self.rng
        self.wait(6, 13)
        self.care_analysis_if_due()
        if self.sessions_left is not None:
            if self.sessions_left > 0:
                self.sessions_left -= 1
                self.sessions_held += 1
                self.do(HoldTraumaTherapySession(note=f"Sessie {self.sessions_held} (demo)."))
            else:
                self.finish_therapy()
        roll = rng.random()
        if roll < 0.25:
            self.do(RecordEducationProgress(
                attending=rng.random() < 0.85, note="Voortgang besproken met mentor (demo)."))
        elif roll < 0.35:
            self.intervention(("resilience_training", "social_skills", "problem_solving_skills",
                               "psycho_education_relationships"))
        elif roll < 0.42 and self.family:
            self.do(RecordFamilyInvolvement(
                form=rng.choice(["system_therapy", "parent_counselling", "network_meeting"]),
                participants=["moeder"], note="Gezinsgesprek (demo)."))
        elif roll < 0.46:
            self.do(HoldCaseConference(partners=["politie", "Demo jeugd-ggz"],
                                       note="Voortgang in de keten (demo)."))

    def carry_on(self, until: int) -> None:
        while self.day < until:
            self.ordinary_week()

    def ready_for_integration(self) -> None:
        self.care_analysis_if_due(within=60)
        self.wait(1, 5)

    def runaway(
        self, *, regress_to: int | None, returns: bool = True, in_aftercare: bool = False
    ) -> None:
        """She runs away: search with the police; on return medical care and safety first.
        In aftercare her aftercare worker reports it, and her coordinator does the checks."""
        rng = self.rng
        region, force = self.region
        by_aftercare = in_aftercare
        self.do(ReportRunaway(
            from_where=rng.choice(["groep De Demo-haven", "school", "begeleid verlof"]),
            suspected_destination=f"{region} (adres onbekend)",
            suspected_with="vermoedelijke loverboy",
            how=rng.choice(["opgehaald met een auto", "met de trein", "via een vriendin"]),
            police_forces_informed=["Politie eenheid Midden-Nederland", f"Politie eenheid {force}"],
            home_region_police_informed=True,
            missing_since="22:15",
            police_report_number="PL0900-DEMO-0001",
            informed=["parents", "gi", "police"],
        ), aftercare=by_aftercare)
        self.do(RecordSignal(kind="runaway", note="Onttrekking gemeld bij politie."))
        if not returns:
            return
        self.wait(1, 9)
        self.do(EndRunaway(ending=rng.choice(["returned", "found"]),
                           note="Terug (demo).", returned_at="06:40"), aftercare=by_aftercare)
        self.wait(0, 1)
        self.medical(["sti_test", "first_aid"], "Medische check na terugkeer.")
        self.safety_analysis("Nieuwe veiligheidsanalyse na terugkeer.")
        if self.contacts["friend"].risk != "prohibited":
            self.assess("friend", "prohibited", "Vriendin hielp bij het weglopen.")
        if regress_to is not None and regress_to < self.phase:
            self.wait(0, 1)
            self.regress(regress_to, "Weggelopen naar de vermoedelijke loverboy; terug naar"
                                     f" fase {regress_to} voor structuur en veiligheid.")

    def handover(
        self,
        worker: Actor | None,
        *,
        accept: bool = True,
        start: bool = True,
        destination: Destination = "independent",
    ) -> None:
        """The warm handover to her aftercare worker, and aftercare starting; `worker`
        None: to a receiver outside this installation (a transfer), whose acceptance her
        coordinator records as it was confirmed."""
        self.wait(3, 10)
        package = HandoverPackage(
            sexual_development="Leeftijdsadequaat; seksueel misbruik in de voorgeschiedenis.",
            loverboy_problem="Slachtoffer van een (vermoedelijke) loverboy; pleger bekend"
            " bij politie (demo).",
            safety_plan="Geen contact met verboden contacten; signaalplan bij weglopen.",
            agreements="Wekelijks contact; wijkagent op de hoogte.",
            aftercare_plan="Zes maanden nazorg, daarna evaluatie (demo).",
            contact_every_days=self.rng.choice([7, 14]),
        )
        if worker is None:
            self.do(PrepareHandover(
                receiving_organisation="Demo Jeugdzorg Elders",
                external_receiver=ExternalReceiver(
                    organisation="Demo Jeugdzorg Elders", worker="Demo Ontvanger",
                    contact="010-0000000 (demo)"),
                package=package,
            ))
        else:
            self.do(PrepareHandover(
                receiving_organisation=worker.organisation,
                receiving_worker=worker.user_id,
                package=package,
            ))
        self.wait(3, 10)
        self.do(HoldHandoverMeeting(
            girl_present=True, sending_worker_present=True, receiving_worker_present=True,
            note="Warme overdracht bij haar thuis (demo)."))
        if not accept:
            return
        self.wait(1, 7)
        if worker is None:
            self.do(AcceptHandover(confirmation="Per e-mail bevestigd door de ontvanger (demo)."))
            return
        self.do(AcceptHandover(), aftercare=True)
        if start:
            self.wait(0, 4)
            self.do(StartAftercare(plan="Wekelijks contact, daarna tweewekelijks (demo).",
                                   destination=destination), aftercare=True)
            self.in_aftercare = True
            self.left_day = self.day
            self.wait(0, 3)
            self.do(RecordAftercareContactDetails(
                phone="06-00000000 (demo)", address="Demostraat 1, Demo-stad",
                school_or_work="Demo-college, mbo 2"), aftercare=True)

    def aftercare(self, until: int) -> None:
        """Contacts at the agreed frequency; now and then one does not reach her, and the
        worker tries again within days."""
        while self.day < until:
            self.wait(5, 12)
            if self.rng.random() < 0.25:
                self.do(RecordAftercareContact(
                    channel=self.rng.choice(["phone", "message"]), outcome="not_reached",
                    note="Geen reactie (demo)."), aftercare=True)
                self.wait(1, 3)
            self.do(RecordAftercareContact(
                channel=self.rng.choice(["visit", "visit", "phone", "video"]),
                note="Gaat goed; school en werk besproken (demo)."), aftercare=True)

    def close(
        self,
        reason: ClosureReason,
        note: str,
        destination: Destination | None = None,
        *,
        without_handover: WithoutHandover | None = None,
        responsible_next: str = "",
    ) -> None:
        if self.closed_step is None:
            self.closed_step = len(self.steps)
        self.do(CloseTrajectory(
            reason=reason, note=note, destination=destination,
            without_handover=without_handover, responsible_next=responsible_next))
        if self.left_day is None:
            self.left_day = self.day

    def report_to_comensha(self) -> None:
        """After a decision to register her: the report sent within days (a few late), and
        CoMensha's acknowledgement (mostly) a week or weeks later. Planned once the story
        is told (a step of its own day, before her file is closed and not after today),
        from the registration stream: the story's own draws stay as they were."""
        if self.registering_step is None:
            return
        draws = self.registration
        decided = self.steps[self.registering_step].day
        last = self.day + self.slack  # today
        if self.closed_step is not None:
            last = min(last, self.steps[self.closed_step].day)
        sent = min(decided + draws.choice([0, 1, 2, 3, 5, 8, 14, 30]), last)
        sender: ComenshaSender = draws.choice(
            ["coordinator", "coordinator", "designated_officer"]
        )
        at = self._insert(sent, ReportToComensha(sent_by=sender), after=self.registering_step)
        if draws.random() < 0.85:
            acknowledged = sent + draws.randint(3, 35)
            if acknowledged <= last:
                reference = f"CM-demo-{draws.randint(10000, 99999)}"
                self._insert(
                    acknowledged, RecordComenshaAcknowledgement(reference=reference), after=at
                )

    def _insert(self, day: int, command: Command, *, after: int) -> int:
        """A step on `day`, among the planned steps in order of their days (after step
        `after`, before her file is closed); returns its index."""
        at = after + 1
        while at < len(self.steps) and self.steps[at].day <= day and at != self.closed_step:
            at += 1
        self.steps.insert(at, _Step(day, _fixed(command)))
        if self.closed_step is not None and at <= self.closed_step:
            self.closed_step += 1
        return at

    # -- outcomes: follow-up measurements and revictimisation ----------------------------
    def at_moment(self, months: int) -> None:
        """Wait until a follow-up moment (months after residential care ended), and a few
        days into its window."""
        assert self.left_day is not None
        self.day = max(self.day, self.left_day + round(months * 30.5) + self.rng.randint(1, 20))

    def follow_up(
        self,
        months: int,
        *,
        aftercare: bool = False,
        missed: FollowUpNotPossibleReason | None = None,
        revictimised: bool = False,
        runaways: int = 0,
    ) -> None:
        """The measurement at a moment (or why it was not possible), with the scores of an
        instrument: a demo instrument, for the product ships none."""
        self.at_moment(months)
        if missed is not None:
            self.do(RecordFollowUpNotPossible(
                moment=months, reason=missed,
                note="Meerdere pogingen, geen reactie (demo)." if missed == "not_reached"
                else ""), aftercare=aftercare)
            return
        rng = self.rng
        self.measured.append(self.day)
        subscales = {name: float(rng.randint(0, 10))
                     for name in ("emotioneel", "gedrag", "sociaal")}
        total = sum(subscales.values()) + (6.0 if revictimised else 0.0)
        self.do(MeasureFollowUp(
            moment=months,
            living_situation=rng.choice(
                ["home_with_parents", "independent", "supported_housing", "independent"]),
            school_or_work=rng.choice(["school", "school", "work", "school_and_work", "none"]),
            qualification=rng.choice(["vmbo", "mbo_1", "starting_qualification"]),
            revictimised_since=revictimised,
            runaways_since=runaways,
            loverboy_contact="loverboy" if revictimised else rng.choice(
                ["none", "none", "none", "unknown"]),
            instruments=[InstrumentScore(name="Demo-vragenlijst welzijn", version="1.0",
                                         total=total, subscales=subscales)],
        ), aftercare=aftercare)

    def revictimisation(self, *, aftercare: bool = False, rng: random.Random | None = None
                        ) -> None:
        """A new loverboy contact became known (from her or from the police)."""
        rng = rng or self.rng
        police = rng.random() < 0.5
        self.do(ReportRevictimisation(
            kind=rng.choice(["loverboy_contact", "exploitation"]),
            day_is="became_known",
            known_via="police" if police else "girl_told",
            police_involved=police,
            note="Nieuw contact met de loverboy bekend geworden (demo).",
        ), aftercare=aftercare)


# -- the stories --------------------------------------------------------------------------
def _completed(p: _Plan, worker: Actor) -> None:
    """All phases, EMDR, aftercare, closed; one duplicate entry marked in error."""
    p.therapy = "emdr"
    p.stabilisation("registered_by_name")
    p.wait_for_phase()
    p.advance("Stabiel: alle criteria voor fase 2 zijn gehaald.")
    p.processing_start()
    p.intervention(("social_skills",))
    p.intervention(("social_skills",), key="duplicate")
    p.wait(1, 3)
    p.do(lambda g: CorrectEntry(position=g.positions["duplicate"], action="mark_in_error",
                                reason="Dezelfde training twee keer ingevoerd."))
    p.carry_on(p.day + p.rng.randint(90, 150))
    p.ready_for_integration()
    p.advance("Traumaverwerking loopt goed; klaar voor integratie.")
    p.integration_start()
    p.carry_on(p.day + p.rng.randint(50, 100))
    p.finish_therapy()
    p.do(ObtainQualification(qualification="Entreeopleiding (mbo 1), demo"))
    p.handover(worker)
    p.follow_up(0, aftercare=True)
    p.aftercare(p.day + p.rng.randint(90, 150))
    p.wait(3, 14)
    p.do(EndAftercare(reason="Nazorg afgerond: stabiel, gaat naar school."), aftercare=True)
    p.wait(1, 10)
    p.close("aftercare_completed", "Traject afgerond (demo).")
    # after closure her coordinator measures; now and then a loverboy contact comes to
    # light in between, and the measurement says so
    revictimised = p.rng.random() < 0.4
    if revictimised:
        p.wait(20, 60)
        p.revictimisation()
    p.follow_up(6, revictimised=revictimised, runaways=int(revictimised))
    if p.left_day is not None and p.left_day + 12 * 31 + 40 < MAX_DAYS_SINCE_INTAKE - 30:
        p.follow_up(12, missed="refused" if p.rng.random() < 0.3 else None)
    p.slack = p.rng.randint(5, max(5, MAX_DAYS_SINCE_INTAKE - 20 - p.day))
    # Half of them were nearly 18 at intake: they turn 19 about the time of the last
    # measurement, before it (in view at 19) or after it (not seen at 19).
    if p.outcomes.random() < 0.5:
        birthday = p.outcomes.randint(p.measured[-1] - 60, p.day + p.slack)
        p.birth = (birthday, 19 * 365 + 5)


def _in_aftercare(p: _Plan, worker: Actor) -> None:
    """All phases, now in aftercare; the date of a medical assessment corrected."""
    target = p.rng.randint(330, 620)
    p.stabilisation("registered_by_name")
    p.wait(1, 4)
    medical_day = next(s.day for s in p.steps if s.key == "medical")
    p.do(lambda g: CorrectEntry(
        position=g.positions["medical"], reason="Datum overgenomen uit het verkeerde verslag.",
        corrected_occurred_on=g.on(medical_day - 1)))
    p.wait_for_phase()
    p.advance("Stabiel: alle criteria voor fase 2 zijn gehaald.")
    p.processing_start()
    p.carry_on(p.day + p.rng.randint(80, 140))
    p.ready_for_integration()
    p.advance("Klaar voor integratie.")
    p.integration_start()
    p.carry_on(p.day + p.rng.randint(40, 90))
    p.finish_therapy()
    p.handover(worker, destination=p.rng.choice(["home_with_parents", "supported_housing"]))
    p.follow_up(0, aftercare=True)
    p.aftercare(p.day + 30)
    p.runaway(regress_to=None, in_aftercare=True)  # a runaway in aftercare, and the checks
    p.wait(1, 5)
    p.revictimisation(aftercare=True)  # she ran to him: a new contact became known
    p.wait(1, 5)
    p.do(DecideContinuationAfter18(decision="aftercare_by_organisation",
                                   argument="Nazorg door ons loopt door na haar 18e (demo)."))
    p.aftercare(max(target, p.day + 30))
    overdue = p.rng.random() < 0.4  # now and then the aftercare contact is overdue
    p.slack = p.rng.randint(30, 38) if overdue else p.rng.randint(0, 12)


def _ran_away_and_regressed(p: _Plan, worker: Actor) -> None:
    """Phase 2, a runaway, back to phase 1 (permissions capped), phase 2 again."""
    target = p.rng.randint(220, 480)
    p.stabilisation("registered_by_name")
    p.wait_for_phase()
    p.advance("Stabiel na de eerste weken.")
    p.processing_start()
    p.carry_on(p.day + p.rng.randint(20, 60))
    p.runaway(regress_to=1)
    if p.outcomes.random() < 0.5:  # she ran to him: a new contact became known, in care
        p.revictimisation(rng=p.outcomes)
    p.carry_on(p.day + 20)
    p.wait_for_phase(extra=(2, 14))
    p.advance("Na terugkeer opnieuw stabiel; criteria fase 2 gehaald.")
    p.restore("mother", "unsupervised", "Bezoek van moeder weer zonder toezicht.")
    p.permit("phone", "limited", "Fase 2: eigen telefoon op vaste tijden.")
    p.carry_on(target)
    p.slack = p.rng.randint(0, 6)


def _open_runaway(p: _Plan, worker: Actor) -> None:
    """Back in phase 1 after a runaway, and now gone again: an open runaway."""
    target = p.rng.randint(200, 400)
    p.stabilisation("registered_by_date_of_birth")
    p.wait_for_phase()
    p.advance("Stabiel genoeg voor fase 2.")
    p.processing_start()
    p.carry_on(p.day + p.rng.randint(20, 50))
    p.runaway(regress_to=1)
    if p.outcomes.random() < 0.3:
        p.revictimisation(rng=p.outcomes)
    p.carry_on(target)
    p.runaway(regress_to=None, returns=False)
    p.slack = p.rng.randint(0, 4)


def _waivers_and_pending_handover(p: _Plan, worker: Actor) -> None:
    """Honour-related risk: criteria waived with a justification; handover awaits acceptance."""
    if "honour_related" not in p.risk_profiles:
        p.risk_profiles = sorted([*p.risk_profiles, "honour_related"], key=RISK_PROFILES.index)
    target = p.rng.randint(260, 520)
    p.stabilisation("registered_by_date_of_birth", education=False, family=False)
    p.wait_for_phase()
    p.advance("Stabiel; onderwijs volgt in fase 2.", waivers=(Waiver(
        criterion="education",
        justification="Weigert nog naar school te gaan; in het MDO afgesproken onderwijs in"
        " fase 2 te regelen, eerst dagbesteding op de groep.",
    ),))
    p.wait(5, 15)
    p.do(ArrangeEducation(school="Demo-school De Brug", level="vmbo"))
    p.processing_start()
    p.carry_on(p.day + p.rng.randint(80, 150))
    p.ready_for_integration()
    p.advance("Klaar voor integratie; gezin nog niet veilig te betrekken.", waivers=(Waiver(
        criterion="family-involvement",
        justification="Eergerelateerde dreiging vanuit de familie: betrekken is nu niet veilig;"
        " voogd en netwerkberaad nemen die rol over.",
    ),))
    p.integration_start()
    p.carry_on(max(target - 20, p.day + 20))
    p.handover(worker, accept=False)
    p.slack = p.rng.randint(0, 10)


def _left_early(p: _Plan, worker: Actor) -> None:
    """Closed before the end of treatment: moved away, or 18 and gone, without a handover
    (argued): out of view for the organisation."""
    _leave_care(p, p.rng.choice(["moved_away", "turned_adult_left_care"]))


def _transferred(p: _Plan, worker: Actor) -> None:
    """Transferred mid-care to an organisation outside this installation: the package
    travels, the meeting is warm, her coordinator records the receiver's confirmation."""
    _leave_care(p, "transferred")


def _leave_care(p: _Plan, reason: ClosureReason) -> None:
    potential = reason == "moved_away" and p.rng.random() < 0.5
    if potential:
        p.victim_status = "potential"
    p.stabilisation("not_registered" if potential else "registered_by_name")
    p.wait_for_phase()
    p.advance("Stabiel: criteria fase 2 gehaald.")
    p.processing_start()
    p.carry_on(p.day + p.rng.randint(40, 160))
    note = {
        "transferred": "Overgeplaatst naar een gespecialiseerde instelling in een andere"
        " regio (demo).",
        "moved_away": "Gezin verhuisd naar het buitenland; informatie overgedragen (demo).",
        "turned_adult_left_care": "18 geworden en vrijwillig vertrokken; wijkteam en"
        " wijkagent geïnformeerd (demo).",
        "aftercare_completed": "",
        "other": "",
    }[reason]
    if reason == "transferred":
        # the package travels, warm: to an organisation outside this installation
        p.handover(None)
        p.wait(1, 7)
        p.close(reason, note, "other_youth_care", responsible_next="Demo Jeugdzorg Elders")
    else:
        # gone without a handover, argued: out of view for the organisation from that day
        p.wait(1, 7)
        if reason == "turned_adult_left_care":
            p.birth = (p.day, 18 * 365 + 5 + p.rng.randint(1, 60))
        p.close(reason, note, "unknown" if reason == "moved_away" else "independent",
                without_handover=WithoutHandover(
                    reason="moved_out_of_reach" if reason == "moved_away" else "she_refused",
                    argument="Zij wilde geen overdracht; wijkteam en wijkagent weten dat"
                    " zij vertrok (demo).",
                ))
        # lost to follow-up: her coordinator tries to measure, and does not reach her
        p.follow_up(0, missed="not_reached")
    p.slack = p.rng.randint(20, 200)


def _ambulatory(p: _Plan, worker: Actor) -> None:
    """Ambulatory, potential victim, CBT; phase 2 early by waiver; now integrating at home."""
    p.therapy = "cbt"
    p.victim_status = "potential"
    target = p.rng.randint(200, 420)
    p.stabilisation("not_registered")
    p.day = max(p.day, 21) + p.rng.randint(0, 4)
    p.advance("Thuis stabiel; eerder naar fase 2.", waivers=(Waiver(
        criterion="min-days-in-phase",
        justification="Zes weken stabilisatie in de crisisopvang vóór de aanmelding; het MDO"
        " acht langer wachten niet nodig.",
    ),))
    p.processing_start()
    p.wait(10, 30)
    p.do(ChangeVictimStatus(victim_status="suspected",
                            reason="Nieuwe signalen uit de netwerkanalyse."))
    p.carry_on(p.day + p.rng.randint(70, 130))
    p.ready_for_integration()
    p.advance("Klaar voor integratie.")
    p.integration_start()
    p.carry_on(target)
    p.slack = p.rng.randint(0, 6)


def _closed_setting(p: _Plan, worker: Actor) -> None:
    """Closed youth care, report filed, status confirmed; in phase 2 now."""
    target = p.rng.randint(200, 450)
    p.stabilisation("registered_by_date_of_birth")
    p.wait(5, 20)
    p.do(FilePoliceReport(police_force=f"Politie eenheid {p.region[1]}"))
    p.wait(5, 20)
    p.do(ChangeVictimStatus(victim_status="confirmed",
                            reason="Aangifte gedaan; uitbuiting vastgesteld door politie."))
    p.wait_for_phase()
    p.advance("Stabiel in de gesloten setting.")
    p.processing_start()
    p.carry_on(target)
    p.turns_18_in = p.rng.randint(30, 170)  # the decision on care after 18 is due soon
    last_analysis = p.last_care_analysis or 0
    overdue = p.rng.random() < 0.5  # now and then the three-monthly analysis is overdue
    p.slack = (
        last_analysis + 91 + p.rng.randint(3, 20) - p.day if overdue else p.rng.randint(0, 6)
    )


Story = Callable[[_Plan, Actor], None]
STORIES: tuple[tuple[Story, Setting], ...] = (
    (_completed, "residential"),
    (_in_aftercare, "residential"),
    (_ran_away_and_regressed, "residential"),
    (_open_runaway, "residential"),
    (_waivers_and_pending_handover, "residential"),
    (_left_early, "residential"),
    (_transferred, "residential"),
    (_ambulatory, "ambulatory"),
    (_closed_setting, "closed"),
)


# -- recording --------------------------------------------------------------------------
class _FactClock:
    """The demo's write path's clock: the day of the fact, never later than the real now."""

    def __init__(self, now: datetime):
        self.now = now
        self.moment = now

    def __call__(self) -> datetime:
        return self.moment

    def on(self, day: date) -> None:
        moment = datetime.combine(day, time(10), tzinfo=AMSTERDAM).astimezone(UTC)
        self.moment = min(moment, self.now)


NATIONALITIES: tuple[Nationality, ...] = ("dutch", "foreign", "unknown")
"""The demo's girls: mostly Dutch, some foreign, a few unknown (weights in `_plan`)."""


def _plan(
    index: int, seed: int, protocol: Protocol | ProtocolRegistry
) -> tuple[_Plan, Actor, Actor]:
    """Her story; `protocol` is hers, or the registry that chooses it by her setting."""
    rng = random.Random(f"{seed}:{index}")
    story, setting = STORIES[index % len(STORIES)]
    coordinator = COORDINATORS[(index * 5 + seed) % len(COORDINATORS)]
    worker = AFTERCARE_WORKERS[ORGANISATIONS.index(coordinator.organisation)]
    if isinstance(protocol, ProtocolRegistry):
        protocol = protocol.for_setting(setting)
    plan = _Plan(rng, protocol, setting)
    plan.outcomes = random.Random(f"{seed}:{index}:outcomes")
    plan.registration = random.Random(f"{seed}:{index}:registration")
    plan.nationality = plan.registration.choices(NATIONALITIES, weights=(80, 15, 5))[0]
    story(plan, worker)
    span = plan.day + plan.slack
    if span < MIN_DAYS_SINCE_INTAKE:
        plan.slack += MIN_DAYS_SINCE_INTAKE - span + rng.randint(0, 10)
    plan.report_to_comensha()
    _team_change(plan, coordinator, random.Random(f"{seed}:{index}:team"))
    plan.bij = random.Random(f"{seed}:{index}:bij")
    _care_outcome(plan)
    return plan, coordinator, worker


def _care_outcome(plan: _Plan) -> None:
    """The outcome questions on the day her file is closed, for most girls (some are
    left without, so that the CBS delivery has one to name as left out)."""
    draws = plan.bij
    if plan.closed_step is None or draws.random() < 0.15:
        return
    answers: tuple[OutcomeAnswer, ...] = ("yes", "yes", "yes", "no", "unknown")
    attained: tuple[GoalAttained, ...] = ("yes", "yes", "partly", "no")
    command = RecordCareOutcome(
        satisfied=draws.choice(answers), without_help=draws.choice(answers),
        informant=draws.choice(("girl", "girl", "parent", "professional")),
        goals=[GoalOutcome(goal=goal, attained=draws.choice(attained))
               for goal in plan.plan_goals],
        note="Eindevaluatie met haar besproken (demo).")
    at = plan.closed_step + 1
    plan.steps.insert(at, _Step(plan.steps[plan.closed_step].day, _fixed(command)))


_CARE_FORM: dict[Setting, CareForm] = {
    "residential": "residential_other", "ambulatory": "ambulatory_in_network",
    "closed": "closed_youth_care"}
# The municipality of each demo region (CBS codes, `trajectory.bij.codes.MUNICIPALITIES`).
_MUNICIPALITY = {
    "Demo-Groningen": "0014", "Demo-Zwolle": "0193", "Demo-Utrecht": "0344",
    "Demo-Rotterdam": "0599", "Demo-Den Haag": "0518", "Demo-Eindhoven": "0772",
    "Demo-Maastricht": "0935", "Demo-Amsterdam": "0363",
}


def demo_bsn(draws: random.Random) -> str:
    """A number that passes the eleven-test, drawn (a synthetic girl's; the test numbers
    the government hands out for testing are not known here)."""
    while True:
        digits = [draws.randint(1, 9)] + [draws.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _team_change(plan: _Plan, coordinator: Actor, draws: random.Random) -> None:
    """Now and then she moves to the organisation's other team halfway through her story,
    while her file is open (from a stream of its own: every other draw stays as it
    was)."""
    if draws.random() >= 0.3 or not plan.steps:
        return
    end = plan.closed_step if plan.closed_step is not None else len(plan.steps)
    after = min(len(plan.steps) // 2, end - 1)
    if after < 0:
        return
    team_id, name = TEAMS[coordinator.organisation][1 - team_of(coordinator)]
    reason = draws.choice([f"Verhuisd naar {name} (demo).",
                           f"Begeleiding overgedragen aan {name} (demo)."])
    plan._insert(plan.steps[after].day, AssignTeam(team=team_id, reason=reason), after=after)


def _record(
    path: WritePath,
    plan: _Plan,
    *,
    number: int,
    today: date,
    clock: _FactClock,
    coordinator: Actor,
    worker: Actor,
) -> UUID:
    rng = plan.rng
    intake_date = today - timedelta(days=plan.day + plan.slack)
    birth_day, age_days = plan.birth
    date_of_birth = intake_date + timedelta(days=birth_day - age_days)
    if plan.turns_18_in is not None:
        birthday = today + timedelta(days=plan.turns_18_in)
        date_of_birth = birthday.replace(year=birthday.year - 18, day=min(birthday.day, 28))
    clock.on(intake_date)
    bij = random.Random(f"bij:{number}")
    opened = path.open(
        coordinator,
        OpenTrajectory(
            intake_date=intake_date,
            victim_status=plan.victim_status,
            risk_profiles=plan.risk_profiles,
            setting=plan.setting,
            nationality=plan.nationality,
            referral_source=rng.choice(
                ["politie", "Veilig Thuis", "school", "Demo jeugdbescherming", "huisarts"]
            ),
            legal_framework={
                "residential": rng.choice(["ondertoezichtstelling", "vrijwillig"]),
                "ambulatory": "vrijwillig",
                "closed": "machtiging gesloten jeugdhulp",
            }[plan.setting],
            identity=Identity(
                name=f"Demo Meisje {number:02d}",
                date_of_birth=date_of_birth,
                home_region=plan.region[0],
                # one girl in twelve without a number yet: the delivery names her
                bsn=demo_bsn(bij) if bij.random() >= 1 / 12 else "",
            ),
            sex="female",
            municipality=_MUNICIPALITY.get(plan.region[0], ""),
            referrer=bij.choice(("certified_institution", "certified_institution",
                                 "municipal_access", "judicial", "general_practitioner")),
            care_form=_CARE_FORM[plan.setting],
            started_in_crisis=bij.random() < 0.4,
            risk_assessment_instrument="Demo risicotaxatie-instrument",
            risk_assessment_result=rng.choice(["hoog risico", "verhoogd risico"]),
        ),
    )
    girl = _Girl(opened.trajectory_id, intake_date, date_of_birth)
    for step in plan.steps:
        day = girl.on(step.day)
        clock.on(day)
        command = msgspec.structs.replace(step.make(girl), occurred_on=day.isoformat())
        recorded = path.record(
            worker if step.aftercare else coordinator, girl.trajectory_id, command
        ).recorded
        if step.key is None:
            continue
        girl.positions[step.key] = recorded.positions[0]
        if isinstance(command, RegisterNetworkContact):
            known = set(girl.contacts.values())
            contacts = path.application.get(girl.trajectory_id).state.contacts
            (girl.contacts[step.key],) = (c for c in contacts if c not in known)
    return girl.trajectory_id


def run_demo(
    app: TrajectoryApplication,
    *,
    count: int = 40,
    seed: int = 2014,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write `count` synthetic trajectories (added to whatever the store holds).

    Returns the number written. Girls are numbered after those already in the store.
    The demo writes through a write path of its own: its clock reads each fact's day (so
    each is judged on it), and it leaves out the log line per fact (thousands would bury
    the progress). `app` itself, its clock and the logging stay as they are.
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    report = progress if progress is not None else Progress("demo", count)
    now = app.clock()
    today = amsterdam_date(now)
    protocols = app.protocols
    first = len(app.index()) + 1
    clock = _FactClock(now)
    path = WritePath(app, clock=clock, quiet=True)
    _enrol_workers(app)
    for index in range(count):
        plan, coordinator, worker = _plan(index, seed, protocols)
        _record(
            path,
            plan,
            number=first + index,
            today=today,
            clock=clock,
            coordinator=coordinator,
            worker=worker,
        )
        report(index + 1, count)
    if count:
        record_demo_duties(app, ORGANISATIONS)
    return count


def _enrol_workers(app: TrajectoryApplication) -> None:
    """The demo's coordinators and aftercare workers are users of the installation (a
    handover names an active aftercare worker; a page names whoever recorded a fact by her
    name): enrolled without a token anyone sees, under the names `serve --demo` issues
    tokens for, each with a display name as a colleague would read it."""
    users = UserStore(app.db)
    _enrol_teams(app)
    people = [(w, "demo-coordinator", "Demo Coördinator") for w in COORDINATORS] + [
        (w, "demo-aftercare", "Demo Nazorgmedewerker") for w in AFTERCARE_WORKERS]
    numbers: dict[str, int] = {}
    for worker, login, shown in people:
        n = numbers[login] = numbers.get(login, 0) + 1
        if users.by_id(worker.user_id) is None:
            users.add(name=login if n == 1 else f"{login}-{n}", role=worker.role,
                      organisation=worker.organisation, now=app.clock(),
                      user_id=worker.user_id, display_name=shown if n == 1 else f"{shown} {n}")


def _enrol_teams(app: TrajectoryApplication) -> None:
    """The demo organisations' two teams each, every demo coordinator a member of hers
    (idempotent: a later run adds only what is missing)."""
    teams = Teams(app.db)
    for organisation, pair in TEAMS.items():
        for team_id, name in pair:
            if teams.get(team_id) is None:
                teams.create(organisation, name, by="demo-admin", now=app.clock(),
                             team_id=team_id)
    for coordinator in COORDINATORS:
        team_id, _ = TEAMS[coordinator.organisation][team_of(coordinator)]
        teams.add_member(team_id, coordinator.user_id, by="demo-admin", now=app.clock())


DEMO_STUDY = "demo-study"
"""The demo's approved research project: `serve --demo`'s researcher exports it."""


def approve_demo_study(app: TrajectoryApplication, researcher_id: str = "demo-researcher"
                       ) -> None:
    """Make `demo-study` an approved project of every demo organisation, with the demo's
    researcher bound to it, so that the demo export works as a real one would: proposed,
    approved by each organisation's admin (its privacy officer), the researcher bound by
    one of them. Idempotent: a later start adds only what is missing."""
    from trajectory.research.approvals import bind, decide, find_project, propose

    now = app.clock()
    today = amsterdam_date(now)
    if find_project(app.db, DEMO_STUDY) is None:
        propose(app.db, Actor(user_id=researcher_id, role="researcher",
                              organisation="demo-research"),
                name=DEMO_STUDY, purpose="Demo: wat werkt voor meisjes in het protocol",
                ethics_reference="METC demo (synthetic data)", files=None, variables=None,
                period_from=date(2000, 1, 1), period_to=date(2099, 12, 31),
                organisations=ORGANISATIONS, expires_on=today + timedelta(days=365),
                now=now, today=today)
    project = find_project(app.db, DEMO_STUDY)
    assert project is not None
    admins = {o: Actor(user_id="demo-admin" if i == 0 else f"demo-admin-{i + 1}",
                       role="admin", organisation=o) for i, o in enumerate(ORGANISATIONS)}
    for organisation in project.organisations:
        if organisation not in {a.organisation for a in project.approvals}:
            decide(app.db, admins[organisation], DEMO_STUDY, now=now)
    if not project.bound(researcher_id):
        bind(app.db, admins[ORGANISATIONS[0]], DEMO_STUDY, researcher_id=researcher_id,
             researcher_role="researcher", now=now)
