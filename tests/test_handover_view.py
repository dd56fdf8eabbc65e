"""The aftercare worker's side of the chain, over real HTTP on both stores: she is picked
from a list of the installation's aftercare workers, the girl is in her list at once, and
her handover view carries what she needs to reach and support her (the CoMensha decision,
her identity from the handover meeting on, how to reach her, the people around her, her
own contacts with their outcomes) and why she is out of view, as the organisation's list
says it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api_support import INTAKE, PACKAGE
from tests.conftest import FakeClock
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication

ORG = "Stichting Zonnebloem"
AFTERCARE_ORG = "Nazorg Westhoek"
WORKER_NAME = "Anna de Vries"


@dataclass
class Chain:
    live: Live
    coordinator: httpx.Client
    worker: httpx.Client
    other_worker: httpx.Client
    worker_id: str


@pytest.fixture
def chain(app: TrajectoryApplication) -> Iterator[Chain]:
    with live_server(app) as live:
        coordinator = live.token("Carla Coördinator", "coordinator", ORG, user_id="coord-1")
        worker = live.token(WORKER_NAME, "aftercare", AFTERCARE_ORG, user_id="after-1")
        other = live.token("Bea Buiten", "aftercare", "Nazorg Oost", user_id="after-2")
        live.token("Rita Revoked", "aftercare", AFTERCARE_ORG, user_id="after-3")
        live.services.users.revoke("Rita Revoked", app.clock())
        live.token("Olga Onderzoek", "researcher", "Universiteit", user_id="res-1")
        with (
            live.client(coordinator) as c,
            live.client(worker) as w,
            live.client(other) as o,
        ):
            yield Chain(live, c, w, o, "after-1")


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def open_girl(c: Chain) -> str:
    return str(created(c.coordinator.post("/trajectories", json=INTAKE))["id"])


def prepare(c: Chain, tid: str, **extra: Any) -> None:
    created(c.coordinator.post(f"/trajectories/{tid}/comensha-decisions",
                               json={"decision": "registered_by_name", "consent_by": "parent"}))
    body = {
        "receiving_organisation": AFTERCARE_ORG,
        "receiving_worker": c.worker_id,
        "package": {**PACKAGE, "contact_every_days": 7},
        "parties": [
            {"role": "wijkagent", "name": "Kees Agent", "organisation": "Politie Zeeland",
             "contact": "06-11112222"},
        ],
        **extra,
    }
    created(c.coordinator.post(f"/trajectories/{tid}/handover", json=body))


def meeting(c: Chain, tid: str) -> None:
    created(c.coordinator.post(f"/trajectories/{tid}/handover/meeting", json={
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True,
    }))


def into_aftercare(c: Chain, tid: str) -> None:
    meeting(c, tid)
    created(c.worker.post(f"/trajectories/{tid}/handover/acceptance", json={}))
    created(c.worker.post(f"/trajectories/{tid}/aftercare",
                          json={"plan": "weekly", "destination": "independent"}))


def view(client: httpx.Client, tid: str) -> dict[str, Any]:
    response = client.get(f"/trajectories/{tid}/handover")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def access_actions(app: TrajectoryApplication, user_id: str) -> list[str]:
    rows = app.db.fetchall(
        "SELECT action FROM access_log WHERE user_id = ? ORDER BY at", [user_id]
    )
    return [str(r["action"]) for r in rows]


# -- the list to pick from ----------------------------------------------------------------------


def test_a_coordinator_picks_the_receiver_from_the_installations_active_aftercare_workers(
    chain: Chain, app: TrajectoryApplication
) -> None:
    # given aftercare workers of two organisations, one of them revoked, and a researcher
    # when a coordinator asks whom she may hand over to
    response = chain.coordinator.get("/aftercare-workers")
    # then she gets the active aftercare workers, by id, name and organisation
    assert response.status_code == 200, response.text
    assert response.json() == [
        {"id": "after-1", "name": WORKER_NAME, "organisation": AFTERCARE_ORG},
        {"id": "after-2", "name": "Bea Buiten", "organisation": "Nazorg Oost"},
    ]
    # and the read is in the access log
    assert "read" in access_actions(app, "coord-1")
    # and an aftercare worker may not ask
    assert chain.worker.get("/aftercare-workers").status_code == 403


def test_a_girl_handed_over_to_a_worker_from_the_list_is_in_her_list_at_once(
    chain: Chain,
) -> None:
    # given a girl
    tid = open_girl(chain)
    assert chain.worker.get("/trajectories").json()["items"] == []
    # when her coordinator prepares the handover to a worker picked from the list
    worker = chain.coordinator.get("/aftercare-workers").json()[0]
    chain.worker_id = worker["id"]
    prepare(chain, tid)
    # then the girl is in that worker's list at once, and in nobody else's
    assert [i["id"] for i in chain.worker.get("/trajectories").json()["items"]] == [tid]
    assert chain.other_worker.get("/trajectories").json()["items"] == []
    assert chain.other_worker.get(f"/trajectories/{tid}/handover").status_code == 404


# -- the view -----------------------------------------------------------------------------------


def test_the_receiving_worker_reads_the_package_before_the_meeting_and_her_identity_after(
    chain: Chain,
) -> None:
    # given a girl whose handover is prepared, with how to reach her on record
    tid = open_girl(chain)
    created(chain.coordinator.post(f"/trajectories/{tid}/aftercare/contact-details", json={
        "phone": "06-12345678", "address": "Dorpsstraat 1, Sluis", "school_or_work": "ROC",
    }))
    prepare(chain, tid)
    # when the receiving worker reads the handover view before the meeting
    before = view(chain.worker, tid)
    # then she reads the package, the CoMensha decision taken from the record, the
    # people around her, the agreed frequency and who sends her; not yet who she is
    assert before["package"]["safety_plan"] == PACKAGE["safety_plan"]
    assert before["comensha_decision"] == "registered_by_name"
    assert before["parties"] == [{"role": "wijkagent", "name": "Kees Agent",
                                  "organisation": "Politie Zeeland", "contact": "06-11112222"}]
    assert before["contact_every_days"] == 7
    assert before["sending_coordinator"] == {"id": "coord-1", "name": "Carla Coördinator"}
    assert before["identity"] is None
    assert before["turns_18_on"] is None
    # while her coordinator sees it all
    assert view(chain.coordinator, tid)["identity"]["name"] == INTAKE["identity"]["name"]
    # when the warm handover meeting is held
    meeting(chain, tid)
    after = view(chain.worker, tid)
    # then she sees who the girl is and how to reach her
    identity = after["identity"]
    assert identity["name"] == INTAKE["identity"]["name"]
    assert identity["date_of_birth"] == "2010-05-05"
    assert identity["home_region"] == INTAKE["identity"]["home_region"]
    assert identity["contact_details"]["phone"] == "06-12345678"
    assert identity["contact_details"]["school_or_work"] == "ROC"
    assert after["turns_18_on"] == "2028-05-05"


def test_her_own_contacts_with_outcomes_and_why_she_is_out_of_view(
    chain: Chain, clock: FakeClock
) -> None:
    # given a girl in aftercare with weekly contact agreed
    tid = open_girl(chain)
    prepare(chain, tid)
    into_aftercare(chain, tid)
    base = f"/trajectories/{tid}/aftercare-contacts"
    # when eight days pass without contact
    clock.advance(days=8)
    out = view(chain.worker, tid)
    # then she is out of view because contact is overdue, as the reasons say
    assert out["out_of_view"] is True
    assert [r["reason"] for r in out["out_of_view_reasons"]] == ["aftercare-contact-overdue"]
    # when a message is not answered
    created(chain.worker.post(base, json={"channel": "message", "outcome": "not_reached",
                                          "note": "geen antwoord"}))
    out = view(chain.worker, tid)
    # then she stays out of view, and the attempt is listed with its note
    assert out["out_of_view"] is True
    assert out["contacts"][-1]["kind"] == "message"
    assert out["contacts"][-1]["outcome"] == "not_reached"
    assert out["contacts"][-1]["note"] == "geen antwoord"
    assert out["contacts"][-1]["recorded_by"] == "after-1"
    # when a visit reaches her
    visit = created(chain.worker.post(base, json={"channel": "visit", "outcome": "reached",
                                                  "note": "thuis gesproken"}))
    out = view(chain.worker, tid)
    # then she is in view again, and the next contact is due a week later
    assert out["out_of_view"] is False
    assert out["out_of_view_reasons"] == []
    assert out["last_aftercare_contact_on"] == out["contacts"][-1]["date"]
    assert out["destination"] == "independent"
    # when the visit is marked in error, it no longer counts or shows
    created(chain.coordinator.post(f"/trajectories/{tid}/corrections", json={
        "position": visit["positions"][-1], "action": "mark_in_error",
        "reason": "verkeerde cliënt",
    }))
    out = view(chain.worker, tid)
    assert [c["outcome"] for c in out["contacts"]] == ["not_reached"]
    assert out["out_of_view"] is True


def test_an_external_receiver_travels_in_the_view(chain: Chain) -> None:
    # given a handover to an organisation outside this installation
    tid = open_girl(chain)
    prepare(chain, tid, receiving_worker="", receiving_organisation="Jeugdteam Terneuzen",
            external_receiver={"organisation": "Jeugdteam Terneuzen", "worker": "Piet Paal",
                               "contact": "0115-123456"})
    # when her coordinator reads the view
    out = view(chain.coordinator, tid)
    # then the receiver outside is named, with the route to reach her
    assert out["external_receiver"] == {"organisation": "Jeugdteam Terneuzen",
                                        "worker": "Piet Paal", "contact": "0115-123456"}


# -- access follows the chain, walked by date ------------------------------------------------


def test_access_follows_the_chain_day_by_day(chain: Chain, clock: FakeClock) -> None:
    # given a girl not yet handed over: the worker cannot see her
    tid = open_girl(chain)
    assert chain.worker.get(f"/trajectories/{tid}/handover").status_code == 404
    # when the handover is prepared: she sees the package, not the identity
    prepare(chain, tid)
    assert view(chain.worker, tid)["identity"] is None
    # a week later the meeting is held: from that day on she sees who the girl is
    clock.advance(days=7)
    meeting(chain, tid)
    assert view(chain.worker, tid)["identity"] is not None
    # she never reads the full history or summary
    assert chain.worker.get(f"/trajectories/{tid}").status_code == 403
    # the sending coordinator keeps reading during the handover period and after it
    created(chain.worker.post(f"/trajectories/{tid}/handover/acceptance", json={}))
    created(chain.worker.post(f"/trajectories/{tid}/aftercare",
                              json={"plan": "weekly", "destination": "independent"}))
    clock.advance(days=30)
    assert chain.coordinator.get(f"/trajectories/{tid}").status_code == 200
    assert view(chain.coordinator, tid)["state"] == "in_aftercare"
    # when aftercare ends and the file is closed, the coordinator still reads it, the
    # worker no longer
    created(chain.worker.post(f"/trajectories/{tid}/aftercare/end", json={"reason": "stable"}))
    created(chain.coordinator.post(f"/trajectories/{tid}/closure",
                                   json={"reason": "aftercare_completed"}))
    assert chain.coordinator.get(f"/trajectories/{tid}/handover").status_code == 200
    assert chain.worker.get(f"/trajectories/{tid}/handover").status_code == 404


def test_a_transfer_mid_care_keeps_the_sending_coordinator_reading(chain: Chain) -> None:
    # given a girl handed over mid-care to another organisation's worker and closed as
    # transferred
    tid = open_girl(chain)
    prepare(chain, tid)
    meeting(chain, tid)
    created(chain.worker.post(f"/trajectories/{tid}/handover/acceptance", json={}))
    created(chain.coordinator.post(f"/trajectories/{tid}/closure", json={
        "reason": "transferred", "destination": "other_youth_care",
        "responsible_next": AFTERCARE_ORG,
    }))
    # then the sending coordinator still reads the handover view
    assert view(chain.coordinator, tid)["receiving_organisation"] == AFTERCARE_ORG
