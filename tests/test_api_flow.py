"""A coordinator's whole trajectory over real HTTP, from intake to aftercare.

One story, told in order: what the protocol refuses is refused with its stable rule code,
what it allows is recorded, and the aftercare worker sees the handover and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest

from tests.api_support import GIRL, INTAKE, PACKAGE, assert_problem
from tests.conftest import FakeClock
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication

PHASE_2_CRITERIA = {
    "safety-analysis",
    "medical-assessment",
    "care-analysis",
    "treatment-plan",
    "placement",
    "education",
    "min-days-in-phase",
}


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def recorded(response: httpx.Response, tid: str) -> int:
    """A fact was recorded: 201, its place in the history, the new version as ETag."""
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == tid
    assert response.headers["location"] == f"/trajectories/{tid}/events/{body['positions'][-1]}"
    assert response.headers["etag"] == f'"{body["version"]}"'
    return int(body["version"])


def refused(response: httpx.Response, rule: str) -> dict[str, Any]:
    body = assert_problem(response, 409)
    assert body["rule"] == rule, body
    return body


def test_a_coordinator_takes_a_girl_from_intake_to_aftercare(
    live: Live, clock: FakeClock
) -> None:
    coordinator = live.token("coordinator", "coordinator", "org-a", user_id="coord-1")
    aftercare_token = live.token("aftercare", "aftercare", "nazorg", user_id="after-1")
    http = live.client(coordinator)
    after = live.client(aftercare_token)
    try:
        # Intake, today.
        created = http.post("/trajectories", json={**INTAKE, "intake_date": "2026-03-02"})
        assert created.status_code == 201, created.text
        tid = created.json()["id"]
        base = f"/trajectories/{tid}"
        assert created.headers["location"] == base
        assert created.headers["etag"] == '"1"'

        # Nothing done yet: the advance to phase 2 lists every unmet criterion.
        advance = http.post(f"{base}/phase-transitions", json={"to_phase": 2, "reason": "ok"})
        assert set(refused(advance, "entry-criteria-unmet")["unmet"]) == PHASE_2_CRITERIA

        # Unsupervised internet is refused in phase 1; supervised internet is fine.
        free = http.put(f"{base}/permissions/internet", json={"level": "free", "reason": "x"})
        refused(free, "phase-permission-cap")
        recorded(
            http.put(
                f"{base}/permissions/internet",
                json={"level": "supervised", "reason": "homework"},
                headers={"If-Match": '"1"'},
            ),
            tid,
        )
        recorded(http.put(f"{base}/permissions/phone", json={"level": "supervised"}), tid)

        # Core elements 5, 6, 7 and the rest of what phase 2 asks for.
        facts: list[tuple[str, dict[str, Any]]] = [
            ("safety-analyses", {
                "instrument": "structured", "physical_safety": "concerns",
                "experienced_safety": "unsafe", "risks": ["internet_social_media"],
                "runaway_risk": "high", "measures": ["police_involved"],
                "police_involved": True,
            }),
            ("medical-assessments", {"needs": ["sti_test"], "provider": "Centrum Seksueel Geweld"}),
            ("care-analyses", {"disciplines": ["psychologist", "social worker"]}),
            ("treatment-plans", {"goals": ["stabilise", "school"]}),
            ("placements", {"kind": "homogeneous_group", "region": "Utrecht"}),
            ("education", {"school": "De Brug", "level": "vmbo"}),
        ]
        for path, body in facts:
            recorded(http.post(f"{base}/{path}", json=body), tid)

        # Only the days in phase 1 are missing now.
        advance = http.post(f"{base}/phase-transitions", json={"to_phase": 2, "reason": "ok"})
        assert refused(advance, "entry-criteria-unmet")["unmet"] == ["min-days-in-phase"]
        clock.advance(days=30)

        # A runaway blocks every advance until she is back.
        recorded(http.post(f"{base}/runaways", json={"from_where": "school"}), tid)
        advance = http.post(f"{base}/phase-transitions", json={"to_phase": 2, "reason": "ok"})
        assert "no-open-runaway" in refused(advance, "runaway-open")["unmet"]
        recorded(http.post(f"{base}/runaways/return", json={"ending": "returned"}), tid)

        # Back, she needs a medical assessment and a new safety analysis before any advance.
        advance = http.post(f"{base}/phase-transitions", json={"to_phase": 2, "reason": "ok"})
        assert refused(advance, "entry-criteria-unmet")["unmet"] == [
            "medical-after-runaway", "safety-after-runaway"]
        for path, body in facts[:2]:
            recorded(http.post(f"{base}/{path}", json=body), tid)

        # Now the advance is accepted, with the protocol in force recorded.
        version = http.get(base).headers["etag"]
        advanced = http.post(
            f"{base}/phase-transitions",
            json={"to_phase": 2, "reason": "stable for a month"},
            headers={"If-Match": version},
        )
        recorded(advanced, tid)
        summary = http.get(base).json()
        assert summary["phase"] == 2
        assert summary["status"] == "in_care"
        phase_2_version = summary["version"]

        # Phase 2 allows more phone; a regression lowers it again, automatically.
        recorded(http.put(f"{base}/permissions/phone", json={"level": "limited"}), tid)
        recorded(
            http.post(f"{base}/phase-transitions",
                      json={"to_phase": 1, "reason": "contact with the loverboy again"}),
            tid,
        )
        summary = http.get(base).json()
        assert summary["phase"] == 1
        assert summary["permissions"]["phone"] == "supervised"
        events = http.get(f"{base}/events").json()
        capped = [e for e in events if e["type"] == "PermissionsCapped"]
        assert len(capped) == 1
        assert capped[0]["data"]["permissions"][0]["kind"] == "phone"

        # Network: a prohibited contact is never restored; a safe one is, supervised.
        trafficker = http.post(f"{base}/network-contacts",
                               json={"role": "suspected trafficker", "risk": "prohibited"})
        recorded(trafficker, tid)
        prohibited_id = trafficker.json()["contact_id"]
        restore = http.post(
            f"{base}/network-contacts/{prohibited_id}/restorations",
            json={"level": "supervised", "reason": "she asks for it"},
        )
        refused(restore, "contact-prohibited")
        aunt = http.post(f"{base}/network-contacts", json={"role": "aunt", "risk": "safe"})
        recorded(aunt, tid)
        recorded(
            http.post(
                f"{base}/network-contacts/{aunt.json()['contact_id']}/restorations",
                json={"level": "supervised", "reason": "a safe aunt"},
            ),
            tid,
        )

        # CoMensha, then the warm handover to the aftercare worker.
        recorded(
            http.post(f"{base}/comensha-decisions",
                      json={"decision": "registered_by_name", "consent_by": "parent"}),
            tid,
        )
        recorded(
            http.post(
                f"{base}/handover",
                json={"receiving_organisation": "nazorg", "receiving_worker": "after-1",
                      "package": PACKAGE},
            ),
            tid,
        )
        recorded(
            http.post(
                f"{base}/handover/meeting",
                json={"girl_present": True, "sending_worker_present": True,
                      "receiving_worker_present": True},
            ),
            tid,
        )
        # Only the receiving worker accepts; a coordinator may not.
        refused(http.post(f"{base}/handover/acceptance", json={}), "handover-wrong-receiver")
        recorded(after.post(f"{base}/handover/acceptance", json={}), tid)
        recorded(after.post(f"{base}/aftercare",
                            json={"plan": "weekly visits", "destination": "independent"}), tid)
        recorded(after.post(f"{base}/aftercare-contacts", json={"kind": "visit"}), tid)

        # She sees the handover view, and nothing else of the file.
        view = after.get(f"{base}/handover")
        assert view.status_code == 200, view.text
        assert view.headers["etag"] == http.get(base).headers["etag"]
        handover = view.json()
        assert handover["state"] == "in_aftercare"
        assert handover["receiving_worker"] == "after-1"
        assert handover["package"]["safety_plan"] == PACKAGE["safety_plan"]
        assert [c["risk"] for c in handover["contacts_to_watch"]] == ["prohibited"]
        assert handover["last_aftercare_contact_on"] == "2026-04-01"
        # Who she is reaches the receiving worker (from the warm handover meeting on), but
        # not the rest of her file.
        assert handover["identity"]["name"] == GIRL
        assert_problem(after.get(base), 403)
        assert_problem(after.get(f"{base}/events"), 403)
        caseload = after.get("/trajectories").json()
        assert [item["id"] for item in caseload["items"]] == [tid]

        # The summary now, and as it was known when phase 2 began.
        now = http.get(base).json()
        assert now["status"] == "aftercare"
        events = http.get(f"{base}/events").json()
        advanced_at = next(e for e in events if e["type"] == "PhaseAdvanced")["recorded_at"]
        then = http.get(base, params={"as_of": advanced_at})
        assert then.status_code == 200, then.text
        assert then.json()["phase"] == 2
        assert then.json()["version"] == phase_2_version
        assert then.json()["status"] == "in_care"
        assert then.headers["etag"] == f'"{phase_2_version}"'

        # The history: every position once, in order, each linked to the one before.
        assert [e["position"] for e in events] == list(range(1, len(events) + 1))
        assert len(events) == now["version"]
        for previous, event in pairwise(events):
            assert event["prev_hash"] == previous["hash"]
        assert len({e["hash"] for e in events}) == len(events)
        one = http.get(f"{base}/events/{len(events)}")
        assert one.json() == events[-1]
    finally:
        http.close()
        after.close()
