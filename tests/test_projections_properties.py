"""Projections over any story: however the log was followed, the read models are the same.

- Followed incrementally (in small pages, some projections ahead of others, the runner
  restarted with nothing in memory now and then, trajectories erased on the way), every
  projection's tables equal a rebuild from scratch.
- A runner that dies between events, or while writing a page, and is started again,
  neither loses nor repeats anything: a projection that counts events holds exactly the
  events in the log.

Hypothesis does not mix with function-scoped fixtures: each example gets its own SQLite
file (the same suite of read-model tests runs on both stores in test_projections.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args
from uuid import UUID

import hypothesis
from hypothesis import strategies as st

from tests.builders import (
    AFTERCARE,
    COORDINATOR,
    OTHER_COORDINATOR,
    handover_package,
    intake,
    phase_2_facts,
    phase_3_facts,
)
from tests.conftest import MASTER_KEY, FakeClock, all_protocols
from tests.projection_support import (
    Crash,
    EventCounts,
    contents,
    event_counts_in_log,
    stored_event_counts,
)
from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    InterventionKind,
    SignalKind,
    VictimStatus,
)
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import (
    AcceptHandover,
    ChangePermission,
    ChangeVictimStatus,
    CloseTrajectory,
    Command,
    CorrectEntry,
    DecideComenshaRegistration,
    DeliverIntervention,
    DiscussPoliceReport,
    EndAftercare,
    EndRunaway,
    HoldCaseConference,
    HoldHandoverMeeting,
    PrepareHandover,
    RecordAftercareContact,
    RecordSignal,
    RegisterNetworkContact,
    ReportRunaway,
    StartAftercare,
    TransitionPhase,
)
from trajectory.crypto import TrajectoryErased
from trajectory.erasure import erase
from trajectory.projections import PROJECTION_NAMES, ProjectionRunner, setup_projections
from trajectory.protocol.model import Criterion
from trajectory.settings import Settings

# -- stories --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A phase transition relative to where she is."""

    by: int
    waivers: tuple[Waiver, ...] = ()


@dataclass(frozen=True)
class Fix:
    """Correct or mark in error the entry `back` positions before her latest."""

    back: int
    in_error: bool
    shift_days: int


@dataclass(frozen=True)
class Do:
    girl: int
    days: int
    what: Command | Move | Fix


@dataclass(frozen=True)
class CatchUp:
    names: tuple[str, ...] | None
    fresh: bool  # a new runner: nothing in memory, as after a restart


@dataclass(frozen=True)
class Erase:
    girl: int


Step = Do | CatchUp | Erase

GIRLS = (
    (COORDINATOR, date(2010, 4, 1)),  # a minor at intake
    (OTHER_COORDINATOR, date(2006, 11, 20)),  # 19 at intake
    (COORDINATOR, date(2011, 8, 9)),
)

HANDOVER: list[Command] = [
    PrepareHandover(
        receiving_organisation="org-c",
        receiving_worker=AFTERCARE.user_id,
        package=handover_package(),
    ),
    HoldHandoverMeeting(
        girl_present=True, sending_worker_present=True, receiving_worker_present=True
    ),
    AcceptHandover(),
    StartAftercare(plan="weekly"),
    RecordAftercareContact(kind="visit"),
    EndAftercare(reason="stable"),
    CloseTrajectory(reason="aftercare_completed"),
]
COMENSHA = DecideComenshaRegistration(decision="registered_by_name", consent_by="parent")
FACTS: list[Command] = [
    *phase_2_facts(),
    *phase_3_facts(),
    DiscussPoliceReport(outcome="later"),
    HoldCaseConference(partners=["police"]),
    RegisterNetworkContact(role="mother", risk="safe"),
    ReportRunaway(from_where="group"),
    EndRunaway(ending="returned"),
    *HANDOVER,
]

commands: st.SearchStrategy[Command | Move | Fix] = st.one_of(
    st.sampled_from(FACTS),
    st.builds(RecordSignal, kind=st.sampled_from(get_args(SignalKind))),
    st.builds(
        DeliverIntervention, kind=st.sampled_from(get_args(InterventionKind)), provider=st.just("x")
    ),
    st.builds(
        ChangeVictimStatus,
        victim_status=st.sampled_from(get_args(VictimStatus)),
        reason=st.just("new signals"),
    ),
    st.builds(
        DecideComenshaRegistration,
        decision=st.sampled_from(["registered_by_name", "not_registered"]),
        consent_by=st.just("parent"),
        argument=st.just("argued"),
    ),
    st.builds(
        ChangePermission,
        kind=st.sampled_from(PERMISSION_KINDS),
        level=st.sampled_from(["none", "supervised", "accompanied"]),
    ),
    st.builds(
        Move,
        by=st.sampled_from([1, 1, -1]),
        waivers=st.lists(
            st.builds(
                Waiver,
                criterion=st.sampled_from(get_args(Criterion)),
                justification=st.just("argued in the team"),
            ),
            max_size=8,
            unique_by=lambda w: w.criterion,
        ).map(tuple),
    ),
    st.builds(Fix, back=st.integers(0, 6), in_error=st.booleans(), shift_days=st.integers(-3, 0)),
)
do = st.builds(
    Do,
    girl=st.integers(0, len(GIRLS) - 1),
    days=st.sampled_from([0, 0, 1, 5, 20, 40]),
    what=commands,
)
# Everything phase 2 asks for, in one go, so that stories reach the later phases.
ready = st.builds(
    lambda girl: [Do(girl, 0, c) for c in phase_2_facts()] + [Do(girl, 30, Move(1))],
    st.integers(0, len(GIRLS) - 1),
)
handed_over = st.builds(
    lambda girl: [Do(girl, 2, c) for c in [COMENSHA, *HANDOVER]], st.integers(0, len(GIRLS) - 1)
)
catch_up = st.builds(
    CatchUp,
    names=st.none()
    | st.lists(st.sampled_from(PROJECTION_NAMES), min_size=1, unique=True).map(tuple),
    fresh=st.booleans(),
)
steps: st.SearchStrategy[list[Step]] = st.lists(
    st.one_of(
        do.map(lambda s: [s]),
        do.map(lambda s: [s]),
        do.map(lambda s: [s]),
        ready,
        handed_over,
        catch_up.map(lambda s: [s]),
        st.builds(Erase, girl=st.integers(0, len(GIRLS) - 1)).map(lambda s: [s]),
    ),
    min_size=3,
    max_size=40,
).map(lambda parts: [s for part in parts for s in part])


@contextmanager
def fresh_store() -> Iterator[tuple[TrajectoryApplication, FakeClock]]:
    with tempfile.TemporaryDirectory() as directory:
        clock = FakeClock()
        settings = Settings(
            database_url=f"sqlite:///{Path(directory) / 'p.sqlite'}",
            snapshot_interval=5,
            master_key=MASTER_KEY,
        )
        app = TrajectoryApplication(settings, clock=clock, protocols=all_protocols())
        try:
            yield app, clock
        finally:
            app.close()


class Story:
    """The girls of one example, told through the application."""

    def __init__(self, app: TrajectoryApplication, clock: FakeClock):
        self.app = app
        self.clock = clock
        self.girls: list[tuple[UUID, Actor]] = []
        for coordinator, born in GIRLS:
            opened = app.open_trajectory(
                intake(
                    intake_date=date(2026, 3, 1),
                    identity=Identity(name="Test", date_of_birth=born, home_region="Utrecht"),
                ),
                coordinator,
            )
            self.girls.append((opened.trajectory_id, coordinator))
        self.erased: set[UUID] = set()

    def do(self, step: Do) -> None:
        trajectory_id, coordinator = self.girls[step.girl]
        self.clock.advance(days=step.days)
        try:
            t = self.app.get(trajectory_id)
            command = self.command(step.what, t.state.phase, t.version)
            actor = (
                AFTERCARE
                if isinstance(
                    command, AcceptHandover | StartAftercare | RecordAftercareContact | EndAftercare
                )
                else coordinator
            )
            self.app.execute(trajectory_id, command, actor)
        except (RuleRefused, TrajectoryErased, TrajectoryNotFound):
            pass

    def command(self, what: Command | Move | Fix, phase: int, version: int) -> Command:
        if isinstance(what, Move):
            return TransitionPhase(
                to_phase=phase + what.by, reason="story", waivers=list(what.waivers)
            )
        if isinstance(what, Fix):
            today = self.clock().date()
            return CorrectEntry(
                position=max(version - what.back, 1),
                action="mark_in_error" if what.in_error else "correct",
                reason="story",
                corrected_occurred_on=None
                if what.in_error or not what.shift_days
                else date.fromordinal(today.toordinal() + what.shift_days),
            )
        return what

    def erase(self, step: Erase) -> None:
        trajectory_id, coordinator = self.girls[step.girl]
        if trajectory_id in self.erased:
            return
        erase(
            self.app, trajectory_id, by=coordinator, reason="story", legal_ground="request-granted"
        )
        self.erased.add(trajectory_id)


def runner_for(app: TrajectoryApplication, page_size: int, **extra: Any) -> ProjectionRunner:
    return setup_projections(app, page_size=page_size, **extra)


@hypothesis.settings(
    max_examples=30, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
@hypothesis.given(story=steps, page_size=st.sampled_from([1, 3, 8, 500]))
def test_every_projection_built_as_the_log_grows_equals_a_rebuild_from_scratch(
    story: list[Step], page_size: int
) -> None:
    with fresh_store() as (app, clock):
        # given girls whose stories are told, the read models followed as the log grows:
        # in small pages, some projections ahead of others, a runner restarted now and then
        told = Story(app, clock)
        runner = runner_for(app, page_size)
        for step in story:
            if isinstance(step, Do):
                told.do(step)
            elif isinstance(step, Erase):
                told.erase(step)
            else:
                if step.fresh:
                    runner = runner_for(app, page_size)
                runner.catch_up(step.names)
        runner.catch_up()
        followed = contents(app, runner)
        # when every projection is rebuilt from the log by a runner that saw nothing before
        again = runner_for(app, 500)
        again.rebuild()
        # then the tables are the same, row for row
        assert contents(app, again) == followed
        # and both stand at the end of the log, the erased girls' events skipped and counted
        head = app.recorder.max_notification_id()
        assert {s.name: s.position for s in again.status()} == dict.fromkeys(PROJECTION_NAMES, head)
        erased_events = sum(len(app.recorder.select_events(t)) for t in told.erased)
        assert {s.erased_skipped for s in again.status()} == {erased_events}
        for trajectory_id in told.erased:
            assert all(trajectory_id.hex not in str(rows) for rows in followed.values())
        hypothesis.event(f"{head} events, {len(told.erased)} erased")


@hypothesis.settings(
    max_examples=30, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
@hypothesis.given(
    story=steps,
    crash_after=st.integers(0, 120),
    in_flush=st.booleans(),
    page_size=st.sampled_from([1, 4, 500]),
)
def test_a_runner_that_dies_and_restarts_neither_loses_nor_repeats_an_event(
    story: list[Step], crash_after: int, in_flush: bool, page_size: int
) -> None:
    with fresh_store() as (app, clock):
        # given a story in the log
        told = Story(app, clock)
        for step in story:
            if isinstance(step, Do):
                told.do(step)
            elif isinstance(step, Erase):
                told.erase(step)
        # when a runner dies part-way: between two events, or while writing a page
        kwargs: dict[str, Any] = (
            {"crash_in_flush": 1 + crash_after // 10} if in_flush else {"crash_after": crash_after}
        )
        dying = EventCounts(app.protocols, **kwargs)
        runner = runner_for(app, page_size, extra=[dying])
        crashed = False
        try:
            runner.catch_up()
        except Crash:
            crashed = True
        hypothesis.event("crashed" if crashed else "finished before the crash")
        # and a new runner (nothing in memory) starts where the old one stood
        restarted = runner_for(app, page_size, extra=[EventCounts(app.protocols)])
        restarted.catch_up()
        # then every event of the log was counted exactly once
        assert stored_event_counts(app) == event_counts_in_log(app)
        # and the read models are those of a rebuild
        followed = contents(app, restarted)
        rebuilt = runner_for(app, 500, extra=[EventCounts(app.protocols)])
        rebuilt.rebuild()
        assert contents(app, rebuilt) == followed
