"""The one write path (trajectory.writing), on both stores: what every adapter's writes
have in common, tested once below them all.

Dates that do not fit are refused naming their field, a future date by the rule, a stale
expected version records nothing, a retry with the same key records once and answers as
the first time, a trajectory she may not see is one that does not exist, and the events,
the index row, the access-log entry and the idempotency record are one transaction.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import PersistenceError

from tests.builders import AFTERCARE, COORDINATOR, OTHER_COORDINATOR, intake
from tests.conftest import FakeClock
from tests.test_api_access_log import make_log_unwritable, repair_log
from trajectory.aggregates.errors import (
    OccurredInFuture,
    TrajectoryNotFound,
    VersionConflict,
    WriteRefused,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.events.phasing import Waiver
from trajectory.application import TrajectoryApplication
from trajectory.commands import CorrectEntry, RecordSignal, TransitionPhase
from trajectory.write_errors import (
    DateTooEarly,
    DateUnreadable,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)
from trajectory.writing import Via, WritePath, answer_of, recorded_of

SIGNAL = RecordSignal(kind="loverboy", note="gezien bij het station")


@pytest.fixture
def path(app: TrajectoryApplication) -> WritePath:
    return WritePath(app)


@pytest.fixture
def tid(path: WritePath) -> UUID:
    return path.open(COORDINATOR, intake()).trajectory_id


def writes_logged(app: TrajectoryApplication, tid: UUID) -> list[tuple[str, str]]:
    rows = app.db.fetchall(
        "SELECT user_id, outcome FROM access_log WHERE trajectory_id = ? AND action = 'write'"
        " ORDER BY entry_id",
        [str(tid)],
    )
    return [(r["user_id"], r["outcome"]) for r in rows]


# -- input ------------------------------------------------------------------------------------


def test_a_date_before_1900_inside_a_command_is_refused_naming_its_path(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    # given a trajectory at version 1
    # when a command carries a date before 1900 in a nested field
    with pytest.raises(DateTooEarly) as refused:
        path.record(COORDINATOR, tid, CorrectEntry(position=1, reason="typo",
                                                   corrected_occurred_on=date(1850, 6, 1)))
    # then the refusal names the field, in the API's words, and nothing is recorded
    assert refused.value.field == "corrected_occurred_on"
    assert refused.value.detail == "corrected_occurred_on lies before 1900-01-01"
    assert refused.value.message == "before 1900-01-01"
    with pytest.raises(DateTooEarly) as born:
        path.open(COORDINATOR, intake(identity=Identity(
            name="Oud Meisje", date_of_birth=date(1850, 1, 1), home_region="Utrecht")))
    assert born.value.field == "identity.date_of_birth"
    with pytest.raises(DateTooEarly) as waived:
        path.record(COORDINATOR, tid, TransitionPhase(
            to_phase=2, reason="stabiel", occurred_on="1899-12-31",
            waivers=[Waiver(criterion="education", justification="later")]))
    assert waived.value.field == "occurred_on"
    assert app.current_version(tid) == 1
    assert len(app.index()) == 1


def test_an_occurred_on_that_does_not_read_as_a_date_is_refused(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    with pytest.raises(DateUnreadable) as refused:
        path.record(COORDINATOR, tid, RecordSignal(kind="loverboy", occurred_on="gisteren"))
    assert refused.value.field == "occurred_on"
    assert refused.value.detail == (
        "occurred_on must be a date (YYYY-MM-DD) or an RFC 3339 time with an offset"
    )
    assert app.current_version(tid) == 1


def test_a_future_occurred_on_is_refused_by_the_rule(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    with pytest.raises(OccurredInFuture):
        path.record(COORDINATOR, tid, RecordSignal(kind="loverboy", occurred_on="2999-01-01"))
    assert app.current_version(tid) == 1


# -- versions, visibility ---------------------------------------------------------------------


def test_a_stale_expected_version_is_refused_and_records_nothing(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    path.record(COORDINATOR, tid, SIGNAL, expected_version=1)
    with pytest.raises(VersionConflict) as conflict:
        path.record(COORDINATOR, tid, SIGNAL, expected_version=1)
    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert app.current_version(tid) == 2
    assert writes_logged(app, tid) == [("coord-1", "ok"), ("coord-1", "ok")]  # intake, fact


def test_a_trajectory_she_may_not_see_is_one_that_does_not_exist(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    for someone, trajectory in ((OTHER_COORDINATOR, tid), (AFTERCARE, tid),
                                (COORDINATOR, uuid4())):
        with pytest.raises(TrajectoryNotFound):
            path.record(someone, trajectory, SIGNAL)
    assert app.current_version(tid) == 1


# -- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_records_once_and_answers_as_the_first_time(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    # given a fact recorded under a key
    first = path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-1", request_digest="d",
                        via=Via(client="10.0.0.1", request_id="r-1"))
    # when the same request comes again (even with a stale expected version)
    again = path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-1", request_digest="d",
                        expected_version=1)
    # then nothing new is recorded and the answer is the first one
    assert not first.replayed
    assert again.replayed
    assert again.answer == first.answer
    assert again.recorded.positions == first.recorded.positions == (2,)
    assert again.recorded.position is None  # where it landed is not part of a replay
    assert app.current_version(tid) == 2
    assert writes_logged(app, tid) == [("coord-1", "ok"), ("coord-1", "ok"),
                                       ("coord-1", "replayed")]
    # and the key with another request is refused, recording nothing
    with pytest.raises(IdempotencyKeyReused) as reused:
        path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-1", request_digest="other")
    assert (reused.value.field, reused.value.rule) == ("Idempotency-Key",
                                                        "idempotency-key-reused")
    assert app.current_version(tid) == 2


def test_an_intake_retried_with_its_key_opens_one_trajectory(
    app: TrajectoryApplication, path: WritePath
) -> None:
    first = path.open(COORDINATOR, intake(), idempotency_key="intake-1", request_digest="d")
    again = path.open(COORDINATOR, intake(), idempotency_key="intake-1", request_digest="d")
    assert again.replayed
    assert again.trajectory_id == first.trajectory_id
    assert first.answer.location == f"/trajectories/{first.trajectory_id}"
    assert len(app.index()) == 1


def test_a_key_belongs_to_its_user(app: TrajectoryApplication, path: WritePath) -> None:
    mine = path.open(COORDINATOR, intake(), idempotency_key="same", request_digest="d")
    theirs = path.open(OTHER_COORDINATOR, intake(), idempotency_key="same", request_digest="d")
    assert not theirs.replayed
    assert theirs.trajectory_id != mine.trajectory_id
    assert len(app.index()) == 2


def test_a_key_that_does_not_fit_is_refused(path: WritePath, tid: UUID) -> None:
    for key in ("", "x" * 201, "with space", "é"):
        with pytest.raises(IdempotencyKeyInvalid):
            path.record(COORDINATOR, tid, SIGNAL, idempotency_key=key)


def test_the_stored_answer_reads_back_as_what_was_recorded(path: WritePath, tid: UUID) -> None:
    written = path.record(COORDINATOR, tid, SIGNAL)
    answer = answer_of(written.recorded, "d", opened=False)
    assert answer.body == (
        f'{{"id":"{tid}","version":2,"positions":[2]}}'
    )
    assert answer.location == f"/trajectories/{tid}/events/2"
    assert answer.etag == '"2"'
    assert recorded_of(answer).positions == (2,)


# -- one transaction --------------------------------------------------------------------------


def test_the_access_log_entry_is_written_in_the_transaction_of_the_events(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    # given a write whose access-log entry is refused by the database
    make_log_unwritable(app)
    refused = (WriteRefused, PersistenceError)  # as each store's driver words it
    try:
        with pytest.raises(refused):
            path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-2", request_digest="d")
        with pytest.raises(refused):
            path.open(COORDINATOR, intake(identity=Identity(
                name="Een Ander", date_of_birth=date(2011, 1, 1), home_region="Utrecht")))
    finally:
        repair_log(app)
    # then neither the events, nor the index row, nor the idempotency record are there
    assert app.current_version(tid) == 1
    assert len(list(app.stream(tid))) == 1
    assert len(app.index()) == 1
    assert path.idempotency.find(COORDINATOR.user_id, "k-2") is None
    # and once the log can be written, the same write goes through with its entry
    written = path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-2", request_digest="d")
    assert written.recorded.version == 2
    assert writes_logged(app, tid) == [("coord-1", "ok"), ("coord-1", "ok")]


def test_a_write_path_with_its_own_clock_records_at_that_moment(
    app: TrajectoryApplication, tid: UUID, clock: FakeClock
) -> None:
    # given a write path whose clock stands a month earlier than the application's
    earlier = FakeClock(clock.now.replace(month=clock.now.month - 1))
    path = WritePath(app, clock=earlier, quiet=True)
    # when a fact without a date is recorded through it
    path.record(COORDINATOR, tid, SIGNAL)
    # then it happened on that path's day, and the application's clock is untouched
    assert list(app.stream(tid))[-1].occurred_on == earlier.now.date()
    assert app.clock is clock
    logged = app.db.fetchall(
        "SELECT at FROM access_log WHERE trajectory_id = ? ORDER BY entry_id", [str(tid)])
    assert str(logged[-1]["at"]).startswith(earlier.now.date().isoformat())


def test_an_expected_version_read_from_the_request_is_read_only_when_the_write_is_tried(
    app: TrajectoryApplication, path: WritePath, tid: UUID
) -> None:
    # given an adapter that reads the expected version from its request when asked
    asked: list[str] = []

    def unreadable() -> int | None:
        asked.append("asked")
        raise ValueError("not a version")

    # when the trajectory is not hers, or the key answered before, it is never asked
    with pytest.raises(TrajectoryNotFound):
        path.record(OTHER_COORDINATOR, tid, SIGNAL, expected_version=unreadable)
    path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-3", request_digest="d")
    again = path.record(COORDINATOR, tid, SIGNAL, idempotency_key="k-3", request_digest="d",
                        expected_version=unreadable)
    assert again.replayed
    assert asked == []
    # and otherwise it is asked once, before anything is recorded
    with pytest.raises(ValueError, match="not a version"):
        path.record(COORDINATOR, tid, SIGNAL, expected_version=unreadable)
    assert asked == ["asked"]
    with pytest.raises(VersionConflict):
        path.record(COORDINATOR, tid, SIGNAL, expected_version=lambda: 1)
    assert app.current_version(tid) == 2
