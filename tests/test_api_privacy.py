"""Privacy over HTTP: erasure by an admin, 410 afterwards, consent and destruction facts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.step_up_support import enrol, stepped_up
from trajectory.application import TrajectoryApplication
from trajectory.verify import verify_store

INTAKE: dict[str, Any] = {
    "intake_date": "2026-02-01",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "police",
    "legal_framework": "ots",
    "identity": {"name": "Test Meisje", "date_of_birth": "2009-05-05", "home_region": "Utrecht"},
}


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_an_admin_erases_a_trajectory_and_it_answers_410(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    coordinator = live.client(live.token("coord", "coordinator", "org-a"))
    admin_token = live.token("admin", "admin", "org-a")
    outsider = live.client(live.token("coord-b", "coordinator", "org-b"))
    # Erasing needs a step-up token (password and a new TOTP code), as on the web pages:
    # for the proposal and for the second admin's approval alike.
    with live.client(admin_token) as mine, live.client(
        live.token("admin-2", "admin", "org-a")
    ) as second, live.client(live.token("admin-b", "admin", "org-b")) as theirs:
        admin = stepped_up(live, mine, enrol(live, "admin"), clock)
        second_admin = stepped_up(live, second, enrol(live, "admin-2"), clock)
        other_admin = stepped_up(live, theirs, enrol(live, "admin-b"), clock)
    with coordinator, admin, second_admin, other_admin, outsider, live.client(
        admin_token
    ) as admin_reads:
        # given two trajectories her coordinator can read
        erased = coordinator.post("/trajectories", json=INTAKE).json()["id"]
        kept = coordinator.post("/trajectories", json={
            **INTAKE, "identity": {**INTAKE["identity"], "name": "Ander Meisje"}}).json()["id"]
        assert coordinator.get(f"/trajectories/{erased}").status_code == 200
        body = {"reason": "request granted", "legal_ground": "request-granted"}
        # an admin of another organisation cannot erase her, nor can a coordinator
        assert other_admin.post(f"/trajectories/{erased}/erasure", json=body).status_code == 404
        assert coordinator.post(f"/trajectories/{erased}/erasure", json=body).status_code == 403
        # a stale If-Match erases nothing
        stale = admin.post(
            f"/trajectories/{erased}/erasure", json=body, headers={"If-Match": '"9"'}
        )
        assert stale.status_code == 412
        # one admin alone may not erase her: the route names the four-eyes rule
        alone = admin.post(f"/trajectories/{erased}/erasure", json=body)
        assert alone.status_code == 409, alone.text
        assert alone.json()["rule"] == "erasure-needs-two-admins"
        # when her request is granted, her organisation's admin proposes, a second approves
        assert coordinator.post(f"/trajectories/{erased}/destruction-requests",
                                json={"requested_by": "girl"}).status_code == 201
        assert coordinator.post(f"/trajectories/{erased}/destruction-requests/decision",
                                json={"granted": True}).status_code == 201
        proposed = admin.post("/admin/erasures", json={"trajectory_id": erased, **body})
        assert proposed.status_code == 201, proposed.text
        done = second_admin.post(f"/admin/erasures/{proposed.json()['id']}/confirmation",
                                 json={"confirmation": erased[:8]})
        assert done.status_code == 200, done.text
        assert done.json()["legal_ground"] == "request-granted"
        # then her coordinator gets 410, an outsider still 404, the other girl is untouched
        gone = coordinator.get(f"/trajectories/{erased}")
        assert gone.status_code == 410
        assert gone.headers["content-type"].startswith("application/problem+json")
        assert outsider.get(f"/trajectories/{erased}").status_code == 404
        assert coordinator.get(f"/trajectories/{kept}").status_code == 200
        assert admin.post(f"/trajectories/{erased}/erasure", json=body).status_code == 410
        # and who looked at her file remains answerable
        log = admin_reads.get("/audit/access", params={"trajectory": erased}).json()
        assert "erase" in [e["action"] for e in log]
    report = verify_store(app)
    assert report.ok
    assert [str(t) for t in report.erased] == [erased]


def test_consent_and_destruction_requests_are_recorded_over_http(live: Live) -> None:
    coordinator = live.client(live.token("coord", "coordinator", "org-a"))
    admin = live.client(live.token("admin", "admin", "org-a"))
    with coordinator, admin:
        tid = coordinator.post("/trajectories", json=INTAKE).json()["id"]
        # a parent cannot consent for a girl of 16 or older
        refused = coordinator.post(
            f"/trajectories/{tid}/research-consents", json={"given_by": "parent"}
        )
        assert refused.status_code == 409
        assert refused.json()["rule"] == "consent-by-girl-from-16"
        ok = coordinator.post(f"/trajectories/{tid}/research-consents", json={"given_by": "girl"})
        assert ok.status_code == 201
        requested = coordinator.post(
            f"/trajectories/{tid}/destruction-requests", json={"requested_by": "girl"}
        )
        assert requested.status_code == 201
        due = admin.get("/retention").json()
        assert [(i["trajectory_id"], i["reason"]) for i in due] == [(tid, "request-pending")]
        decided = coordinator.post(
            f"/trajectories/{tid}/destruction-requests/decision",
            json={"granted": False},
        )
        assert decided.status_code == 409
        assert decided.json()["rule"] == "reason-required"
