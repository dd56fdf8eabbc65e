"""One short story over real HTTP: intake, a refusal, a fact, the summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


INTAKE = {
    "intake_date": "2026-02-01",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "police",
    "legal_framework": "ots",
    "identity": {"name": "Test Meisje", "date_of_birth": "2010-05-05", "home_region": "Utrecht"},
}


def test_intake_refusal_and_fact_over_http(live: Live) -> None:
    token = live.token("coord", "coordinator", "org-a")
    with live.client(token) as http:
        # when a coordinator opens a trajectory
        created = http.post("/trajectories", json=INTAKE)
        assert created.status_code == 201, created.text
        tid = created.json()["id"]
        assert created.headers["location"] == f"/trajectories/{tid}"
        # then unsupervised internet is refused in phase 1
        refused = http.put(f"/trajectories/{tid}/permissions/internet", json={"level": "free"})
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["rule"] == "phase-permission-cap"
        # and supervised internet is accepted
        ok = http.put(
            f"/trajectories/{tid}/permissions/internet",
            json={"level": "supervised", "reason": "homework"},
            headers={"If-Match": '"1"'},
        )
        assert ok.status_code == 201, ok.text
        summary = http.get(f"/trajectories/{tid}")
        assert summary.status_code == 200
        assert summary.headers["etag"] == '"2"'
        assert summary.json()["permissions"]["internet"] == "supervised"
        advance = http.post(f"/trajectories/{tid}/phase-transitions", json={"to_phase": 2})
        assert advance.status_code == 409
        assert "safety-analysis" in advance.json()["unmet"]
