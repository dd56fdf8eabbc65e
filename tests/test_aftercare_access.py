"""An aftercare worker's access to a girl's file ends with her aftercare: she reads it for a
grace period after aftercare ended (30 days by default), records nothing more on it, and
after that, or once the trajectory is closed, the file is one she cannot see. The rule is
`trajectory.visibility`'s: the API, the pages and the write path ask it alike."""

from __future__ import annotations

from uuid import UUID

import pytest

from tests.builders import AFTERCARE, COORDINATOR, intake
from tests.conftest import FakeClock
from tests.live import live_server
from tests.test_projections import handed_over
from trajectory.aggregates.errors import AftercareEnded, TrajectoryNotFound
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import CloseTrajectory, EndAftercare, RecordAftercareContact
from trajectory.visibility import visible_row
from trajectory.writing import WritePath

GRACE = 30


@pytest.fixture
def in_aftercare(app: TrajectoryApplication) -> UUID:
    """A girl handed over to AFTERCARE, whose aftercare has started."""
    path = WritePath(app)
    tid = path.open(COORDINATOR, intake()).trajectory_id
    handed_over(app, tid)
    return tid


def reads(app: TrajectoryApplication, tid: UUID) -> bool:
    try:
        visible_row(app.db, AFTERCARE, tid, today=amsterdam_date(app.clock()), grace_days=GRACE)
    except TrajectoryNotFound:
        return False
    return True


def test_after_aftercare_ends_she_reads_for_the_grace_period_and_then_not_at_all(
    app: TrajectoryApplication, clock: FakeClock, in_aftercare: UUID
) -> None:
    # given a girl in aftercare with AFTERCARE, who records a contact
    path = WritePath(app)
    path.record(AFTERCARE, in_aftercare, RecordAftercareContact(kind="visit"))
    assert reads(app, in_aftercare)
    # when aftercare ends today
    path.record(AFTERCARE, in_aftercare, EndAftercare(reason="stable"))
    # then she still reads the file on the last day of the grace period, but records nothing
    assert reads(app, in_aftercare)
    with pytest.raises(AftercareEnded):
        path.record(AFTERCARE, in_aftercare, RecordAftercareContact(kind="phone"))
    clock.advance(days=GRACE)
    assert reads(app, in_aftercare)
    # and from the day after, the file is one she cannot see (read or write)
    clock.advance(days=1)
    assert not reads(app, in_aftercare)
    with pytest.raises(TrajectoryNotFound):
        path.record(AFTERCARE, in_aftercare, RecordAftercareContact(kind="phone"))
    # while her coordinator still sees it
    visible_row(app.db, COORDINATOR, in_aftercare, today=amsterdam_date(clock()),
                grace_days=GRACE)


def test_closure_ends_her_access_at_once(
    app: TrajectoryApplication, in_aftercare: UUID
) -> None:
    # given a girl whose aftercare ended today, within the grace period
    path = WritePath(app)
    path.record(AFTERCARE, in_aftercare, EndAftercare(reason="stable"))
    assert reads(app, in_aftercare)
    # when her coordinator closes the trajectory
    path.record(COORDINATOR, in_aftercare, CloseTrajectory(reason="aftercare_completed"))
    # then the aftercare worker no longer sees it, on the same day
    assert not reads(app, in_aftercare)


def test_the_grace_period_is_a_setting(app: TrajectoryApplication, clock: FakeClock,
                                       in_aftercare: UUID) -> None:
    # given aftercare that ended ten days ago
    WritePath(app).record(AFTERCARE, in_aftercare, EndAftercare(reason="stable"))
    clock.advance(days=10)
    today = amsterdam_date(clock())
    # then a grace period of ten days still lets her read, one of nine does not
    visible_row(app.db, AFTERCARE, in_aftercare, today=today, grace_days=10)
    with pytest.raises(TrajectoryNotFound):
        visible_row(app.db, AFTERCARE, in_aftercare, today=today, grace_days=9)
    assert app.settings.aftercare_grace_days == GRACE


def test_over_http_the_handover_view_answers_404_after_closure(
    app: TrajectoryApplication, clock: FakeClock, in_aftercare: UUID
) -> None:
    # given the aftercare worker reading the handover package over the API
    with live_server(app) as live:
        token = live.token(AFTERCARE.user_id, "aftercare", AFTERCARE.organisation,
                           user_id=AFTERCARE.user_id)
        with live.client(token) as http:
            assert http.get(f"/trajectories/{in_aftercare}/handover").status_code == 200
            # when aftercare ends: she still reads, but a new contact is refused
            ended = http.post(f"/trajectories/{in_aftercare}/aftercare/end",
                              json={"reason": "stable"})
            assert ended.status_code == 201, ended.text
            assert http.get(f"/trajectories/{in_aftercare}/handover").status_code == 200
            refused = http.post(f"/trajectories/{in_aftercare}/aftercare-contacts",
                                json={"kind": "phone"})
            assert refused.status_code == 409
            assert refused.json()["rule"] == "aftercare-ended"
            # and when the trajectory is closed, the package is gone for her
            WritePath(app).record(COORDINATOR, in_aftercare,
                                  CloseTrajectory(reason="aftercare_completed"))
            assert http.get(f"/trajectories/{in_aftercare}/handover").status_code == 404


def test_a_store_of_an_earlier_version_learns_the_day_aftercare_ended(
    app: TrajectoryApplication, clock: FakeClock, in_aftercare: UUID
) -> None:
    # given a girl whose aftercare ended, in a store whose index has no such column yet
    WritePath(app).record(AFTERCARE, in_aftercare, EndAftercare(reason="stable"))
    with app.db.transaction() as tx:
        tx.execute("ALTER TABLE trajectory_index DROP COLUMN aftercare_ended_on")
    # when this version opens the store
    reopened = TrajectoryApplication(app.settings, clock=clock, protocols=app.protocols)
    try:
        row = reopened.db.fetchone(
            "SELECT aftercare_ended_on FROM trajectory_index WHERE trajectory_id = ?",
            [str(in_aftercare)],
        )
    finally:
        reopened.close()
    # then its index knows the day, and the grace period counts from it
    assert row is not None
    assert row["aftercare_ended_on"] == amsterdam_date(clock()).isoformat()
