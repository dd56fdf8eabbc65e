"""The rules of the phase protocol, told as stories on the aggregate alone (no storage).

Given past facts, when one command, then new events, or a refusal with its stable code and
nothing recorded: no pending events, the same version, the same state. The caps and
numbers written out here are the design's table for the default protocol, so a change to
default.toml that breaks the design shows up here.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeAlias

import msgspec
import pytest

from tests.builders import (
    AFTERCARE,
    COORDINATOR,
    handover_package,
    left_care,
    phase_2_facts,
    phase_3_facts,
)
from tests.conftest import PROTOCOLS
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.analysis import CareAnalysisRecorded, PlacementDecided
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import ComenshaRegistrationDecided
from trajectory.aggregates.events.closure import EntryCorrected, EntryMarkedInError
from trajectory.aggregates.events.handover import (
    AftercareContactRecorded,
    AftercareEnded,
    AftercareStarted,
    HandoverAccepted,
    HandoverMeetingHeld,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.network import (
    NetworkContactRestored,
    NetworkContactRestricted,
    NetworkContactRiskAssessed,
)
from trajectory.aggregates.events.phasing import (
    CappedContact,
    CappedPermission,
    PermissionChanged,
    PermissionsCapped,
    PhaseAdvanced,
    PhaseRegressed,
    Waiver,
)
from trajectory.aggregates.events.safety import MedicalCareAssessed
from trajectory.aggregates.events.treatment import TraumaTherapyStarted
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    ContactLevel,
    ContactRisk,
    Level,
    PermissionKind,
    scale_for,
)
from trajectory.commands import (
    AcceptHandover,
    ArrangeEducation,
    AssessMedicalCare,
    AssessNetworkContactRisk,
    ChangePermission,
    ChangeVictimStatus,
    CloseTrajectory,
    Command,
    CompleteTraumaTherapy,
    CorrectEntry,
    DecideComenshaRegistration,
    DecidePlacement,
    EndAftercare,
    EndRunaway,
    HoldCaseConference,
    HoldHandoverMeeting,
    HoldTraumaTherapySession,
    PrepareHandover,
    RecordAftercareContact,
    RecordCareAnalysis,
    RecordSafetyAnalysis,
    RecordSignal,
    ReportRunaway,
    RestoreNetworkContact,
    RestrictNetworkContact,
    SetTreatmentPlan,
    StartAftercare,
    StartTraumaTherapy,
    TransitionPhase,
)
from trajectory.protocol import Protocol, default_protocol, load_protocol
from trajectory.protocol.attention import AttentionItem, attention_items

INTAKE = date(2026, 1, 5)
BORN = date(2010, 4, 1)  # she turns 16 on 2026-04-01
RECEIVER = AFTERCARE.user_id

Step: TypeAlias = Command | Callable[[Trajectory, Meta, Protocol], object]


class Story:
    """One girl's trajectory, told without storage: given facts, when a command, then."""

    def __init__(self, protocol: Protocol | None = None, *, intake_on: date = INTAKE) -> None:
        self.protocol = protocol or default_protocol()
        self.today = intake_on
        self.t = Trajectory.open(
            meta=self.meta(),
            protocol=self.protocol,
            organisation=COORDINATOR.organisation,
            coordinator=COORDINATOR.user_id,
            referral_source="police",
            legal_framework="ots",
            setting="residential",
            victim_status="suspected",
            risk_profiles=["traumatised", "influenceable"],
            risk_assessment_instrument="risicotaxatie",
            risk_assessment_result="high",
            identity=Identity(name="Test Meisje", date_of_birth=BORN, home_region="Utrecht"),
        )
        self.history = self._collect()

    @property
    def state(self) -> TrajectoryState:
        return self.t.state

    def meta(self, occurred_on: date | None = None, by: str = COORDINATOR.user_id) -> Meta:
        return Meta(recorded_by=by, occurred_on=occurred_on or self.today, today=self.today)

    def days_pass(self, days: int) -> Story:
        self.today += timedelta(days=days)
        return self

    def given(self, *steps: Step, by: str = COORDINATOR.user_id) -> Story:
        for step in steps:
            self.when(step, by=by)
        return self

    def when(
        self, step: Step, *, by: str = COORDINATOR.user_id, occurred_on: date | None = None
    ) -> list[TrajectoryEvent]:
        """Run one command; the events it triggered."""
        meta = self.meta(occurred_on, by)
        if isinstance(step, Command):
            self.t.handle(step, meta, self.protocol)
        else:
            step(self.t, meta, self.protocol)
        events = self._collect()
        self.history.extend(events)
        return events

    def _collect(self) -> list[TrajectoryEvent]:
        pending = self.t.collect_events()
        events = [e for e in pending if isinstance(e, TrajectoryEvent)]
        assert len(events) == len(pending)
        return events

    def refused(
        self, step: Step, *, by: str = COORDINATOR.user_id, occurred_on: date | None = None
    ) -> RuleRefused:
        """Run one command that the rules must refuse; check that nothing was recorded."""
        version, head_hash = self.t.version, self.t.head_hash
        state = copy.deepcopy(self.t.state)
        with pytest.raises(RuleRefused) as info:
            self.when(step, by=by, occurred_on=occurred_on)
        assert self.t.pending_events == []
        assert self.t.version == version
        assert self.t.head_hash == head_hash
        assert self.t.state == state
        return info.value

    def position_of(self, event_class: type[TrajectoryEvent]) -> int:
        """The position of the latest event of a kind, as corrections point at it."""
        return [e for e in self.history if isinstance(e, event_class)][-1].originator_version

    def attention(self) -> list[AttentionItem]:
        return attention_items(self.state, self.protocol, self.today)

    def due(self) -> dict[str, tuple[date, bool]]:
        return {i.code: (i.due_on, i.overdue) for i in self.attention()}


def in_phase(phase: int, protocol: Protocol | None = None) -> Story:
    """A girl who reached `phase` of the default protocol the ordinary way."""
    story = Story(protocol).given(*phase_2_facts()).days_pass(28)
    if phase >= 2:
        story.given(TransitionPhase(to_phase=2, reason="she is stable"))
    if phase >= 3:
        story.given(*phase_3_facts(), TransitionPhase(to_phase=3, reason="processing done"))
    return story


def in_aftercare() -> Story:
    return in_phase(3).given(*warm_handover()).given(
        StartAftercare(plan="weekly visits", destination="independent")
    )


def warm_handover() -> list[Step]:
    return [
        PrepareHandover(
            receiving_organisation="org-c", receiving_worker=RECEIVER, package=handover_package()
        ),
        warm_meeting(),
        accepted_by_receiver,
    ]


def warm_meeting(girl: bool = True, sending: bool = True, receiving: bool = True) -> Command:
    return HoldHandoverMeeting(
        girl_present=girl, sending_worker_present=sending, receiving_worker_present=receiving
    )


def accepted_by_receiver(t: Trajectory, meta: Meta, protocol: Protocol) -> None:
    t.accept_handover(AcceptHandover(), dataclasses.replace(meta, recorded_by=RECEIVER))


def contact(contact_id: str, risk: ContactRisk) -> Step:
    """Register a network contact under a known id, so the story can point at it."""

    def register(t: Trajectory, meta: Meta, protocol: Protocol) -> None:
        t.register_network_contact(
            meta=meta, role=contact_id, risk=risk, note="", contact_id=contact_id
        )

    return register


def restore(contact_id: str, level: ContactLevel) -> Command:
    return RestoreNetworkContact(contact_id=contact_id, level=level, reason="going well")


def permission(kind: str, level: Level) -> Command:
    return ChangePermission(kind=kind, level=level, reason="agreed in the team")


def runaway() -> Command:
    return ReportRunaway(from_where="group home", police_forces_informed=["Utrecht"])


def types(events: list[TrajectoryEvent]) -> list[type[TrajectoryEvent]]:
    return [type(e) for e in events]


# -- permission caps per phase ------------------------------------------------------------

DEFAULT_CAPS: dict[int, dict[PermissionKind, Level]] = {
    1: {
        "internet": "supervised",
        "social_media": "supervised",
        "phone": "supervised",
        "leave": "accompanied",
        "contact_with_boys": "none",
    },
    2: {
        "internet": "supervised",
        "social_media": "supervised",
        "phone": "limited",
        "leave": "accompanied",
        "contact_with_boys": "supervised",
    },
    3: {
        "internet": "limited",
        "social_media": "limited",
        "phone": "free",
        "leave": "unaccompanied",
        "contact_with_boys": "free",
    },
}


def above(kind: PermissionKind, level: Level) -> Level | None:
    scale = scale_for(kind)
    index = scale.index(level) + 1
    return scale[index] if index < len(scale) else None


AT_CAP = [
    pytest.param(phase, kind, cap, id=f"phase {phase} {kind} {cap}")
    for phase, caps in DEFAULT_CAPS.items()
    for kind, cap in caps.items()
    if cap != "none"
]
ABOVE_CAP = [
    pytest.param(phase, kind, higher, id=f"phase {phase} {kind} {higher}")
    for phase, caps in DEFAULT_CAPS.items()
    for kind, cap in caps.items()
    if (higher := above(kind, cap)) is not None
]


def test_the_default_protocol_caps_are_the_designs() -> None:
    # given the default protocol, then its caps are the design's table
    protocol = default_protocol()
    assert {n: dict(protocol.phase_spec(n).caps) for n in (1, 2, 3)} == DEFAULT_CAPS


def test_unsupervised_internet_is_refused_in_phase_1() -> None:
    # given a girl in phase 1
    story = Story()
    # when unsupervised internet is granted, then it is refused above the cap
    error = story.refused(permission("internet", "free"))
    assert error.code == "phase-permission-cap"
    assert "at most 'supervised'" in error.message


def test_supervised_internet_is_granted_in_phase_1() -> None:
    # given a girl in phase 1
    story = Story()
    # when supervised internet is granted
    events = story.when(permission("internet", "supervised"))
    # then it is recorded
    assert types(events) == [PermissionChanged]
    assert story.state.permissions["internet"] == "supervised"


@pytest.mark.parametrize(("phase", "kind", "level"), AT_CAP)
def test_a_permission_at_its_phase_cap_is_granted(
    phase: int, kind: PermissionKind, level: Level
) -> None:
    # given a girl in the phase
    story = in_phase(phase)
    # when the permission is set at the phase's cap
    events = story.when(permission(kind, level))
    # then it is recorded
    assert types(events) == [PermissionChanged]
    assert story.state.permissions[kind] == level


@pytest.mark.parametrize(("phase", "kind", "level"), ABOVE_CAP)
def test_a_permission_above_its_phase_cap_is_refused(
    phase: int, kind: PermissionKind, level: Level
) -> None:
    # given a girl in the phase
    story = in_phase(phase)
    # when the permission is set one level above the phase's cap, then it is refused
    error = story.refused(permission(kind, level))
    assert error.code == "phase-permission-cap"


def test_contact_with_boys_is_refused_in_phase_1() -> None:
    # given a girl in phase 1, when even supervised contact with boys is granted
    error = Story().refused(permission("contact_with_boys", "supervised"))
    # then it is refused
    assert error.code == "phase-permission-cap"


def test_a_level_of_another_scale_is_refused() -> None:
    # given a girl in phase 3, when leave is set to a level of the internet scale
    error = in_phase(3).refused(permission("leave", "limited"))
    # then it is refused as not a level of leave
    assert error.code == "permission-level-invalid"


def test_an_unknown_permission_is_refused() -> None:
    # given a girl in phase 1, when a permission that does not exist is set
    error = Story().refused(permission("television", "none"))
    # then it is a refusal with its own code, not a crash
    assert error.code == "permission-kind-unknown"


def test_a_permission_set_to_its_current_level_is_refused() -> None:
    # given supervised internet
    story = Story().given(permission("internet", "supervised"))
    # when it is set to supervised again, then nothing new is recorded
    assert story.refused(permission("internet", "supervised")).code == "no-change"


def test_a_permission_is_lowered_in_any_phase() -> None:
    # given phase 3 with free phone
    story = in_phase(3).given(permission("phone", "free"))
    # when the phone is taken away
    events = story.when(permission("phone", "none"))
    # then it is recorded
    assert types(events) == [PermissionChanged]
    assert story.state.permissions["phone"] == "none"


def test_permissions_are_not_changed_in_aftercare() -> None:
    # given a girl in aftercare, when a permission is changed, then it is refused
    assert in_aftercare().refused(permission("phone", "none")).code == "not-in-care"


# -- network contacts ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [1, 2, 3])
@pytest.mark.parametrize("level", ["supervised", "unsupervised"])
def test_a_prohibited_contact_is_never_restored(phase: int, level: ContactLevel) -> None:
    # given the suspected trafficker registered as prohibited
    story = in_phase(phase).given(contact("trafficker", "prohibited"))
    # when contact with him is restored, then it is refused, in every phase
    error = story.refused(restore("trafficker", level))
    assert error.code == "contact-prohibited"


def test_a_contact_assessed_as_prohibited_is_cut_off_and_stays_so() -> None:
    # given a 'friend' restored unsupervised in phase 2
    story = in_phase(2).given(contact("friend", "safe"), restore("friend", "unsupervised"))
    # when she is assessed as prohibited (a lovergirl)
    events = story.when(
        AssessNetworkContactRisk(contact_id="friend", risk="prohibited", reason="recruits girls")
    )
    # then the contact is cut off in the same command, and never restored
    assert types(events) == [NetworkContactRiskAssessed, NetworkContactRestricted]
    assert story.state.contacts["friend"].level == "none"
    assert story.refused(restore("friend", "supervised")).code == "contact-prohibited"


def test_a_contact_assessed_as_prohibited_in_aftercare_is_cut_off() -> None:
    # given a safe contact restored unsupervised before aftercare
    story = in_phase(3).given(contact("aunt", "safe"), restore("aunt", "unsupervised"))
    story.given(*warm_handover(), StartAftercare(plan="visits", destination="independent"))
    # when she turns out to be involved
    events = story.when(
        AssessNetworkContactRisk(contact_id="aunt", risk="prohibited", reason="involved")
    )
    # then contact is cut off even though she is out of care
    assert types(events) == [NetworkContactRiskAssessed, NetworkContactRestricted]
    assert story.state.contacts["aunt"].level == "none"


@pytest.mark.parametrize("level", ["supervised", "unsupervised"])
def test_a_risky_contact_is_not_restored_in_phase_1(level: ContactLevel) -> None:
    # given a risky ex-boyfriend in phase 1
    story = Story().given(contact("ex", "risky"))
    # when contact is restored, then it is refused above the network cap
    assert story.refused(restore("ex", level)).code == "network-contact-cap"


@pytest.mark.parametrize("phase", [2, 3])
def test_a_risky_contact_is_restored_only_supervised_from_phase_2(phase: int) -> None:
    # given a risky contact in phase 2 or 3
    story = in_phase(phase).given(contact("cousin", "risky"))
    # when unsupervised contact is asked, then it is refused
    assert story.refused(restore("cousin", "unsupervised")).code == "network-contact-cap"
    # when supervised contact is asked, then it is recorded
    assert types(story.when(restore("cousin", "supervised"))) == [NetworkContactRestored]
    assert story.state.contacts["cousin"].level == "supervised"


def test_a_safe_contact_is_restored_only_supervised_in_phase_1() -> None:
    # given her mother, a safe contact, in phase 1
    story = Story().given(contact("mother", "safe"))
    # when unsupervised contact is asked, then it is refused
    assert story.refused(restore("mother", "unsupervised")).code == "network-contact-cap"
    # when supervised contact is asked, then it is recorded
    assert types(story.when(restore("mother", "supervised"))) == [NetworkContactRestored]


def test_a_safe_contact_is_restored_unsupervised_from_phase_2() -> None:
    # given her mother, a safe contact, in phase 2
    story = in_phase(2).given(contact("mother", "safe"))
    # when unsupervised contact is restored, then it is recorded
    assert types(story.when(restore("mother", "unsupervised"))) == [NetworkContactRestored]
    assert story.state.contacts["mother"].level == "unsupervised"


def test_a_contact_of_unknown_risk_is_not_restored_in_phase_1() -> None:
    # given a contact whose risk is not known yet, in phase 1
    story = Story().given(contact("neighbour", "unknown"))
    # when contact is restored, then it is refused
    assert story.refused(restore("neighbour", "supervised")).code == "network-contact-cap"


def test_a_contact_reassessed_as_risky_is_lowered_to_the_cap() -> None:
    # given a safe contact restored unsupervised in phase 2
    story = in_phase(2).given(contact("friend", "safe"), restore("friend", "unsupervised"))
    # when she is reassessed as risky
    events = story.when(
        AssessNetworkContactRisk(contact_id="friend", risk="risky", reason="seen with him")
    )
    # then contact is lowered to supervised in the same command
    assert types(events) == [NetworkContactRiskAssessed, NetworkContactRestricted]
    assert story.state.contacts["friend"].level == "supervised"


def test_a_contact_that_is_not_registered_is_not_restored() -> None:
    # given no contacts, when one is restored, then it is refused
    assert Story().refused(restore("nobody", "supervised")).code == "contact-unknown"


def test_restoring_to_no_contact_is_refused() -> None:
    # given a safe contact, when 'restored' to none, then it is refused
    story = Story().given(contact("mother", "safe"))
    assert story.refused(restore("mother", "none")).code == "contact-level-invalid"


def test_restoring_a_contact_to_its_current_level_is_refused() -> None:
    # given a contact restored supervised, when restored supervised again, then refused
    story = Story().given(contact("mother", "safe"), restore("mother", "supervised"))
    assert story.refused(restore("mother", "supervised")).code == "no-change"


def test_a_contact_id_is_registered_once() -> None:
    # given a registered contact, when the same id is registered again, then refused
    story = Story().given(contact("mother", "safe"))
    assert story.refused(contact("mother", "risky")).code == "contact-exists"


def test_restricting_a_contact_needs_a_reason_and_must_lower_it() -> None:
    # given a contact restored supervised
    story = Story().given(contact("mother", "safe"), restore("mother", "supervised"))
    # when restricted without a reason, then refused
    no_reason = RestrictNetworkContact(contact_id="mother", level="none", reason=" ")
    assert story.refused(no_reason).code == "reason-required"
    # when 'restricted' to the same level, then refused
    same = RestrictNetworkContact(contact_id="mother", level="supervised", reason="tension")
    assert story.refused(same).code == "no-change"
    # when restricted to none with a reason, then recorded
    cut = RestrictNetworkContact(contact_id="mother", level="none", reason="tension")
    assert types(story.when(cut)) == [NetworkContactRestricted]


# -- entry criteria -------------------------------------------------------------------------

PHASE_2_CODES = [
    "safety-analysis",
    "medical-assessment",
    "care-analysis",
    "treatment-plan",
    "placement",
    "education",
    "min-days-in-phase",
]


def test_phase_2_at_intake_lists_every_unmet_criterion_by_code() -> None:
    # given a girl just taken in
    story = Story()
    # when she is advanced to phase 2
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    # then every unmet criterion is listed by its stable code
    assert error.code == "entry-criteria-unmet"
    assert list(error.unmet) == PHASE_2_CODES


@pytest.mark.parametrize(
    ("left_out", "code"),
    [
        (RecordSafetyAnalysis, "safety-analysis"),
        (AssessMedicalCare, "medical-assessment"),
        (SetTreatmentPlan, "treatment-plan"),
        (DecidePlacement, "placement"),
        (ArrangeEducation, "education"),
    ],
)
def test_each_missing_phase_2_fact_is_listed_alone(left_out: type[Command], code: str) -> None:
    # given every phase-2 fact but one, and 28 days in phase 1
    facts = [f for f in phase_2_facts() if not isinstance(f, left_out)]
    story = Story().given(*facts).days_pass(28)
    # when she is advanced, then exactly that criterion is unmet
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    assert error.unmet == (code,)


def test_phase_2_is_entered_when_every_criterion_is_met() -> None:
    # given every phase-2 fact and 28 days in phase 1
    story = Story().given(*phase_2_facts()).days_pass(28)
    # when she is advanced
    events = story.when(TransitionPhase(to_phase=2, reason="doing well"))
    # then the advance records the protocol version and every criterion as met
    assert types(events) == [PhaseAdvanced]
    advanced = events[0]
    assert isinstance(advanced, PhaseAdvanced)
    assert (advanced.from_phase, advanced.to_phase) == (1, 2)
    assert (advanced.protocol_name, advanced.protocol_version) == ("default", "2026.1")
    assert advanced.criteria_met == (
        *PHASE_2_CODES[:6], "no-open-runaway", "min-days-in-phase",
        # the floor every protocol has: the checks after a return (none to check here)
        "medical-after-runaway", "safety-after-runaway",
    )
    assert advanced.waivers == ()
    assert (story.state.phase, story.state.phase_entered_on) == (2, story.today)


def test_phase_2_needs_28_days_in_phase_1() -> None:
    # given every phase-2 fact, 27 days after intake
    story = Story().given(*phase_2_facts()).days_pass(27)
    # when she is advanced, then only the days in phase are unmet
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    assert error.unmet == ("min-days-in-phase",)
    # when a day passes, then she is advanced
    story.days_pass(1)
    assert types(story.when(TransitionPhase(to_phase=2, reason="doing well"))) == [PhaseAdvanced]


def test_phase_3_lists_its_own_unmet_criteria() -> None:
    # given a girl who just entered phase 2
    story = in_phase(2)
    # when she is advanced to phase 3, then phase 3's own criteria are listed
    error = story.refused(TransitionPhase(to_phase=3, reason="ready"))
    assert error.code == "entry-criteria-unmet"
    assert error.unmet == ("trauma-therapy", "family-involvement", "comensha-decision")


def test_phase_3_needs_a_care_analysis_of_at_most_three_months_old() -> None:
    # given phase 2 with every phase-3 fact, the care analysis 92 days ago
    story = in_phase(2).given(*phase_3_facts()).days_pass(92)
    # when she is advanced, then the care analysis is not current
    error = story.refused(TransitionPhase(to_phase=3, reason="ready"))
    assert error.unmet == ("care-analysis-current",)
    # when a new care analysis is made, then she is advanced
    story.given(RecordCareAnalysis(disciplines=["psychologist", "pedagogue"]))
    assert types(story.when(TransitionPhase(to_phase=3, reason="ready"))) == [PhaseAdvanced]


def test_a_care_analysis_of_exactly_91_days_is_current() -> None:
    # given phase 2 with every phase-3 fact, the care analysis 91 days ago
    story = in_phase(2).given(*phase_3_facts()).days_pass(91)
    # when she is advanced, then she is
    assert types(story.when(TransitionPhase(to_phase=3, reason="ready"))) == [PhaseAdvanced]


def test_phases_are_taken_one_at_a_time() -> None:
    # given phase 1 with everything, when she jumps to phase 3, then refused
    story = Story().given(*phase_2_facts(), *phase_3_facts()).days_pass(40)
    assert story.refused(TransitionPhase(to_phase=3, reason="fast")).code == "phase-skip"


@pytest.mark.parametrize("to_phase", [4, 7])
def test_a_phase_the_protocol_does_not_have_is_refused(to_phase: int) -> None:
    # given phase 3, when advanced beyond the last phase, then refused
    story = in_phase(3)
    assert story.refused(TransitionPhase(to_phase=to_phase, reason="?")).code == "phase-unknown"


def test_a_transition_to_the_current_phase_is_refused() -> None:
    # given phase 2, when 'moved' to phase 2, then refused
    assert in_phase(2).refused(TransitionPhase(to_phase=2, reason="?")).code == "phase-unchanged"


def test_phases_do_not_change_in_aftercare() -> None:
    # given aftercare, when she is regressed, then refused: she is out of care
    error = in_aftercare().refused(TransitionPhase(to_phase=2, reason="relapse"))
    assert error.code == "not-in-care"


# -- waivers -------------------------------------------------------------------------------


def waiver(criterion: str, justification: str = "agreed in the case conference") -> Waiver:
    return Waiver(criterion=criterion, justification=justification)


def test_a_justified_waiver_sets_a_criterion_aside() -> None:
    # given every phase-2 fact after only 10 days
    story = Story().given(*phase_2_facts()).days_pass(10)
    # when she is advanced with a justified waiver for the days in phase
    events = story.when(
        TransitionPhase(to_phase=2, reason="stable early", waivers=[waiver("min-days-in-phase")])
    )
    # then the advance records the waiver and leaves it out of the criteria met
    advanced = events[0]
    assert isinstance(advanced, PhaseAdvanced)
    assert advanced.waivers == (waiver("min-days-in-phase"),)
    assert "min-days-in-phase" not in advanced.criteria_met
    assert story.state.phase == 2


@pytest.mark.parametrize("justification", ["", "   "])
def test_a_waiver_without_a_justification_is_refused(justification: str) -> None:
    # given every phase-2 fact after 10 days
    story = Story().given(*phase_2_facts()).days_pass(10)
    # when the days are waived without a justification, then refused
    step = TransitionPhase(
        to_phase=2, reason="early", waivers=[waiver("min-days-in-phase", justification)]
    )
    assert story.refused(step).code == "waiver-invalid"


@pytest.mark.parametrize("criterion", ["trauma-therapy", "handover-accepted", "made-up"])
def test_a_waiver_for_a_criterion_of_another_transition_is_refused(criterion: str) -> None:
    # given every phase-2 fact after 28 days
    story = Story().given(*phase_2_facts()).days_pass(28)
    # when a criterion that phase 2 does not have is waived, then refused
    step = TransitionPhase(to_phase=2, reason="fine", waivers=[waiver(criterion)])
    assert story.refused(step).code == "waiver-invalid"


def test_no_open_runaway_cannot_be_waived() -> None:
    # given every phase-2 fact after 28 days
    story = Story().given(*phase_2_facts()).days_pass(28)
    # when 'no open runaway' is waived, then refused: it is never waived
    step = TransitionPhase(to_phase=2, reason="fine", waivers=[waiver("no-open-runaway")])
    error = story.refused(step)
    assert error.code == "waiver-invalid"
    assert "cannot be waived" in error.message


def test_an_open_runaway_is_not_waived_away() -> None:
    # given every phase-2 fact after 28 days, and she ran away
    story = Story().given(*phase_2_facts()).days_pass(28).given(runaway())
    # when 'no open runaway' is waived, then the runaway still refuses the advance
    step = TransitionPhase(to_phase=2, reason="fine", waivers=[waiver("no-open-runaway")])
    assert story.refused(step).code == "runaway-open"


def test_a_criterion_waived_twice_is_refused() -> None:
    # given every phase-2 fact after 10 days
    story = Story().given(*phase_2_facts()).days_pass(10)
    # when the days are waived twice, then refused
    twice = [waiver("min-days-in-phase"), waiver("min-days-in-phase", "again")]
    assert story.refused(TransitionPhase(to_phase=2, reason="x", waivers=twice)).code == (
        "waiver-invalid"
    )


def test_a_waiver_leaves_the_other_criteria_unmet() -> None:
    # given a girl just taken in
    story = Story()
    # when the placement is waived, then the others are still listed, the placement not
    step = TransitionPhase(to_phase=2, reason="x", waivers=[waiver("placement")])
    error = story.refused(step)
    assert error.code == "entry-criteria-unmet"
    assert list(error.unmet) == [c for c in PHASE_2_CODES if c != "placement"]


def test_waivers_do_not_belong_to_a_regression() -> None:
    # given phase 2, when she is regressed with a waiver, then refused
    step = TransitionPhase(to_phase=1, reason="relapse", waivers=[waiver("placement")])
    assert in_phase(2).refused(step).code == "waiver-invalid"


# -- runaways ------------------------------------------------------------------------------


def test_no_phase_is_advanced_while_a_runaway_is_open() -> None:
    # given every phase-2 fact after 28 days, and she ran away
    story = Story().given(*phase_2_facts()).days_pass(28).given(runaway())
    # when she is advanced, then refused with the runaway as the unmet criterion
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    assert error.code == "runaway-open"
    assert error.unmet == ("no-open-runaway",)


def test_after_she_returns_the_phase_is_advanced() -> None:
    # given she ran away and came back, and was seen by a doctor and her safety analysed
    story = Story().given(*phase_2_facts()).days_pass(28).given(runaway())
    story.days_pass(1).given(EndRunaway(ending="returned"))
    story.given(*[f for f in phase_2_facts()
                  if isinstance(f, (RecordSafetyAnalysis, AssessMedicalCare))])
    # when she is advanced, then she is
    assert types(story.when(TransitionPhase(to_phase=2, reason="back"))) == [PhaseAdvanced]


def test_after_she_returns_no_phase_is_advanced_before_the_checks() -> None:
    # given she ran away and came back, and nothing was checked since
    story = Story().given(*phase_2_facts()).days_pass(28).given(runaway())
    story.days_pass(1).given(EndRunaway(ending="returned"))
    # when she is advanced, then it is refused naming both checks
    error = story.refused(TransitionPhase(to_phase=2, reason="back"))
    assert error.code == "entry-criteria-unmet"
    assert set(error.unmet) >= {"medical-after-runaway", "safety-after-runaway"}


def test_a_second_runaway_while_one_is_open_is_refused() -> None:
    story = Story().given(runaway())
    assert story.refused(runaway()).code == "runaway-open"


def test_a_runaway_that_is_not_open_does_not_end() -> None:
    assert Story().refused(EndRunaway(ending="found")).code == "no-open-runaway"


def test_a_runaway_does_not_end_before_it_began() -> None:
    # given she ran away today
    story = Story().days_pass(5).given(runaway())
    # when she is recorded as found yesterday, then refused
    error = story.refused(EndRunaway(ending="found"), occurred_on=story.today - timedelta(days=1))
    assert error.code == "occurred-before-runaway"


def test_a_trajectory_is_not_closed_while_a_runaway_is_open() -> None:
    story = Story().given(runaway())
    assert story.refused(CloseTrajectory(reason="moved_away")).code == "runaway-open"


# -- regression ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_regression_needs_a_reason(reason: str) -> None:
    step = TransitionPhase(to_phase=1, reason=reason)
    assert in_phase(2).refused(step).code == "reason-required"


def test_a_regression_lowers_permissions_and_contacts_above_the_new_caps_in_the_same_command() -> (
    None
):
    # given phase 3 with every permission at its cap and contacts restored
    story = in_phase(3)
    story.given(*(permission(kind, cap) for kind, cap in DEFAULT_CAPS[3].items()))
    story.given(contact("mother", "safe"), restore("mother", "unsupervised"))
    story.given(contact("cousin", "risky"), restore("cousin", "supervised"))
    # when she is regressed to phase 1
    events = story.when(TransitionPhase(to_phase=1, reason="relapse after contact with him"))
    # then the regression and the capping are recorded together
    assert types(events) == [PhaseRegressed, PermissionsCapped]
    capped = events[1]
    assert isinstance(capped, PermissionsCapped)
    assert capped.permissions == (
        CappedPermission(kind="internet", from_level="limited", to_level="supervised"),
        CappedPermission(kind="social_media", from_level="limited", to_level="supervised"),
        CappedPermission(kind="phone", from_level="free", to_level="supervised"),
        CappedPermission(kind="leave", from_level="unaccompanied", to_level="accompanied"),
        CappedPermission(kind="contact_with_boys", from_level="free", to_level="none"),
    )
    assert capped.contacts == (
        CappedContact(contact_id="mother", from_level="unsupervised", to_level="supervised"),
        CappedContact(contact_id="cousin", from_level="supervised", to_level="none"),
    )
    # and she is within phase 1's caps
    assert story.state.phase == 1
    assert story.state.permissions == DEFAULT_CAPS[1]
    assert story.state.contacts["mother"].level == "supervised"
    assert story.state.contacts["cousin"].level == "none"


def test_a_regression_within_the_caps_caps_nothing() -> None:
    # given phase 2 with supervised internet
    story = in_phase(2).given(permission("internet", "supervised"))
    # when she is regressed, then only the regression is recorded
    events = story.when(TransitionPhase(to_phase=1, reason="unrest"))
    assert types(events) == [PhaseRegressed]
    assert story.state.regressions == 1


def test_a_regression_is_allowed_while_a_runaway_is_open() -> None:
    # given phase 2 and she ran away
    story = in_phase(2).given(runaway())
    # when she is regressed, then it is recorded
    assert types(story.when(TransitionPhase(to_phase=1, reason="ran away"))) == [PhaseRegressed]


def test_a_regression_restarts_the_days_in_phase() -> None:
    # given she was regressed to phase 1, 20 days ago
    story = in_phase(2).given(TransitionPhase(to_phase=1, reason="unrest")).days_pass(20)
    # when she is advanced again, then the days count from the regression
    error = story.refused(TransitionPhase(to_phase=2, reason="calm"))
    assert error.unmet == ("min-days-in-phase",)
    story.days_pass(8)
    assert types(story.when(TransitionPhase(to_phase=2, reason="calm"))) == [PhaseAdvanced]


# -- placement and registration ("unless" rules) ---------------------------------------------


def test_a_homogeneous_girls_group_needs_no_argument() -> None:
    story = Story()
    events = story.when(DecidePlacement(kind="homogeneous_group", region="Utrecht"))
    assert types(events) == [PlacementDecided]


@pytest.mark.parametrize("kind", ["mixed_group", "ambulatory", "closed"])
@pytest.mark.parametrize("argument", [None, "", "   "])
def test_another_placement_needs_an_argument(kind: str, argument: str | None) -> None:
    step = msgspec.convert(
        {"kind": kind, "region": "Utrecht", "argument": argument}, DecidePlacement
    )
    assert Story().refused(step).code == "placement-argument-required"


def test_another_placement_with_an_argument_is_recorded() -> None:
    step = DecidePlacement(kind="closed", region="Zeeland", argument="runs away every week")
    assert types(Story().when(step)) == [PlacementDecided]


def test_registering_by_name_needs_consent() -> None:
    step = DecideComenshaRegistration(decision="registered_by_name")
    assert Story().refused(step).code == "comensha-consent-required"


@pytest.mark.parametrize("decision", ["not_registered", "registered_by_date_of_birth"])
@pytest.mark.parametrize("argument", [None, "", "  "])
def test_not_registering_by_name_needs_an_argument(decision: str, argument: str | None) -> None:
    step = msgspec.convert(
        {"decision": decision, "argument": argument}, DecideComenshaRegistration
    )
    assert Story().refused(step).code == "comensha-argument-required"


@pytest.mark.parametrize("decision", ["not_registered", "registered_by_date_of_birth"])
def test_not_registering_by_name_with_an_argument_is_recorded(decision: str) -> None:
    step = msgspec.convert(
        {"decision": decision, "argument": "she fears reprisals"}, DecideComenshaRegistration
    )
    assert types(Story().when(step)) == [ComenshaRegistrationDecided]


def test_a_girl_under_16_does_not_consent_herself() -> None:
    # given a girl of 15
    step = DecideComenshaRegistration(decision="registered_by_name", consent_by="girl")
    # when she consents herself, then refused; on her 16th birthday, recorded
    assert Story().refused(step).code == "consent-too-young"
    story = Story().days_pass((date(2026, 4, 1) - INTAKE).days)
    assert types(story.when(step)) == [ComenshaRegistrationDecided]


def test_a_parent_consents_for_a_girl_under_16() -> None:
    step = DecideComenshaRegistration(decision="registered_by_name", consent_by="parent")
    assert types(Story().when(step)) == [ComenshaRegistrationDecided]


# -- handover and aftercare ------------------------------------------------------------------


def prepare(**package: str) -> Command:
    return PrepareHandover(
        receiving_organisation="org-c",
        receiving_worker=RECEIVER,
        package=msgspec.structs.replace(handover_package(), **package),
    )


@pytest.mark.parametrize(
    "part", ["sexual_development", "loverboy_problem", "safety_plan", "aftercare_plan"]
)
def test_a_handover_package_without_a_required_part_is_refused(part: str) -> None:
    # given phase 3 with a CoMensha decision
    story = in_phase(3)
    # when the handover is prepared with that part blank, then refused naming it
    error = story.refused(prepare(**{part: "  "}))
    assert error.code == "handover-package-incomplete"
    assert error.unmet == (part,)


def test_a_handover_without_a_comensha_decision_is_refused() -> None:
    # given phase 2, no CoMensha decision yet
    error = in_phase(2).refused(prepare())
    assert error.code == "handover-package-incomplete"
    assert error.unmet == ("comensha-decision",)


def test_the_handover_meeting_needs_a_prepared_handover() -> None:
    assert in_phase(3).refused(warm_meeting()).code == "handover-not-prepared"


@pytest.mark.parametrize(
    "meeting",
    [warm_meeting(girl=False), warm_meeting(sending=False), warm_meeting(receiving=False)],
    ids=["without the girl", "without the sending worker", "without the receiving worker"],
)
def test_a_handover_meeting_that_is_not_warm_is_refused(meeting: Command) -> None:
    story = in_phase(3).given(prepare())
    assert story.refused(meeting).code == "handover-not-warm"


def test_a_warm_handover_meeting_is_recorded() -> None:
    story = in_phase(3).given(prepare())
    assert types(story.when(warm_meeting())) == [HandoverMeetingHeld]


def test_the_handover_is_accepted_only_by_the_receiving_worker() -> None:
    # given a warm handover meeting
    story = in_phase(3).given(prepare(), warm_meeting())
    # when the coordinator accepts it, then refused
    assert story.refused(AcceptHandover()).code == "handover-wrong-receiver"
    # when the receiving worker accepts it, then recorded
    assert types(story.when(AcceptHandover(), by=RECEIVER)) == [HandoverAccepted]
    # and it is accepted once
    assert story.refused(AcceptHandover(), by=RECEIVER).code == "no-change"


def test_the_handover_is_accepted_only_after_the_meeting() -> None:
    story = in_phase(3).given(prepare())
    assert story.refused(AcceptHandover(), by=RECEIVER).code == "handover-meeting-missing"


def test_aftercare_starts_only_after_the_warm_handover() -> None:
    # given phase 3, nothing handed over
    story = in_phase(3)
    start = StartAftercare(plan="weekly visits", destination="independent")
    # when aftercare starts, then every handover criterion is unmet
    error = story.refused(start)
    assert error.code == "entry-criteria-unmet"
    assert error.unmet == ("handover-prepared", "handover-meeting", "handover-accepted")
    # given the handover prepared and the meeting held, then only the acceptance is unmet
    story.given(prepare(), warm_meeting())
    assert story.refused(start).unmet == ("handover-accepted",)
    # given it is accepted, then aftercare starts
    story.given(accepted_by_receiver)
    assert types(story.when(start)) == [AftercareStarted]
    assert story.state.status == "aftercare"


def test_aftercare_does_not_start_while_a_runaway_is_open() -> None:
    story = in_phase(3).given(*warm_handover(), runaway())
    assert story.refused(StartAftercare(plan="visits")).code == "runaway-open"


def test_aftercare_contacts_are_recorded_only_in_aftercare() -> None:
    # given she is still in care, when an aftercare contact is recorded, then refused
    step = RecordAftercareContact(kind="visit")
    assert in_phase(3).refused(step).code == "not-in-aftercare"
    # given aftercare, then it is recorded
    assert types(in_aftercare().when(step)) == [AftercareContactRecorded]


def test_aftercare_ends_with_a_reason_and_once() -> None:
    story = in_aftercare()
    assert story.refused(EndAftercare(reason=" ")).code == "reason-required"
    assert types(story.when(EndAftercare(reason="she is doing well"))) == [AftercareEnded]
    assert story.refused(EndAftercare(reason="again")).code == "not-in-aftercare"


# -- corrections ---------------------------------------------------------------------------


def test_a_fact_marked_in_error_no_longer_counts() -> None:
    # given every phase-2 fact after 28 days, the medical assessment then marked in error
    story = Story().given(*phase_2_facts()).days_pass(28)
    position = story.position_of(MedicalCareAssessed)
    events = story.when(
        CorrectEntry(position=position, action="mark_in_error", reason="wrong girl's file")
    )
    assert types(events) == [EntryMarkedInError]
    # when she is advanced, then the medical assessment is unmet again
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    assert error.unmet == ("medical-assessment",)


def test_a_care_analysis_marked_in_error_is_unmet_again() -> None:
    # given every phase-2 fact after 28 days, the care analysis then marked in error
    story = Story().given(*phase_2_facts()).days_pass(28)
    position = story.position_of(CareAnalysisRecorded)
    story.given(CorrectEntry(position=position, action="mark_in_error", reason="draft"))
    # when she is advanced, then the care analysis is unmet
    error = story.refused(TransitionPhase(to_phase=2, reason="doing well"))
    assert error.unmet == ("care-analysis",)


def test_a_corrected_date_moves_the_evidence() -> None:
    # given phase 2 for 70 days, then every phase-3 fact with a new care analysis
    story = in_phase(2).days_pass(70).given(*phase_3_facts())
    position = story.position_of(CareAnalysisRecorded)
    # when its date is corrected to 100 days ago
    events = story.when(
        CorrectEntry(
            position=position,
            reason="was the analysis of October",
            corrected_occurred_on=story.today - timedelta(days=100),
        )
    )
    # then it is recorded and the care analysis is no longer current
    assert types(events) == [EntryCorrected]
    error = story.refused(TransitionPhase(to_phase=3, reason="ready"))
    assert error.unmet == ("care-analysis-current",)


def test_a_correction_to_a_future_date_is_refused() -> None:
    story = Story().given(RecordSignal(kind="loverboy"))
    step = CorrectEntry(
        position=2, reason="typo", corrected_occurred_on=story.today + timedelta(days=1)
    )
    assert story.refused(step).code == "occurred-in-future"


@pytest.mark.parametrize("action", ["correct", "mark_in_error"])
def test_decisions_are_answered_by_a_new_decision_not_corrected(action: str) -> None:
    # given the intake (1) and a permission (2); position 99 does not exist
    story = Story().given(permission("internet", "supervised"))
    for position in (1, 2, 99):
        step = msgspec.convert(
            {"position": position, "action": action, "reason": "mistake"}, CorrectEntry
        )
        assert story.refused(step).code == "entry-not-correctable"


def test_a_therapy_start_marked_in_error_lets_the_real_therapy_start() -> None:
    # given a trauma therapy start recorded in the wrong girl's file, then marked in error
    story = Story().given(StartTraumaTherapy(method="emdr", provider="jeugd-ggz"))
    position = story.position_of(TraumaTherapyStarted)
    story.given(CorrectEntry(position=position, action="mark_in_error", reason="wrong girl"))
    # then no therapy is running and none counts
    assert story.state.therapy is None
    assert not story.state.has("trauma-therapy")
    # when her own therapy starts, then it is recorded
    events = story.when(StartTraumaTherapy(method="cbt", provider="jeugd-ggz"))
    assert types(events) == [TraumaTherapyStarted]
    assert story.state.has("trauma-therapy")


def test_an_older_therapy_marked_in_error_leaves_the_running_one() -> None:
    # given a completed therapy and a second one running
    story = Story().given(StartTraumaTherapy(method="emdr", provider="jeugd-ggz"))
    first = story.position_of(TraumaTherapyStarted)
    story.given(CompleteTraumaTherapy(), StartTraumaTherapy(method="cbt", provider="jeugd-ggz"))
    # when the first is marked in error, then the second still runs and counts
    story.given(CorrectEntry(position=first, action="mark_in_error", reason="duplicate"))
    assert story.state.therapy is not None
    assert story.state.therapy.method == "cbt"
    assert story.state.has("trauma-therapy")


def test_an_entry_marked_in_error_is_not_marked_again() -> None:
    story = Story().given(RecordSignal(kind="loverboy"))
    mark = CorrectEntry(position=2, action="mark_in_error", reason="wrong girl")
    story.given(mark)
    assert story.refused(mark).code == "entry-not-correctable"


def test_a_correction_needs_a_reason() -> None:
    story = Story().given(RecordSignal(kind="loverboy"))
    assert story.refused(CorrectEntry(position=2, reason=" ")).code == "reason-required"


# -- when things happened -------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        RecordSignal(kind="loverboy"),
        permission("internet", "supervised"),
        TransitionPhase(to_phase=2, reason="x", waivers=[waiver("min-days-in-phase")]),
        runaway(),
    ],
    ids=["a fact", "a permission", "a phase advance", "a runaway"],
)
def test_something_that_occurred_in_the_future_is_refused(step: Command) -> None:
    story = Story().given(*phase_2_facts()).days_pass(3)
    error = story.refused(step, occurred_on=story.today + timedelta(days=1))
    assert error.code == "occurred-in-future"


def test_an_intake_in_the_future_is_refused() -> None:
    with pytest.raises(RuleRefused) as info:
        Trajectory.open(
            meta=Meta(recorded_by="coord-1", occurred_on=date(2026, 1, 6), today=INTAKE),
            protocol=default_protocol(),
            organisation="org-a",
            coordinator="coord-1",
            referral_source="police",
            legal_framework="ots",
            setting="residential",
            victim_status="potential",
            risk_profiles=[],
            risk_assessment_instrument="-",
            risk_assessment_result="-",
            identity=Identity(name="X", date_of_birth=BORN, home_region="Utrecht"),
        )
    assert info.value.code == "occurred-in-future"


def test_a_fact_from_the_past_counts_from_the_day_it_happened() -> None:
    # given 10 days in care
    story = Story().days_pass(10)
    # when the safety analysis of day 2 is recorded late
    story.when(phase_2_facts()[0], occurred_on=INTAKE + timedelta(days=2))
    # then it counts from day 2
    assert story.state.latest("safety-analysis") == INTAKE + timedelta(days=2)


def test_nothing_is_recorded_after_closure() -> None:
    story = Story().given(left_care())
    assert story.refused(RecordSignal(kind="runaway")).code == "trajectory-closed"


# -- the smaller rules, one line each --------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "refused", "code"),
    [
        ([], RecordCareAnalysis(disciplines=["psychologist", " Psychologist "]),
         "care-analysis-disciplines"),
        ([], SetTreatmentPlan(goals=["stabilise"]), "care-analysis-missing"),
        ([], AssessMedicalCare(needs=["none", "sti_test"], provider="GP"), "needs-invalid"),
        ([], StartTraumaTherapy(method="other", provider="ggz"), "therapy-reason-required"),
        ([StartTraumaTherapy(method="emdr", provider="ggz")],
         StartTraumaTherapy(method="cbt", provider="ggz"), "therapy-running"),
        ([], HoldTraumaTherapySession(), "therapy-not-started"),
        ([], HoldCaseConference(partners=[" "]), "partners-required"),
        ([], ChangeVictimStatus(victim_status="confirmed", reason=" "), "reason-required"),
        ([], ChangeVictimStatus(victim_status="suspected", reason="again"), "no-change"),
        ([], CloseTrajectory(reason="other"), "reason-required"),
    ],
    ids=[
        "a care analysis of one discipline",
        "a treatment plan without a care analysis",
        "no medical needs and some",
        "another therapy without a reason",
        "a second therapy while one runs",
        "a session without a therapy",
        "a case conference without partners",
        "a victim status change without a reason",
        "a victim status unchanged",
        "closing for another reason without a note",
    ],
)
def test_a_smaller_rule_refuses_and_records_nothing(
    given: list[Command], refused: Command, code: str
) -> None:
    story = Story().given(*given)
    assert story.refused(refused).code == code


# -- attention items -------------------------------------------------------------------------


def test_at_intake_the_first_items_are_due_and_none_is_overdue() -> None:
    # given a girl just taken in, then the first items are due by the protocol's numbers
    assert Story().attention() == [
        AttentionItem(code="education", due_on=date(2026, 1, 12), overdue=False),
        AttentionItem(code="safety-analysis", due_on=date(2026, 1, 12), overdue=False),
        AttentionItem(code="comensha-decision", due_on=date(2026, 2, 4), overdue=False),
        AttentionItem(code="care-analysis", due_on=date(2026, 2, 16), overdue=False),
    ]


def test_an_item_is_overdue_the_day_after_it_is_due() -> None:
    # given 7 days in care, then the safety analysis is due today, not overdue
    story = Story().days_pass(7)
    assert story.due()["safety-analysis"] == (date(2026, 1, 12), False)
    # when a day passes, then it is overdue
    story.days_pass(1)
    assert story.due()["safety-analysis"] == (date(2026, 1, 12), True)
    assert story.due()["comensha-decision"] == (date(2026, 2, 4), False)


def test_a_recorded_fact_takes_its_item_away_and_marking_it_in_error_brings_it_back() -> None:
    # given a safety analysis on day 3
    story = Story().days_pass(3).given(phase_2_facts()[0])
    assert "safety-analysis" not in story.due()
    # when it is marked in error, then the item is back, overdue by now
    story.days_pass(10)
    story.given(CorrectEntry(position=2, action="mark_in_error", reason="wrong file"))
    assert story.due()["safety-analysis"] == (date(2026, 1, 12), True)


def test_the_care_analysis_is_due_again_every_three_months() -> None:
    # given a care analysis on day 10
    story = Story().days_pass(10).given(RecordCareAnalysis(disciplines=["psy", "pedagogue"]))
    due = date(2026, 1, 15) + timedelta(days=91)
    assert story.due()["care-analysis"] == (due, False)
    # when 92 days pass, then it is overdue
    story.days_pass(92)
    assert story.due()["care-analysis"] == (due, True)


def test_after_a_runaway_a_medical_assessment_and_a_safety_analysis_are_due() -> None:
    # given every phase-2 fact, and she ran away on day 30
    story = Story().given(*phase_2_facts()).days_pass(30).given(runaway())
    # then while she is away nothing is due for her return
    assert "medical-after-runaway" not in story.due()
    # when she returns on day 33
    story.days_pass(3).given(EndRunaway(ending="found"))
    returned = story.today
    # then both are due within two days; the assessments before the runaway do not count
    assert story.due()["medical-after-runaway"] == (returned + timedelta(days=2), False)
    assert story.due()["safety-after-runaway"] == (returned + timedelta(days=2), False)
    story.days_pass(3)
    assert story.due()["medical-after-runaway"] == (returned + timedelta(days=2), True)
    # when both are recorded, then they are no longer due
    story.given(*phase_2_facts()[:2])
    assert "medical-after-runaway" not in story.due()
    assert "safety-after-runaway" not in story.due()


def test_the_handover_is_due_for_acceptance_within_14_days_of_the_meeting() -> None:
    # given a warm handover meeting
    story = in_phase(3).given(prepare(), warm_meeting())
    meeting = story.today
    assert story.due()["handover-acceptance"] == (meeting + timedelta(days=14), False)
    # when 15 days pass, then it is overdue; when accepted, then it is gone
    story.days_pass(15)
    assert story.due()["handover-acceptance"] == (meeting + timedelta(days=14), True)
    story.given(accepted_by_receiver)
    assert "handover-acceptance" not in story.due()


def test_in_aftercare_a_contact_is_due_every_four_weeks() -> None:
    # given aftercare started today
    story = in_aftercare()
    start = story.today
    # then the aftercare contact is due, 28 days on (and the follow-up measurement at the
    # end of care, 30 days on)
    assert story.attention() == [
        AttentionItem(code="aftercare-contact", due_on=start + timedelta(days=28), overdue=False),
        AttentionItem(code="follow-up", due_on=start + timedelta(days=30), overdue=False),
    ]
    # when 29 days pass, then it is overdue
    story.days_pass(29)
    assert story.due()["aftercare-contact"] == (start + timedelta(days=28), True)
    # when she is visited, then the next contact is due 28 days after the visit
    story.given(RecordAftercareContact(kind="visit"))
    assert story.due()["aftercare-contact"] == (story.today + timedelta(days=28), False)
    # when aftercare ends, then nothing is due but the follow-up measurement
    story.given(EndAftercare(reason="doing well"))
    assert [i.code for i in story.attention()] == ["follow-up"]


def test_a_closed_trajectory_has_no_attention_items_but_its_follow_up() -> None:
    story = Story().days_pass(60).given(left_care())
    assert story.attention() == [
        AttentionItem(code="follow-up", due_on=story.today + timedelta(days=30), overdue=False)
    ]


def test_the_attention_numbers_come_from_the_protocol() -> None:
    # given a girl taken in under the four-phase protocol
    story = Story(load_protocol(PROTOCOLS / "four_phases.toml"))
    # then its own numbers apply
    assert story.due() == {
        "safety-analysis": (INTAKE + timedelta(days=3), False),
        "education": (INTAKE + timedelta(days=14), False),
        "comensha-decision": (INTAKE + timedelta(days=21), False),
        "care-analysis": (INTAKE + timedelta(days=28), False),
    }


def test_the_summary_of_permission_kinds_is_complete() -> None:
    # the caps table above covers every permission kind there is
    assert all(set(caps) == set(PERMISSION_KINDS) for caps in DEFAULT_CAPS.values())
