"""Tamper evidence: whoever edits the store behind the application's back is found out.

Each test tampers with the event table directly in SQL, as someone with database access
could, and expects `verify` to name the trajectory and the position of the damage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

import pytest
import structlog

from tests.builders import open_trajectory, phase_2_facts, record_all
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.settings import Settings
from trajectory.verify import Report, verify_store

SIGNAL_TOPIC = "trajectory.aggregates.events.quality:SignalRecorded"


@pytest.fixture
def store(app: TrajectoryApplication) -> tuple[UUID, UUID]:
    """Two trajectories of seven events each: one to damage, one that stays intact."""
    damaged, intact = open_trajectory(app), open_trajectory(app)
    for trajectory_id in (damaged, intact):
        record_all(app, trajectory_id, phase_2_facts())
    return damaged, intact


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; leave it as other tests expect it."""
    yield
    structlog.reset_defaults()


def events_table(app: TrajectoryApplication) -> str:
    return "stored_events" if app.dialect == "sqlite" else "trajectory_events"


def stored_id(app: TrajectoryApplication, trajectory_id: UUID) -> object:
    """The originator id as the table holds it: hex text in SQLite, a uuid in PostgreSQL."""
    return trajectory_id.hex if app.dialect == "sqlite" else trajectory_id


def tamper(app: TrajectoryApplication, statement: str, *params: object) -> None:
    """Run one statement on the event table, outside the application's commands."""
    with app.db.transaction() as tx:
        tx.execute(statement.replace("EVENTS", events_table(app)), params)


def payload(app: TrajectoryApplication, trajectory_id: UUID, position: int) -> bytes:
    with app.db.transaction(commit=False) as tx:
        row = tx.fetchone(
            f"SELECT state FROM {events_table(app)}"
            " WHERE originator_id = ? AND originator_version = ?",
            [stored_id(app, trajectory_id), position],
        )
    assert row is not None
    return bytes(row["state"])


def set_payload(
    app: TrajectoryApplication, trajectory_id: UUID, position: int, data: bytes
) -> None:
    tamper(
        app,
        "UPDATE EVENTS SET state = ? WHERE originator_id = ? AND originator_version = ?",
        data, stored_id(app, trajectory_id), position,
    )


def found(report: Report) -> set[tuple[UUID, int]]:
    return {(f.trajectory_id, f.position) for f in report.findings}


def assert_found_only(report: Report, trajectory_id: UUID, position: int) -> None:
    assert not report.ok
    assert found(report) == {(trajectory_id, position)}
    (finding,) = report.findings
    assert f"trajectory {trajectory_id} position {position}:" in str(finding)


def test_an_untouched_store_verifies_clean(
    app: TrajectoryApplication, store: tuple[UUID, UUID]
) -> None:
    report = verify_store(app)
    assert report.ok, report.findings
    assert report.trajectories == 2
    assert report.events == 14
    assert set(report.heads) == set(store)


@pytest.mark.parametrize("offset", [0.5, 0.0, 1.0], ids=["middle", "first", "last"])
def test_one_edited_payload_byte_is_found_at_its_position(
    app: TrajectoryApplication, store: tuple[UUID, UUID], offset: float
) -> None:
    damaged, _ = store
    data = bytearray(payload(app, damaged, 4))
    data[min(int(len(data) * offset), len(data) - 1)] ^= 0x01
    set_payload(app, damaged, 4, bytes(data))
    assert_found_only(verify_store(app), damaged, 4)


def test_a_deleted_event_in_the_middle_is_found(
    app: TrajectoryApplication, store: tuple[UUID, UUID]
) -> None:
    damaged, _ = store
    tamper(
        app,
        "DELETE FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
        stored_id(app, damaged), 3,
    )
    report = verify_store(app)
    assert_found_only(report, damaged, 3)
    assert "missing" in str(report.findings[0])


def test_a_deleted_last_event_is_found(
    app: TrajectoryApplication, store: tuple[UUID, UUID]
) -> None:
    damaged, _ = store
    tamper(
        app,
        "DELETE FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
        stored_id(app, damaged), 7,
    )
    assert_found_only(verify_store(app), damaged, 7)


def test_two_swapped_payloads_are_found(
    app: TrajectoryApplication, store: tuple[UUID, UUID]
) -> None:
    damaged, _ = store
    second, third = payload(app, damaged, 2), payload(app, damaged, 3)
    set_payload(app, damaged, 2, third)
    set_payload(app, damaged, 3, second)
    assert_found_only(verify_store(app), damaged, 2)


def test_a_changed_topic_is_found(app: TrajectoryApplication, store: tuple[UUID, UUID]) -> None:
    damaged, _ = store
    tamper(
        app,
        "UPDATE EVENTS SET topic = ? WHERE originator_id = ? AND originator_version = ?",
        SIGNAL_TOPIC, stored_id(app, damaged), 5,
    )
    assert_found_only(verify_store(app), damaged, 5)


@pytest.mark.usefixtures("restore_logging")
def test_verify_on_the_command_line_exits_non_zero_naming_trajectory_and_position(
    app: TrajectoryApplication,
    settings: Settings,
    store: tuple[UUID, UUID],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", settings.database_url)
    if settings.master_key:
        monkeypatch.setenv("TRAJECTORY_MASTER_KEY", settings.master_key)
    assert main(["verify"]) == 0
    assert "verified 2 trajectories, 14 events" in capsys.readouterr().out

    damaged, _ = store
    data = bytearray(payload(app, damaged, 6))
    data[len(data) // 2] ^= 0x01
    set_payload(app, damaged, 6, bytes(data))

    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"TAMPERED trajectory {damaged} position 6:" in out
    assert "1 problem(s)" in out


def _delete_the_last_event(app: TrajectoryApplication, trajectory_id: UUID) -> None:
    tamper(
        app,
        "DELETE FROM EVENTS WHERE originator_id = ? AND originator_version = ?",
        stored_id(app, trajectory_id), 7,
    )


def _flip_a_byte_of_event_4(app: TrajectoryApplication, trajectory_id: UUID) -> None:
    data = bytearray(payload(app, trajectory_id, 4))
    data[len(data) // 2] ^= 0x01
    set_payload(app, trajectory_id, 4, bytes(data))


@pytest.mark.parametrize(
    "damage", [_flip_a_byte_of_event_4, _delete_the_last_event], ids=["altered", "cut-off"]
)
def test_verify_and_the_research_export_find_the_same_break(
    app: TrajectoryApplication,
    store: tuple[UUID, UUID],
    damage: Callable[[TrajectoryApplication, UUID], None],
) -> None:
    from trajectory.hashchain import ChainBroken
    from trajectory.research.export import read_verified

    # given a trajectory damaged behind the application's back
    damaged, _ = store
    index = {str(r["trajectory_id"]): (int(r["version"]), str(r["head_hash"]))
             for r in app.index()}
    damage(app, damaged)
    # when the store is verified and the export reads her
    (finding,) = verify_store(app).findings
    with pytest.raises(ChainBroken) as broken:
        read_verified(app, damaged, index)
    # then both name the same position and the same problem: one verifier
    assert (broken.value.position, broken.value.problem) == (finding.position, finding.problem)
