"""Properties of the rules, over any story: drawn sequences of commands, accepted or refused.

- Whatever is asked, the state never goes above the caps of the phase she is in, and a
  prohibited contact never gets above `none`; a refused command changes nothing.
- Replaying the recorded events gives exactly the state the aggregate holds.
- On the real store, the trajectory as of any recorded event's timestamp is the state
  after exactly the events recorded by then.

Both protocols run: the default and the four-phase test protocol.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from typing import TYPE_CHECKING, Any, get_args

import hypothesis
import msgspec
import pytest
from hypothesis import strategies as st

from tests.builders import (
    AFTERCARE,
    COORDINATOR,
    handover_package,
    intake,
    phase_2_facts,
    phase_3_facts,
)
from tests.conftest import PROTOCOLS, FakeClock, all_protocols
from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.network import NetworkContactRestricted
from trajectory.aggregates.events.phasing import PermissionsCapped, Waiver
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.aggregates.vocabulary import (
    CONTACT_SCALE,
    PERMISSION_KINDS,
    ContactRisk,
    Level,
    PermissionKind,
    contact_rank,
    level_rank,
)
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    AssessNetworkContactRisk,
    ChangePermission,
    CloseTrajectory,
    Command,
    CorrectEntry,
    EndRunaway,
    HoldHandoverMeeting,
    PrepareHandover,
    RecordAftercareContact,
    RegisterNetworkContact,
    ReportRunaway,
    RestoreNetworkContact,
    RestrictNetworkContact,
    StartAftercare,
    TransitionPhase,
)
from trajectory.protocol import Protocol, default_protocol, load_protocol
from trajectory.protocol.model import Criterion
from trajectory.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from trajectory.aggregates.state import TrajectoryState

FOUR_PHASES = load_protocol(PROTOCOLS / "four_phases.toml")
INTAKE = date(2026, 1, 5)

# -- drawing stories -------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A phase transition relative to where she is (+1 next, -1 back), as drawn phase
    numbers would mostly miss; the runner turns it into `TransitionPhase`."""

    by: int
    reason: str
    waivers: list[Waiver]

    def command(self, phase: int) -> TransitionPhase:
        return TransitionPhase(to_phase=phase + self.by, reason=self.reason, waivers=self.waivers)


@dataclass(frozen=True)
class ToCap:
    """Raise a permission (or, without a kind, the contact pointed at) to the most her
    phase allows, so that stories sit at the caps when she is regressed."""

    kind: PermissionKind | None

    def command(self, state: TrajectoryState, protocol: Protocol, contact: str) -> Command:
        spec = protocol.phase_spec(state.phase)
        if self.kind is not None:
            return ChangePermission(kind=self.kind, level=spec.caps[self.kind], reason="trust")
        risk = state.contacts[contact].risk if contact else "safe"
        level = "supervised" if risk == "prohibited" else spec.network[risk]
        return RestoreNetworkContact(contact_id=contact, level=level, reason="trust")


@dataclass(frozen=True)
class Act:
    """One step of a story: days pass, then commands run; each may be accepted or refused.

    Contact commands point at a registered contact by number, as drawn ids would never
    match the random ids the aggregate gives."""

    days: int
    commands: tuple[Command | Move | ToCap, ...]
    contact: int = 0


def waivers() -> st.SearchStrategy[list[Waiver]]:
    return st.lists(
        st.builds(
            Waiver,
            criterion=st.sampled_from(get_args(Criterion)),
            justification=st.sampled_from(["", "  ", "argued in the case conference"]),
        ),
        max_size=3,
    )


FACTS: list[Command] = [
    *phase_2_facts(),
    *phase_3_facts(),
    PrepareHandover(
        receiving_organisation="org-c",
        receiving_worker=AFTERCARE.user_id,
        package=handover_package(),
    ),
    HoldHandoverMeeting(
        girl_present=True, sending_worker_present=True, receiving_worker_present=True
    ),
    AcceptHandover(),
    StartAftercare(plan="weekly visits"),
    RecordAftercareContact(kind="phone"),
]

levels = st.sampled_from(get_args(Level))
risks = st.sampled_from(get_args(ContactRisk))
contact_levels = st.sampled_from(CONTACT_SCALE)

command: st.SearchStrategy[Command] = st.one_of(
    st.builds(
        ChangePermission,
        kind=st.sampled_from(PERMISSION_KINDS),
        level=levels,
        reason=st.just("agreed in the team"),
    ),
    st.builds(RegisterNetworkContact, role=st.just("network member"), risk=risks),
    st.builds(AssessNetworkContactRisk, risk=risks, reason=st.just("new information")),
    st.builds(RestoreNetworkContact, level=contact_levels, reason=st.just("going well")),
    st.builds(
        RestrictNetworkContact, level=contact_levels, reason=st.sampled_from(["", "tension"])
    ),
    st.builds(
        TransitionPhase,
        to_phase=st.integers(1, 5),
        reason=st.sampled_from(["", "progress"]),
        waivers=waivers(),
    ),
    st.just(ReportRunaway(from_where="group home")),
    st.just(EndRunaway(ending="returned")),
    st.sampled_from(FACTS),
    st.builds(
        CorrectEntry,
        position=st.integers(1, 30),
        action=st.sampled_from(["correct", "mark_in_error"]),
        reason=st.just("recorded by mistake"),
    ),
)
step: st.SearchStrategy[Command | Move | ToCap] = st.one_of(
    command,
    st.builds(ToCap, kind=st.none() | st.sampled_from(PERMISSION_KINDS)),
    st.builds(Move, by=st.just(1), reason=st.just("progress"), waivers=waivers()),
    st.builds(
        Move,
        by=st.sampled_from([-1, -2]),
        reason=st.sampled_from(["relapse", "relapse", ""]),
        waivers=st.just([]),
    ),
)
one_step = st.builds(
    Act,
    days=st.sampled_from([0, 0, 0, 1, 3, 14, 30, 45]),
    commands=st.tuples(step),
    contact=st.integers(0, 3),
)
# A safe contact, then every permission and that contact up to the caps of her phase:
# what a regression or a new risk assessment must then lower.
UP_TO_THE_CAPS: tuple[Command | ToCap, ...] = (
    RegisterNetworkContact(role="aunt", risk="safe"),
    *(ToCap(kind) for kind in PERMISSION_KINDS),
    ToCap(None),
)
to_the_caps = st.just(Act(days=0, commands=UP_TO_THE_CAPS, contact=-1))
# Everything the phases ask for, a month and a half, the next phase, and up to its caps;
# and the whole handover into aftercare: so that drawn stories reach the later phases.
all_facts = st.just(
    Act(days=45, commands=(*FACTS[:10], Move(1, "progress", []), *UP_TO_THE_CAPS), contact=-1)
)
handover = st.just(Act(days=14, commands=tuple(FACTS[10:])))
reassessment = st.builds(
    Act,
    days=st.just(0),
    commands=st.tuples(st.builds(AssessNetworkContactRisk, risk=risks, reason=st.just("news"))),
    contact=st.integers(-1, 3),
)
regression = st.just(Act(days=0, commands=(Move(-1, "relapse", []),)))
# one_of picks a branch evenly: one step is listed several times to weigh it.
act: st.SearchStrategy[Act] = st.one_of(
    *[one_step] * 6,
    *[all_facts, to_the_caps, regression, reassessment] * 2,
    handover,
)
stories = st.lists(act, min_size=3, max_size=40)
protocols = st.sampled_from([default_protocol(), FOUR_PHASES])


def pointed(
    command: Command | Move | ToCap, state: TrajectoryState, protocol: Protocol, number: int
) -> Command:
    """The command as it runs: a move made absolute, a cap looked up, a contact filled in."""
    contacts = list(state.contacts)
    contact = contacts[number % len(contacts)] if contacts else ""
    if isinstance(command, Move):
        return command.command(state.phase)
    if isinstance(command, ToCap):
        return command.command(state, protocol, contact)
    if isinstance(
        command, AssessNetworkContactRisk | RestoreNetworkContact | RestrictNetworkContact
    ):
        return msgspec.structs.replace(command, contact_id=contact)
    return command


def actor_for(command: Command) -> str:
    # The receiving worker accepts a handover; refusing anyone else is a rule test's job.
    return AFTERCARE.user_id if isinstance(command, AcceptHandover) else COORDINATOR.user_id


# -- the invariants --------------------------------------------------------------------------


def assert_within_caps(state: TrajectoryState, protocol: Protocol) -> None:
    for contact in state.contacts.values():
        if contact.risk == "prohibited":
            assert contact.level == "none", contact
    if state.status != "in_care":
        return  # the caps are the phases' caps; out of care no phase applies
    spec = protocol.phase_spec(state.phase)
    for kind in PERMISSION_KINDS:
        level = state.permissions[kind]
        assert level_rank(kind, level) <= level_rank(kind, spec.caps[kind]), (kind, level)
    for contact in state.contacts.values():
        if contact.risk != "prohibited":
            cap = spec.network[contact.risk]
            assert contact_rank(contact.level) <= contact_rank(cap), contact


def replayed(events: list[TrajectoryEvent]) -> Trajectory:
    t: Any = reduce(lambda aggregate, event: event.mutate(aggregate), events, None)
    assert isinstance(t, Trajectory)
    return t


class Told:
    """A story told on the aggregate alone; every command checked as it runs."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.today = INTAKE
        self.t = Trajectory.open(
            meta=Meta(recorded_by=COORDINATOR.user_id, occurred_on=INTAKE, today=INTAKE),
            protocol=protocol,
            organisation=COORDINATOR.organisation,
            coordinator=COORDINATOR.user_id,
            referral_source="police",
            legal_framework="ots",
            setting="residential",
            victim_status="suspected",
            risk_profiles=["traumatised"],
            risk_assessment_instrument="risicotaxatie",
            risk_assessment_result="high",
            identity=intake().identity,
        )
        self.events = self._collect()

    def _collect(self) -> list[TrajectoryEvent]:
        pending = self.t.collect_events()
        events = [e for e in pending if isinstance(e, TrajectoryEvent)]
        assert len(events) == len(pending)
        return events

    def tell(self, acts: list[Act], after_each: Callable[[Told], None] | None = None) -> None:
        for a in acts:
            self.today += timedelta(days=a.days)
            for c in a.commands:
                self.run(pointed(c, self.t.state, self.protocol, a.contact))
                if after_each is not None:
                    after_each(self)

    def run(self, command: Command) -> None:
        meta = Meta(recorded_by=actor_for(command), occurred_on=self.today, today=self.today)
        version, state = self.t.version, copy.deepcopy(self.t.state)
        try:
            self.t.handle(command, meta, self.protocol)
        except RuleRefused:
            # A refusal records nothing and changes nothing.
            assert self.t.pending_events == []
            assert self.t.version == version
            assert self.t.state == state
            return
        self.events.extend(self._collect())


def statistics(told: Told) -> None:
    """What the drawn stories reached (pytest --hypothesis-show-statistics)."""
    state = told.t.state
    hypothesis.event(f"{told.protocol.name}: phase {state.phase}, {state.status}")
    if any(isinstance(e, PermissionsCapped) for e in told.events):
        hypothesis.event("capped by a regression")
    lowered = [e for e in told.events if isinstance(e, NetworkContactRestricted)]
    if any(e.reason.startswith("risk assessed") for e in lowered):
        hypothesis.event("a contact lowered by a new risk")


# -- the properties --------------------------------------------------------------------------


@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(protocol=protocols, acts=stories)
def test_no_story_leaves_her_above_the_caps_of_her_phase(
    protocol: Protocol, acts: list[Act]
) -> None:
    # given a girl taken in under either protocol
    told = Told(protocol)
    # when any story of commands is told, accepted or refused,
    # then after every command she is within her phase's caps
    told.tell(acts, after_each=lambda t: assert_within_caps(t.t.state, protocol))
    statistics(told)


@hypothesis.settings(max_examples=80, deadline=None)
@hypothesis.given(protocol=protocols, acts=stories, close=st.booleans())
def test_replaying_the_events_gives_the_same_state(
    protocol: Protocol, acts: list[Act], close: bool
) -> None:
    # given any story told on the aggregate (sometimes ending in closure)
    told = Told(protocol)
    told.tell(acts)
    if close:
        told.run(CloseTrajectory(reason="moved_away"))
    # when its events are replayed from nothing
    again = replayed(told.events)
    # then the replay is the aggregate: state, version and the head of the hash chain
    assert again.state == told.t.state
    assert again.version == told.t.version == len(told.events)
    assert again.head_hash == told.t.head_hash
    statistics(told)


def test_the_state_as_of_each_recorded_event_is_the_state_after_the_events_recorded_by_then(
    tmp_path: Path,
) -> None:
    # given a store in a SQLite file, snapshots every few events, and a clock of our own
    clock = FakeClock()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'as_of.sqlite'}", snapshot_interval=4)
    app = TrajectoryApplication(settings, clock=clock, protocols=all_protocols())

    @hypothesis.settings(max_examples=40, deadline=None)
    @hypothesis.given(acts=st.lists(act, max_size=15))
    def story_on_the_store(acts: list[Act]) -> None:
        # given a girl taken in today, and any story told through the application
        girl = app.open_trajectory(intake(intake_date=amsterdam_date(clock())), COORDINATOR)
        trajectory_id = girl.trajectory_id
        live: dict[int, TrajectoryState] = {1: copy.deepcopy(app.get(trajectory_id).state)}
        for a in acts:
            clock.advance(days=a.days)
            for c in a.commands:
                t = app.get(trajectory_id)
                cmd = pointed(c, t.state, app.protocol_of(t), a.contact)
                actor = AFTERCARE if actor_for(cmd) == AFTERCARE.user_id else COORDINATOR
                try:
                    recorded = app.execute(trajectory_id, cmd, actor)
                except RuleRefused:
                    continue
                live[recorded.version] = copy.deepcopy(app.get(trajectory_id).state)
        stream = list(app.stream(trajectory_id))
        # when the trajectory is read as of each recorded event's timestamp
        checked: set[int] = set()
        for event in stream:
            known = [e for e in stream if e.timestamp <= event.timestamp]
            then = app.get(trajectory_id, as_of=event.timestamp)
            # then it holds exactly the events recorded by then, in their state
            assert then.version == len(known)
            assert then.state == replayed(known).state
            if then.version in live:
                assert then.state == live[then.version]
                checked.add(then.version)
        # and every state the application answered with was seen again
        assert checked == set(live)
        # and before the first event there was no trajectory
        with pytest.raises(TrajectoryNotFound):
            app.get(trajectory_id, as_of=stream[0].timestamp - timedelta(microseconds=1))

    try:
        story_on_the_store()
    finally:
        app.close()
