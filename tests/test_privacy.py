"""Privacy by construction: encryption at rest, rotation, crypto-shredding, retention."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from tests.builders import COORDINATOR, left_care, open_trajectory
from tests.conftest import FakeClock
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import (
    GiveResearchConsent,
    RecordSignal,
    RequestDestruction,
    WithdrawResearchConsent,
)
from trajectory.crypto import MasterKey, MasterKeyMismatch, TrajectoryErased
from trajectory.erasure import erase
from trajectory.logs import configure_logging
from trajectory.retention import retention_items
from trajectory.settings import Settings
from trajectory.verify import verify_store

CANARY_NAME = "Zwaantje Canarisvogel"
CANARY_TEXT = "kanarie-vrije-tekst-42"
CANARY_REGION = "Canarisdorp"
ADMIN = Actor(user_id="admin-1", role="admin", organisation=COORDINATOR.organisation)


def _open_canary(app: TrajectoryApplication) -> UUID:
    tid = open_trajectory(
        app,
        identity=Identity(
            name=CANARY_NAME,
            date_of_birth=__import__("datetime").date(2009, 7, 13),
            home_region=CANARY_REGION,
        ),
    )
    app.execute(tid, RecordSignal(kind="loverboy", note=CANARY_TEXT), COORDINATOR)
    return tid


def _stored_bytes(app: TrajectoryApplication, database_url: str, tmp_path: Path) -> bytes:
    """Every byte the database holds: the SQLite files, or a pg_dump of the database."""
    if app.dialect == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    dump = subprocess.run(
        ["pg_dump", "--data-only", database_url], capture_output=True, check=True, timeout=60
    )
    return dump.stdout


def _canaries_in(data: bytes) -> list[str]:
    needles = [CANARY_NAME, CANARY_TEXT, CANARY_REGION, "2009-07-13"]
    return [n for n in needles if n.encode() in data]


def test_identity_and_free_text_are_not_stored_in_plaintext(
    app: TrajectoryApplication, database_url: str, tmp_path: Path
) -> None:
    # given a girl with a canary name, region and free text
    tid = _open_canary(app)
    # when the whole database is read as bytes (files, WAL, or a dump)
    if app.dialect == "postgres" and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to check the PostgreSQL dump")
    found = _canaries_in(_stored_bytes(app, database_url, tmp_path))
    # then none of it is there, but her coordinator still sees it
    assert found == []
    events = list(app.stream(tid))
    assert events[0].identity.name == CANARY_NAME  # type: ignore[attr-defined]
    assert events[1].note == CANARY_TEXT  # type: ignore[attr-defined]


def test_a_wrong_master_key_fails_at_start_up(app: TrajectoryApplication) -> None:
    # given a store with data
    open_trajectory(app)
    # when it is opened with another master key
    other = Settings(
        database_url=app.settings.database_url, master_key=MasterKey.generate().to_text()
    )
    # then the application refuses to start, before any read
    with pytest.raises(MasterKeyMismatch):
        TrajectoryApplication(other)


def test_rotation_rewraps_keys_and_keeps_every_event_readable(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given trajectories stored under the old master key
    ids = [_open_canary(app) for _ in range(3)]
    before = {tid: [e.hash for e in app.stream(tid)] for tid in ids}
    assert app.keys is not None
    new = MasterKey.generate()
    # when the master key is rotated
    count = app.keys.rotate(new, clock())
    # then every data key was re-wrapped and a fresh application with the new key reads all
    assert count == 3
    fresh = TrajectoryApplication(
        Settings(database_url=app.settings.database_url, master_key=new.to_text()), clock=clock
    )
    try:
        assert {tid: [e.hash for e in fresh.stream(tid)] for tid in ids} == before
        assert verify_store(fresh).ok
        # and the old key no longer opens the store
        with pytest.raises(MasterKeyMismatch):
            TrajectoryApplication(app.settings)
    finally:
        fresh.close()


def test_erasure_makes_one_trajectory_unreadable_and_leaves_the_others(
    app: TrajectoryApplication, database_url: str, tmp_path: Path
) -> None:
    # given two girls; her coordinator can read the first
    erased_id = _open_canary(app)
    kept_id = open_trajectory(app)
    assert app.get(erased_id).version == 2
    # when the first is erased
    erasure = erase(
        app, erased_id, by=ADMIN, reason="request granted", legal_ground="request-granted"
    )
    # then her events cannot be opened, verify reports her as erased, the other verifies
    assert erasure.trajectory_id == str(erased_id)
    with pytest.raises(TrajectoryErased):
        app.get(erased_id)
    report = verify_store(app)
    assert report.ok
    assert report.erased == [erased_id]
    assert app.get(kept_id).version == 1
    assert [r["trajectory_id"] for r in app.index()] == [str(kept_id)]
    # and a second erasure says it is already erased
    with pytest.raises(TrajectoryErased):
        erase(app, erased_id, by=ADMIN, reason="again", legal_ground="other")
    # and the erasure record is append-only
    with pytest.raises(Exception, match="append-only"), app.db.transaction() as tx:
        tx.execute("DELETE FROM erasures")


def test_erasure_leaves_no_data_key_bytes_behind_on_sqlite(tmp_path: Path) -> None:
    # given an SQLite store with one girl, and her wrapped data key as stored
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    app = TrajectoryApplication(Settings(database_url=url))
    try:
        tid = _open_canary(app)
        wrapped = app.db.fetchone(
            "SELECT wrapped_key FROM data_keys WHERE trajectory_id = ?", [str(tid)]
        )
        assert wrapped is not None
        # when she is erased
        erase(app, tid, by=ADMIN, reason="retention expired", legal_ground="retention-expired")
    finally:
        app.close()
    # then no copy of the wrapped key is left in the file or its WAL
    data = b"".join(p.read_bytes() for p in tmp_path.glob("store.sqlite*") if p.suffix != ".key")
    assert str(wrapped["wrapped_key"]).encode() not in data


def test_a_flipped_ciphertext_bit_is_reported_as_tampering(
    app: TrajectoryApplication, database_url: str
) -> None:
    # given a verified store
    tid = _open_canary(app)
    assert verify_store(app).ok
    # when one bit of the second event's ciphertext is flipped in the database
    if app.dialect == "sqlite":
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            (state,) = conn.execute(
                "SELECT state FROM stored_events"
                " WHERE originator_id = ? AND originator_version = 2",
                [tid.hex],
            ).fetchone()
            flipped = bytes([state[0], state[1] ^ 0x01]) + state[2:]
            conn.execute(
                "UPDATE stored_events SET state = ?"
                " WHERE originator_id = ? AND originator_version = 2",
                [flipped, tid.hex],
            )
    else:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "UPDATE trajectory_events SET state = set_byte(state, 20, get_byte(state, 20) # 1)"
                " WHERE originator_id = %s AND originator_version = 2",
                [tid],
            )
    # then verify names the trajectory and the position
    report = verify_store(app)
    assert not report.ok
    assert [(f.trajectory_id, f.position) for f in report.findings] == [(tid, 2)]


def test_retention_lists_closed_files_and_destruction_requests(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a closed trajectory and a destruction request by a girl of 16
    closed = open_trajectory(app)
    app.execute(closed, left_care(), COORDINATOR)
    requested = open_trajectory(app)
    app.execute(requested, RequestDestruction(requested_by="girl"), COORDINATOR)
    # when retention is listed today
    items = retention_items(app, clock().date())
    # then the request is due within three months, the closed file after twenty years
    by_reason = {i.reason: i for i in items}
    assert by_reason["request-pending"].trajectory_id == str(requested)
    assert by_reason["request-pending"].due_on.isoformat() == "2026-06-02"
    assert by_reason["retention-period"].trajectory_id == str(closed)
    assert by_reason["retention-period"].due_on.isoformat() == "2046-03-02"


def test_a_child_under_12_cannot_request_destruction_herself(app: TrajectoryApplication) -> None:
    # given a girl of 11
    tid = open_trajectory(
        app,
        identity=Identity(
            name="Jong Meisje",
            date_of_birth=__import__("datetime").date(2014, 9, 1),
            home_region="Zwolle",
        ),
        intake_date=__import__("datetime").date(2026, 1, 5),
    )
    # when she asks herself, then it is refused with a reason, and nothing is recorded
    with pytest.raises(RuleRefused) as refused:
        app.execute(tid, RequestDestruction(requested_by="girl"), COORDINATOR)
    assert refused.value.code == "destruction-requester-too-young"
    assert app.get(tid).version == 1
    # and her parent can
    assert app.execute(tid, RequestDestruction(requested_by="parent"), COORDINATOR).version == 2


def test_research_consent_is_state_given_and_withdrawn(app: TrajectoryApplication) -> None:
    # given a girl of 16 (born 2010-01-01 per the builder? use an explicit one)
    tid = open_trajectory(
        app,
        identity=Identity(
            name="Ouder Meisje",
            date_of_birth=__import__("datetime").date(2009, 1, 1),
            home_region="Zwolle",
        ),
    )
    # a parent cannot consent for her from 16
    with pytest.raises(RuleRefused) as refused:
        app.execute(tid, GiveResearchConsent(given_by="parent"), COORDINATOR)
    assert refused.value.code == "consent-by-girl-from-16"
    # when she consents herself, then withdraws
    app.execute(tid, GiveResearchConsent(given_by="girl"), COORDINATOR)
    assert app.get(tid).state.research_consent is True
    app.execute(
        tid, WithdrawResearchConsent(withdrawn_by="girl", reason="changed mind"), COORDINATOR
    )
    # then consent is no longer in force, and both facts stay in the history
    state = app.get(tid).state
    assert state.research_consent is False
    assert [type(e).__name__ for e in app.stream(tid)][-2:] == [
        "ResearchConsentGiven",
        "ResearchConsentWithdrawn",
    ]


def test_logs_carry_no_name_and_no_free_text(tmp_path: Path) -> None:
    # given structured logs captured from everything the application does
    stream = io.StringIO()
    configure_logging("debug", stream)
    url = f"sqlite:///{tmp_path / 'logged.sqlite'}"
    app = TrajectoryApplication(Settings(database_url=url))
    try:
        tid = _open_canary(app)
        erase(app, tid, by=ADMIN, reason="retention expired", legal_ground="retention-expired")
        with pytest.raises(TrajectoryErased):
            app.get(tid)
    finally:
        app.close()
        configure_logging("info")
    # then no log line and no file the application wrote holds the canaries
    logged = stream.getvalue()
    assert "trajectory_recorded" in logged
    assert _canaries_in(logged.encode()) == []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert _canaries_in(path.read_bytes()) == [], path.name
