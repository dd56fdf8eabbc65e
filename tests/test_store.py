"""The store under pressure: concurrent writers, time travel, snapshots, durability, and
what a user sees when the database is not there."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import pytest
import structlog

from tests.builders import (
    COORDINATOR,
    open_trajectory,
    phase_2_facts,
    phase_3_facts,
    record_all,
)
from tests.conftest import FakeClock, all_protocols
from trajectory.aggregates.errors import TrajectoryNotFound, VersionConflict
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.application import (
    Recorded,
    TrajectoryApplication,
    project_trajectory,
)
from trajectory.cli import main
from trajectory.commands import (
    ChangePermission,
    HoldTraumaTherapySession,
    RecordSignal,
    RegisterNetworkContact,
    RestoreNetworkContact,
    TransitionPhase,
)
from trajectory.settings import Settings
from trajectory.verify import verify_store


@pytest.fixture
def other(settings: Settings, clock: FakeClock) -> Iterator[TrajectoryApplication]:
    """A second application instance on the same database: another API process."""
    application = TrajectoryApplication(
        settings, clock=clock, protocols=all_protocols(), create_tables=False
    )
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def signal_notes(app: TrajectoryApplication, trajectory_id: UUID) -> list[str]:
    return [e.note for e in app.stream(trajectory_id) if isinstance(e, SignalRecorded)]


def signal(note: str) -> RecordSignal:
    return RecordSignal(kind="loverboy", note=note)


# -- concurrency ---------------------------------------------------------------------------
def test_two_writers_at_the_same_version_one_wins_and_the_other_is_told(
    app: TrajectoryApplication, other: TrajectoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one trajectory, read by two processes at version 1
    trajectory_id = open_trajectory(app)
    assert other.get(trajectory_id).version == 1
    opened_at = next(iter(app.stream(trajectory_id))).timestamp

    # when the first records a fact at version 1
    first = app.execute(trajectory_id, signal("first"), COORDINATOR, expected_version=1)
    assert first.version == 2

    # then the second, expecting version 1, is refused before anything is written
    with pytest.raises(VersionConflict) as refused:
        other.execute(trajectory_id, signal("second"), COORDINATOR, expected_version=1)
    assert (refused.value.expected, refused.value.actual) == (1, 2)

    # and a second that loaded version 1 before the first one saved loses at the store
    monkeypatch.setattr(other, "get", lambda tid: app.get(tid, as_of=opened_at))
    with pytest.raises(VersionConflict) as lost:
        other.execute(trajectory_id, signal("third"), COORDINATOR, expected_version=1)
    assert (lost.value.expected, lost.value.actual) == (1, 2)
    with pytest.raises(VersionConflict):
        other.execute(trajectory_id, signal("fourth"), COORDINATOR)

    # nothing lost, nothing duplicated, the index agrees, the chain holds
    assert [e.originator_version for e in app.stream(trajectory_id)] == [1, 2]
    assert signal_notes(app, trajectory_id) == ["first"]
    assert app.current_version(trajectory_id) == 2
    assert verify_store(app).ok


def test_a_threaded_race_of_two_processes_loses_and_duplicates_nothing(
    app: TrajectoryApplication, other: TrajectoryApplication
) -> None:
    trajectory_id = open_trajectory(app)
    writes_each = 12
    start = threading.Barrier(2)
    successes: dict[str, Recorded] = {}
    conflicts: Counter[str] = Counter()
    failures: list[BaseException] = []

    def writer(name: str, application: TrajectoryApplication) -> None:
        try:
            start.wait(timeout=10)
            for n in range(writes_each):
                note = f"{name}-{n}"
                while True:
                    version = application.get(trajectory_id).version
                    try:
                        successes[note] = application.execute(
                            trajectory_id, signal(note), COORDINATOR, expected_version=version
                        )
                        break
                    except VersionConflict:
                        conflicts[name] += 1
        except BaseException as e:  # reported by the main thread
            failures.append(e)

    threads = [
        threading.Thread(target=writer, args=(name, application))
        for name, application in (("a", app), ("b", other))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)

    events = list(app.stream(trajectory_id))
    total = 1 + 2 * writes_each
    assert [e.originator_version for e in events] == list(range(1, total + 1))
    notes = signal_notes(app, trajectory_id)
    assert sorted(notes) == sorted(successes)
    assert len(set(notes)) == len(notes) == 2 * writes_each
    by_position = {e.originator_version: e for e in events}
    for note, recorded in successes.items():
        (position,) = recorded.positions
        event = by_position[position]
        assert isinstance(event, SignalRecorded)
        assert event.note == note
    assert app.current_version(trajectory_id) == total
    assert verify_store(app).ok


# -- time ----------------------------------------------------------------------------------
def test_as_of_returns_the_state_as_it_was_known_then(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    trajectory_id = open_trajectory(app)
    opened_at = next(iter(app.stream(trajectory_id))).timestamp
    record_all(app, trajectory_id, phase_2_facts())
    clock.advance(days=28)
    before_advance = list(app.stream(trajectory_id))[-1].timestamp
    app.execute(trajectory_id, TransitionPhase(to_phase=2, reason="stable"), COORDINATOR)

    then = app.get(trajectory_id, as_of=before_advance)
    assert (then.version, then.state.phase) == (7, 1)
    at_intake = app.get(trajectory_id, as_of=opened_at)
    assert at_intake.version == 1
    assert not at_intake.state.has("safety-analysis")
    now = app.get(trajectory_id)
    assert (now.version, now.state.phase) == (8, 2)
    with pytest.raises(TrajectoryNotFound):
        app.get(trajectory_id, as_of=opened_at - timedelta(microseconds=1))


# -- snapshots -----------------------------------------------------------------------------
def test_a_long_trajectory_loads_from_snapshots_with_the_state_of_a_full_replay(
    app: TrajectoryApplication, settings: Settings, clock: FakeClock
) -> None:
    trajectory_id = open_trajectory(app)
    record_all(app, trajectory_id, phase_2_facts())
    app.execute(trajectory_id, RegisterNetworkContact(role="mother", risk="safe"), COORDINATOR)
    (contact_id,) = app.get(trajectory_id).state.contacts
    clock.advance(days=30)
    record_all(app, trajectory_id, [
        TransitionPhase(to_phase=2, reason="stable"),
        ChangePermission(kind="phone", level="limited"),
        RestoreNetworkContact(contact_id=contact_id, level="unsupervised", reason="safe"),
        *phase_3_facts(),
    ])
    for n in range(90):
        app.execute(trajectory_id, HoldTraumaTherapySession(note=f"session {n}"), COORDINATOR)
    record_all(app, trajectory_id, [
        TransitionPhase(to_phase=1, reason="ran away"),
        ChangePermission(kind="internet", level="supervised"),
    ])

    loaded = app.get(trajectory_id)
    replayed = project_trajectory(None, app.stream(trajectory_id))
    assert replayed is not None
    assert loaded.version == replayed.version > 100
    assert loaded.state == replayed.state
    assert loaded.head_hash == replayed.head_hash
    assert loaded.state.therapy is not None
    assert loaded.state.therapy.sessions == 90
    assert loaded.state.permissions["phone"] == "supervised"  # capped by the regression

    # the load really started from a snapshot
    assert app.snapshots is not None
    snapshot = next(iter(app.snapshots.get(trajectory_id, desc=True, limit=1)))
    assert snapshot.originator_version > loaded.version - settings.snapshot_interval

    # and a process that never saw the trajectory loads the same state
    cold = TrajectoryApplication(settings, clock=clock, protocols=all_protocols())
    try:
        assert cold.get(trajectory_id).state == replayed.state
    finally:
        cold.close()


# -- durability ----------------------------------------------------------------------------
def test_an_acknowledged_write_is_durable(app: TrajectoryApplication) -> None:
    """SQLite commits with synchronous=FULL on every connection; PostgreSQL commits
    synchronously with fsync on."""
    open_trajectory(app)
    answers: list[object] = []

    def ask() -> None:
        if app.dialect == "sqlite":
            row = app.db.fetchone("PRAGMA synchronous")
            answers.append(row and row["synchronous"])
        else:
            sync = app.db.fetchone("SHOW synchronous_commit")
            fsync = app.db.fetchone("SHOW fsync")
            answers.append((sync and sync["synchronous_commit"], fsync and fsync["fsync"]))

    ask()
    thread = threading.Thread(target=ask)  # another thread: another pooled connection
    thread.start()
    thread.join()
    expected = 2 if app.dialect == "sqlite" else ("on", "on")
    assert answers == [expected, expected]


# -- the database is not there -------------------------------------------------------------
@pytest.mark.usefixtures("restore_logging")
def test_an_unsupported_database_url_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", "mysql://demo@localhost/trajectory")
    assert main(["verify"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("trajectory: TRAJECTORY_DATABASE_URL: unsupported scheme 'mysql'")
    assert "Traceback" not in err


@pytest.mark.usefixtures("restore_logging")
def test_an_unreachable_database_is_a_clear_error(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if database_url.startswith("sqlite"):
        cases = {f"sqlite:///{tmp_path / 'missing' / 'store.sqlite'}": "cannot use the SQLite"}
    else:
        parts = urlsplit(database_url)
        cases = {
            urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:1")): (
                "cannot reach the PostgreSQL database"
            ),
            urlunsplit(parts._replace(path="/trajectory_no_such_database")): (
                'database "trajectory_no_such_database" does not exist'
            ),
        }
    for url, message in cases.items():
        monkeypatch.setenv("TRAJECTORY_DATABASE_URL", url)
        assert main(["verify"]) == 1, url
        captured = capsys.readouterr()
        assert captured.err.startswith("trajectory: "), captured.err
        assert message in captured.err
        assert "Traceback" not in captured.err
        assert captured.out == ""
