"""The girl's access view and the anomaly signals over the API (issue 18, parts 3 and 4):
each access names its basis (relationship, emergency access with its reason, refused), the
organisation's privacy officer reads it as the admin does, and she gets the users who
reached a threshold, counts only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api_support import ORG_A, World, make_world
from tests.live import live_server
from trajectory.application import Actor, TrajectoryApplication
from trajectory.emergency import AccessSettings, EmergencyAccesses
from trajectory.visibility import break_the_glass


@pytest.fixture
def world(app: TrajectoryApplication) -> Iterator[World]:
    with live_server(app) as live:
        yield make_world(live)


def _glass(world: World, app: TrajectoryApplication) -> str:
    who = Actor(user_id="coordinator-other-team", role="coordinator", organisation=ORG_A)
    access = break_the_glass(app.db, who, world.trajectory, reason="police-request",
                             explanation="the police asked at night", write=False,
                             now=app.clock())
    return access.access_id


def test_each_access_to_her_file_names_its_basis(world: World,
                                                 app: TrajectoryApplication) -> None:
    # given her coordinator read her file; a coordinator of another team was refused, then
    # read it by emergency access
    with world.client("coordinator") as http:
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 200
    with world.client("coordinator-other-team") as http:
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 404
        access_id = _glass(world, app)
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 200
    # when the privacy officer reads her access view
    with world.client("privacy") as http:
        answer = http.get("/audit/access", params={"trajectory": str(world.trajectory)})
    # then the three accesses stand on their three bases, the emergency with its reason
    assert answer.status_code == 200, answer.text
    mine: list[dict[str, Any]] = [
        e for e in answer.json() if e["action"] == "read"
        and e["user_id"] in ("coordinator", "coordinator-other-team")]
    assert [(e["user_id"], e["basis"], e["emergency_access"], e["emergency_reason"])
            for e in mine] == [
        ("coordinator", "relationship", None, None),
        ("coordinator-other-team", "refused", None, None),
        ("coordinator-other-team", "emergency", access_id, "police-request"),
    ]
    assert mine[2]["emergency_explanation"] == "the police asked at night"
    # and her reading is logged like the admin's
    last = world.live.services.access.for_trajectory(str(world.trajectory))[-1]
    assert (last["user_id"], last["action"]) == ("privacy", "audit-read")


def test_the_privacy_officer_gets_the_users_who_reached_a_threshold(
    world: World, app: TrajectoryApplication
) -> None:
    # given thresholds of one file outside her teams and one emergency access
    EmergencyAccesses(app.db).change_settings(ORG_A, AccessSettings(
        outside_team_threshold=1, emergency_threshold=1), by="admin", now=app.clock())
    # and a coordinator of another team who was refused and then broke the glass
    with world.client("coordinator-other-team") as http:
        assert http.get(f"/trajectories/{world.trajectory}").status_code == 404
        _glass(world, app)
    # when the privacy officer asks for the signals of the last 30 days
    with world.client("privacy") as http:
        answer = http.get("/audit/anomalies")
        bad = http.get("/audit/anomalies", params={"from": "2026-13-01"})
        backwards = http.get("/audit/anomalies", params={"from": "2026-03-02",
                                                          "to": "2026-03-01"})
    # then she is listed with her counts, the girl nowhere
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["thresholds"]["outside_team"] == 1
    assert body["users"] == [{
        "user_id": "coordinator-other-team", "role": "coordinator", "outside_team": 1,
        "emergency": 1, "night": 0, "signals": ["outside-team", "emergency"]}]
    assert str(world.trajectory) not in answer.text
    # and a day that is no day, or a period backwards, is refused naming the field
    assert bad.status_code == 422
    assert backwards.status_code == 422
    # and the coordinator herself may not ask
    with world.client("coordinator") as http:
        assert http.get("/audit/anomalies").status_code == 403
