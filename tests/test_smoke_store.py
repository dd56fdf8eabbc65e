"""The smallest story on both stores: open a trajectory, record a fact, read it back."""

from __future__ import annotations

from tests.builders import COORDINATOR, open_trajectory
from trajectory.application import TrajectoryApplication
from trajectory.commands import RecordSignal


def test_a_recorded_fact_is_read_back_from_the_store(app: TrajectoryApplication) -> None:
    # given an open trajectory
    trajectory_id = open_trajectory(app)
    # when a signal is recorded
    recorded = app.execute(trajectory_id, RecordSignal(kind="loverboy"), COORDINATOR)
    # then the store returns both events and the index knows the new version
    assert recorded.version == 2
    assert [type(e).__name__ for e in app.stream(trajectory_id)] == [
        "TrajectoryOpened",
        "SignalRecorded",
    ]
    assert app.current_version(trajectory_id) == 2
