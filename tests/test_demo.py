"""The demo: realistic synthetic trajectories written through the commands, then verified,
shown and read like real ones."""

from __future__ import annotations

import inspect
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
import structlog

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.chain import ComenshaRegistrationDecided
from trajectory.aggregates.events.closure import TrajectoryClosed
from trajectory.aggregates.events.handover import (
    AftercareContactRecorded,
    AftercareStarted,
    HandoverAccepted,
    HandoverPrepared,
)
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.outcomes import (
    FollowUpMeasured,
    FollowUpNotPossible,
    RevictimisationReported,
)
from trajectory.aggregates.events.phasing import PhaseAdvanced
from trajectory.aggregates.events.runaway import RunawayEnded, RunawayReported
from trajectory.aggregates.events.teams import TeamAssigned
from trajectory.aggregates.events.treatment import TraumaTherapyStarted
from trajectory.application import TrajectoryApplication
from trajectory.cli import build_parser, main
from trajectory.clock import amsterdam_date
from trajectory.demo import TEAMS, run_demo
from trajectory.identity.teams import Teams
from trajectory.logs import configure_logging
from trajectory.protocol.attention import attention_items
from trajectory.protocol.out_of_view import out_of_view
from trajectory.protocol.rules import turns_18_on
from trajectory.settings import Settings
from trajectory.show import show

SMALL = 9  # one of each story the demo tells, and fast


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def streams(app: TrajectoryApplication) -> dict[UUID, list[TrajectoryEvent]]:
    return {UUID(r["trajectory_id"]): list(app.stream(UUID(r["trajectory_id"])))
            for r in app.index()}


def names(events: list[TrajectoryEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


@pytest.mark.usefixtures("restore_logging")
def test_demo_then_verify_then_show_on_the_command_line(
    app: TrajectoryApplication,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert inspect.signature(run_demo).parameters["count"].default == 40
    assert build_parser().parse_args(["demo"]).count == 40
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    if settings.master_key:
        monkeypatch.setenv("TRAJECTORY_MASTER_KEY", settings.master_key)

    assert main(["demo", "--count", str(SMALL)]) == 0
    assert f"wrote {SMALL} demo trajectories" in capsys.readouterr().out
    assert main(["verify"]) == 0
    assert f"verified {SMALL} trajectories" in capsys.readouterr().out

    # every status, the phases, runaways, regressions, waivers and aftercare are there
    index = app.index()
    assert len(index) == SMALL
    assert {r["status"] for r in index} == {"in_care", "aftercare", "closed"}
    assert {r["phase"] for r in index if r["status"] == "in_care"} >= {1, 2, 3}
    all_streams = streams(app)
    seen = Counter(name for events in all_streams.values() for name in set(names(events)))
    for expected in (
        "RunawayReported", "RunawayEnded", "PhaseRegressed", "PermissionsCapped",
        "TraumaTherapySessionHeld", "TraumaTherapyCompleted", "InterventionDelivered",
        "EducationArranged", "QualificationObtained", "HandoverMeetingHeld",
        "HandoverAccepted", "AftercareStarted", "AftercareContactRecorded", "AftercareEnded",
        "TrajectoryClosed", "EntryCorrected", "EntryMarkedInError", "VictimStatusChanged",
        "NetworkContactRestored", "CaseConferenceHeld", "PoliceReportFiled",
    ):
        assert seen[expected], expected
    events = [e for stream in all_streams.values() for e in stream]
    assert any(e.waivers for e in events if isinstance(e, PhaseAdvanced))
    assert all(w.justification.strip() for e in events if isinstance(e, PhaseAdvanced)
               for w in e.waivers)
    decisions = {e.decision for e in events if isinstance(e, ComenshaRegistrationDecided)}
    assert decisions == {"registered_by_name", "registered_by_date_of_birth", "not_registered"}
    therapies = {e.method for e in events if isinstance(e, TraumaTherapyStarted)}
    assert therapies >= {"emdr", "cbt"}

    # a warm handover is accepted by the worker it was made out to; an external receiver's
    # acceptance is recorded by her coordinator, with how it was confirmed
    for stream in all_streams.values():
        prepared = [e for e in stream if isinstance(e, HandoverPrepared)]
        for accepted in (e for e in stream if isinstance(e, HandoverAccepted)):
            if prepared[-1].external_receiver is not None:
                assert accepted.recorded_by.startswith("demo-coord-")
                assert accepted.confirmation.strip()
                continue
            assert accepted.recorded_by == prepared[-1].receiving_worker
            assert accepted.recorded_by.startswith("demo-after-")

    # after every return: a medical assessment and a new safety analysis within two days
    for stream in all_streams.values():
        for i, ended in enumerate(stream):
            if not isinstance(ended, RunawayEnded):
                continue
            soon = {type(e).__name__ for e in stream[i + 1:]
                    if e.occurred_on <= ended.occurred_on + timedelta(days=2)}
            assert {"MedicalCareAssessed", "SafetyAnalysisRecorded"} <= soon

    # show prints a demo girl's state and full history
    trajectory_id, history = next(iter(all_streams.items()))
    assert main(["show", str(trajectory_id)]) == 0
    out = capsys.readouterr().out
    assert f"Trajectory {trajectory_id}" in out
    assert f"History ({len(history)} events)" in out
    for event in history:
        assert f"{event.originator_version:>4}  {event.occurred_on.isoformat()}" in out
        assert event.hash[:12] in out
    assert "TrajectoryOpened" in out
    assert "Demo Meisje" not in out  # no names on the terminal

    # an unknown id is a clear message and exit code 1
    unknown = uuid4()
    assert main(["show", str(unknown)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"trajectory: no trajectory with id {unknown}"


def test_the_demo_follows_the_app_clock_and_is_deterministic_for_a_seed(
    app: TrajectoryApplication,
) -> None:
    today = amsterdam_date(app.clock())
    clock = app.clock
    seen_progress: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen_progress.append((done, total))

    processors = structlog.get_config()["processors"]
    assert run_demo(app, count=8, seed=7, progress=progress) == 8
    assert app.clock is clock  # lent to the demo while it recorded, then given back
    assert structlog.get_config()["processors"] == processors  # and so is logging
    assert seen_progress == [(n, 8) for n in range(1, 9)]
    first = by_name(app)
    assert sorted(first) == [f"Demo Meisje {n:02d}" for n in range(1, 9)]
    for events in first.values():
        opened = events[0]
        assert 183 <= (today - opened.occurred_on).days <= 730
        assert all(e.occurred_on <= today for e in events)
        assert [e.occurred_on for e in events] == sorted(e.occurred_on for e in events)

    # the same seed tells the same stories again (numbered after the girls already there)
    assert run_demo(app, count=3, seed=7, progress=progress) == 3
    again = by_name(app)
    for n in range(1, 4):
        assert story(again[f"Demo Meisje {n + 8:02d}"]) == story(first[f"Demo Meisje {n:02d}"])


def by_name(app: TrajectoryApplication) -> dict[str, list[TrajectoryEvent]]:
    named = {}
    for events in streams(app).values():
        opened = events[0]
        assert isinstance(opened, TrajectoryOpened)
        named[opened.identity.name] = events
    return named


def story(events: list[TrajectoryEvent]) -> list[tuple[str, date, str]]:
    return [(type(e).__name__, e.occurred_on, e.recorded_by) for e in events]


def test_show_prints_an_open_runaway_and_what_is_due(app: TrajectoryApplication) -> None:
    run_demo(app, count=4, progress=lambda done, total: None)
    (runaway,) = (t for t in map(UUID, (r["trajectory_id"] for r in app.index()))
                  if app.get(t).state.open_runaway is not None)
    out = io.StringIO()
    assert show(app, runaway, out) == 0
    text = out.getvalue()
    assert "RUNAWAY OPEN" in text
    assert "phase          1 stabilisation (stabilisatie)" in text
    assert "vermoedelijke loverboy   risk prohibited" in text
    assert "care-analysis" in text.split("  attention")[1]


def test_show_of_an_unknown_trajectory_says_so_on_stderr(
    app: TrajectoryApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = uuid4()
    out = io.StringIO()
    assert show(app, unknown, out) == 1
    assert out.getvalue() == ""
    assert str(unknown) in capsys.readouterr().err


def test_the_demo_leaves_the_application_and_the_logging_alone_while_it_writes(
    app: TrajectoryApplication,
) -> None:
    # given an application that may be serving requests beside the demo, and its logs
    clock = app.clock
    stream = io.StringIO()
    configure_logging("info", stream)
    seen: list[bool] = []
    try:
        # when the demo writes, looking at the application after every girl
        run_demo(app, count=2, seed=3,
                 progress=lambda done, total: seen.append(app.clock is clock))
    finally:
        configure_logging("info")
    # then its clock was never swapped, and no line per fact buried the log
    assert seen == [True, True]
    assert "trajectory_recorded" not in stream.getvalue()
    # and every fact is access-logged as the write of the demo coordinator who made it
    # (the organisations' own duties as their quality officer's, about no girl)
    logged = app.db.fetchall(
        "SELECT user_id, outcome, trajectory_id FROM access_log WHERE action = 'write'")
    assert {(r["user_id"][:11], r["outcome"]) for r in logged if r["trajectory_id"]} <= {
        ("demo-coord-", "ok"), ("demo-after-", "ok")}
    assert {r["user_id"] for r in logged if not r["trajectory_id"]} == {"demo-quality"}
    for row in app.index():
        writes = sum(r["trajectory_id"] == row["trajectory_id"] for r in logged)
        assert 1 <= writes <= row["version"]  # a command may record more than one event


def test_the_demo_shows_the_chain_after_care(app: TrajectoryApplication) -> None:
    """Destinations on every ending, contacts that did not reach her, a girl out of view
    after she left without a handover (argued), a girl turning 18 within six months, how
    to reach the girls in aftercare, and a runaway in aftercare."""
    # given the demo's stories, one of each
    run_demo(app, count=SMALL, seed=2014, progress=lambda done, total: None)
    today = amsterdam_date(app.clock())
    all_streams = streams(app)
    states = {tid: app.get(tid).state for tid in all_streams}
    # then every girl whose care ended has a destination
    ended = [s for s in states.values() if s.status != "in_care"]
    assert ended
    assert all(s.destination is not None for s in ended)
    events = [e for stream in all_streams.values() for e in stream]
    closures = [e for e in events if isinstance(e, TrajectoryClosed)]
    starts = [e for e in events if isinstance(e, AftercareStarted)]
    assert all(e.destination is not None for e in starts)
    assert all(e.destination is not None or states[e.originator_id].status == "closed"
               for e in closures)
    # some contacts did not reach her
    outcomes = Counter(e.outcome for e in events if isinstance(e, AftercareContactRecorded))
    assert outcomes["reached"]
    assert outcomes["not_reached"]
    # one girl left without a handover, argued, and is out of view
    left = [s for s in states.values() if s.left_without_handover_on is not None]
    assert left
    for s in left:
        (why,) = [o.reason for o in out_of_view(s, app.protocols.current, today)]
        assert why == "left-without-handover"
    assert all(e.without_handover.argument.strip() for e in closures
               if e.without_handover is not None)
    # one girl turns 18 within six months: the decision on care after 18 is on her list
    soon = [s for s in states.values()
            if s.status == "in_care" and 0 < (turns_18_on(s.date_of_birth) - today).days <= 183]
    assert soon
    assert any(i.code == "continuation-after-18"
               for s in soon for i in attention_items(s, app.protocols.current, today))
    # the girls in aftercare can be reached
    in_aftercare = [s for s in states.values() if s.status == "aftercare"]
    assert in_aftercare
    assert all(s.has("aftercare-contact-details") for s in in_aftercare)
    # and a runaway happened in aftercare
    def in_aftercare_then(e: TrajectoryEvent) -> bool:
        started = states[e.originator_id].aftercare_started_on
        return started is not None and e.occurred_on > started

    assert any(isinstance(e, RunawayReported) and in_aftercare_then(e) for e in events)


def test_the_demo_holds_outcomes_for_research(app: TrajectoryApplication) -> None:
    """Follow-up measurements after care (with instrument scores), some not possible (not
    reached, refused), revictimisation in aftercare and after closure, and girls lost to
    follow-up: the research questions on outcomes have data."""
    # given the demo's stories, one of each
    run_demo(app, count=SMALL, seed=2014, progress=lambda done, total: None)
    today = amsterdam_date(app.clock())
    all_streams = streams(app)
    states = {tid: app.get(tid).state for tid in all_streams}
    events = [e for stream in all_streams.values() for e in stream]
    # then follow-ups were measured, at the end of care and months after, with scores
    measured = [e for e in events if isinstance(e, FollowUpMeasured)]
    assert {e.moment for e in measured} >= {0, 6}
    assert all(e.instruments for e in measured)
    # some were not possible, for a reason
    missed = Counter(e.reason for e in events if isinstance(e, FollowUpNotPossible))
    assert missed["not_reached"]
    # revictimisation became known, in aftercare or after closure
    stages = {e.stage for e in events if isinstance(e, RevictimisationReported)}
    assert stages & {"aftercare", "after_closure"}
    # and a girl is lost to follow-up: every record of hers says she was not reached
    lost = [tid for tid, stream in all_streams.items()
            if (records := [e for e in stream if isinstance(e, FollowUpNotPossible)])
            and all(e.reason == "not_reached" for e in records)
            and not any(isinstance(e, FollowUpMeasured) for e in stream)]
    assert lost
    # and a closed file whose next follow-up is due shows it as its one attention item
    closed_due = [s for s in states.values() if s.status == "closed"
                  and attention_items(s, app.protocols.current, today)]
    assert closed_due
    assert all([i.code for i in attention_items(s, app.protocols.current, today)]
               == ["follow-up"] for s in closed_due)


def test_the_demo_has_two_teams_per_organisation_and_places_every_girl_with_one(
    app: TrajectoryApplication,
) -> None:
    """Given the demo; then each organisation has two teams, a coordinator in each; every
    girl was placed with her coordinator's team at intake (TeamAssigned in the intake's
    write) and some moved to the other team later, her coordinator staying responsible."""
    run_demo(app, count=18, seed=2014, progress=lambda done, total: None)
    teams = Teams(app.db)
    for organisation, pair in TEAMS.items():
        listed = teams.of_organisation(organisation)
        assert sorted(t.name for t in listed) == sorted(name for _, name in pair)
        for team in listed:
            assert [m for m in teams.members(team.team_id) if m.startswith("demo-coord-")]
    moved = 0
    for tid, stream in streams(app).items():
        assigned = [e for e in stream if isinstance(e, TeamAssigned)]
        assert assigned, tid
        assert assigned[0].originator_version == 2  # with the intake, in its write
        state = app.get(tid).state
        assert assigned[0].team in teams.teams_of(state.coordinator)
        assert state.team == assigned[-1].team
        moved += len(assigned) > 1
        row = next(r for r in app.index() if r["trajectory_id"] == str(tid))
        assert row["team"] == state.team
    assert moved
