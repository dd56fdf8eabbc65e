"""FHIR R4 for the care around her (issue 19, part 3): her record as a Bundle, and her
file's access log as AuditEvents. Every answer is read back by the fhir.resources models
(R4B: the R4 resources we send are unchanged in it), over real HTTP, on both stores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.api_support import GIRL, REGION, World, assert_problem, assert_reveals_nothing
from tests.api_support import make_world as make_api_world
from tests.builders import COORDINATOR
from tests.chain_support import Chain, chain_fixture  # noqa: F401
from tests.conftest import FakeClock
from tests.live import live_server
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.application import TrajectoryApplication
from trajectory.commands import RecordCareAnalysis
from trajectory.demo import ORGANISATIONS, run_demo
from trajectory.identity.teams import Teams

Resource = dict[str, Any]
EVENT_HASH = "urn:trajectory:event-hash"
MEASUREMENT: dict[str, Any] = {
    "living_situation": "independent", "school_or_work": "school",
    "qualification": "vmbo", "revictimised_since": False, "runaways_since": 0,
    "loverboy_contact": "none", "note": "woont bij tante Els",
    "instruments": [{"name": "SDQ", "version": "2019", "total": 14,
                     "subscales": {"emotional": 5, "conduct": 2.5}}],
}


def parsed(response: httpx.Response) -> Resource:
    """The answer as FHIR: its media type, and every resource in it parsed by the models."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: Resource = response.json()
    get_fhir_model_class("Bundle").model_validate(body)
    for entry in body["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    return body


def of_type(bundle: Resource, kind: str) -> list[Resource]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_url(bundle: Resource) -> dict[str, Resource]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def provenance_of(bundle: Resource) -> dict[str, list[tuple[str, str]]]:
    """Per resource (its fullUrl): the (role, event hash) of the events it was made from."""
    out: dict[str, list[tuple[str, str]]] = {}
    for p in of_type(bundle, "Provenance"):
        (target,) = p["target"]
        assert target["reference"] not in out, "one Provenance per resource"
        out[target["reference"]] = [
            (e["role"], e["what"]["identifier"]["value"]) for e in p["entity"]
            if e["what"]["identifier"]["system"] == EVENT_HASH
        ]
    return out


def check_provenance(bundle: Resource, stream: list[TrajectoryEvent]) -> None:
    """Every resource but the Provenances has one, and every hash it names is a stored
    event's own."""
    stored = {e.hash for e in stream}
    provenance = provenance_of(bundle)
    for url, resource in by_url(bundle).items():
        if resource["resourceType"] == "Provenance":
            continue
        assert provenance.get(url), f"{resource['resourceType']} without its events"
        assert {h for _, h in provenance[url]} <= stored


# -- every demo girl ------------------------------------------------------------------------


def test_the_record_of_every_demo_girl_is_fhir_and_names_its_events_by_their_hashes(
    app: TrajectoryApplication,
) -> None:
    # given the demo's girls, and a coordinator of each demo organisation in all its teams
    assert run_demo(app, progress=lambda done, total: None) == 40
    rows = app.index()
    teams = Teams(app.db)
    with live_server(app) as live:
        tokens = {org: live.token(f"fhir-{org}", "coordinator", org, user_id=f"fhir-{org}")
                  for org in ORGANISATIONS}
        for org in ORGANISATIONS:
            for team in teams.of_organisation(org):
                teams.add_member(team.team_id, f"fhir-{org}", by="admin", now=app.clock())
        clients = {org: live.client(token) for org, token in tokens.items()}
        try:
            seen: Counter[str] = Counter()
            for row in rows:
                tid = UUID(row["trajectory_id"])
                http = clients[row["organisation"]]
                stream = list(app.stream(tid))
                # when her record is asked, without a purpose and for her treatment
                plain = parsed(http.get(f"/trajectories/{tid}/fhir"))
                named = parsed(http.get(f"/trajectories/{tid}/fhir",
                                        params={"purpose": "treatment"}))
                # then every resource parses, and has a Provenance naming stored hashes
                for bundle in (plain, named):
                    check_provenance(bundle, stream)
                    seen.update(e["resource"]["resourceType"] for e in bundle["entry"])
                # the Patient without a purpose carries no name, only the year of birth
                (patient,) = of_type(plain, "Patient")
                assert "name" not in patient
                assert "address" not in patient
                assert len(patient["birthDate"]) == 4
                assert row["trajectory_id"] in str(patient["identifier"])
                (patient,) = of_type(named, "Patient")
                assert patient["name"][0]["text"].startswith("Demo Meisje")
                # and her episode's status is her trajectory's
                (episode,) = of_type(plain, "EpisodeOfCare")
                want = "finished" if row["status"] == "closed" else "active"
                assert episode["status"] == want
        finally:
            for client in clients.values():
                client.close()
    # and the demo's stories fill every kind of resource of the mapping
    for kind in ("Patient", "EpisodeOfCare", "CarePlan", "Goal", "Procedure", "Observation",
                 "Provenance"):
        assert seen[kind], kind


# -- one story, resource by resource ----------------------------------------------------------


def hashes(chain: Chain, tid: str) -> dict[str, list[str]]:
    """Her stored events' hashes by type, in order (from her history, over HTTP)."""
    response = chain.coordinator.get(f"/trajectories/{tid}/events")
    assert response.status_code == 200, response.text
    out: dict[str, list[str]] = {}
    for event in response.json():
        out.setdefault(event["type"], []).append(event["hash"])
    return out


def position_of(chain: Chain, tid: str, event_type: str, n: int = 0) -> int:
    response = chain.coordinator.get(f"/trajectories/{tid}/events")
    found = [e["position"] for e in response.json() if e["type"] == event_type]
    return int(found[n])


def test_her_record_tells_her_care_and_reads_corrections_as_the_rule_says(
    chain: Chain, clock: FakeClock, app: TrajectoryApplication
) -> None:
    # given a girl with two treatment plans, a course of EMDR with two sessions
    tid = chain.girl()
    intake_day = chain.today()
    app.execute(UUID(tid), RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
                COORDINATOR)
    clock.advance(days=3)
    chain.ok(chain.coordinator, tid, "treatment-plans",
             {"goals": ["Veiligheid", "Traumaverwerking"], "summary": "eerste plan"})
    first_plan_day = chain.today()
    clock.advance(days=10)
    chain.ok(chain.coordinator, tid, "trauma-therapies", {"method": "emdr",
                                                          "provider": "jeugd-ggz"})
    therapy_day = chain.today()
    for _ in range(2):
        clock.advance(days=7)
        chain.ok(chain.coordinator, tid, "trauma-therapies/sessions",
                 {"note": "gesprek over Kevin"})
    clock.advance(days=7)
    chain.ok(chain.coordinator, tid, "trauma-therapies/completion", {"outcome": "afgerond"})
    chain.ok(chain.coordinator, tid, "treatment-plans",
             {"goals": ["Onderwijs hervatten"], "summary": "tweede plan"})
    second_plan_day = chain.today()
    # and the first plan's day corrected: it was made the day after intake
    chain.ok(chain.coordinator, tid, "corrections", {
        "position": position_of(chain, tid, "TreatmentPlanSet"), "reason": "datum",
        "corrected_occurred_on": (intake_day + timedelta(days=1)).isoformat()})
    # and her handover prepared: not yet met, her aftercare worker may not know who she is
    chain.ok(chain.coordinator, tid, "handover", {
        "receiving_organisation": "Nazorg West", "receiving_worker": "after-1",
        "package": {"sexual_development": "x", "loverboy_problem": "y", "safety_plan": "z",
                    "agreements": "a", "aftercare_plan": "b"}})
    assert parsed(chain.aftercare.get(f"/trajectories/{tid}/fhir"))
    refused = chain.aftercare.get(f"/trajectories/{tid}/fhir", params={"purpose": "treatment"})
    assert assert_problem(refused, 403)["rule"] == "purpose-not-allowed"
    assert "Test Meisje" not in refused.text
    # then she goes to aftercare and is measured; a record of a later moment is in error
    clock.advance(days=5)
    chain.ok(chain.coordinator, tid, "handover/meeting", {
        "girl_present": True, "sending_worker_present": True, "receiving_worker_present": True})
    chain.ok(chain.aftercare, tid, "handover/acceptance", {})
    clock.advance(days=1)
    chain.ok(chain.aftercare, tid, "aftercare", {"destination": "independent"})
    aftercare_day = chain.today()
    chain.ok(chain.aftercare, tid, "follow-ups", {**MEASUREMENT, "moment": 0})
    chain.ok(chain.aftercare, tid, "follow-ups/not-possible",
             {"moment": 6, "reason": "not_reached"})
    chain.ok(chain.coordinator, tid, "corrections", {
        "position": position_of(chain, tid, "FollowUpNotPossible"),
        "action": "mark_in_error", "reason": "verkeerd dossier"})

    # when her record is asked for her treatment, by her aftercare worker (met now)
    named = parsed(chain.aftercare.get(f"/trajectories/{tid}/fhir",
                                       params={"purpose": "treatment"}))
    plain = parsed(chain.coordinator.get(f"/trajectories/{tid}/fhir"))
    stored = hashes(chain, tid)
    urls = by_url(named)
    provenance = provenance_of(named)

    def made_from(resource: Resource) -> list[tuple[str, str]]:
        return provenance[f"urn:uuid:{resource['id']}"]

    # then the Patient says who she is, and without a purpose only the year of her birth
    (patient,) = of_type(named, "Patient")
    assert patient["name"] == [{"text": "Test Meisje"}]
    assert patient["birthDate"] == "2010-04-01"
    assert made_from(patient) == [("source", stored["TrajectoryOpened"][0])]
    (anonymous,) = of_type(plain, "Patient")
    assert "name" not in anonymous
    assert anonymous["birthDate"] == "2010"
    assert anonymous["meta"]["security"][0]["code"] == "PSEUDED"
    assert "Test Meisje" not in str(plain)
    assert "Utrecht" not in str(plain)
    # the episode: phase 1 until she left care, then aftercare
    (episode,) = of_type(named, "EpisodeOfCare")
    assert episode["status"] == "active"
    history = [(h["extension"][0]["valueCoding"]["code"], h["period"])
               for h in episode["statusHistory"]]
    assert history == [
        ("1", {"start": intake_day.isoformat(), "end": aftercare_day.isoformat()}),
        ("aftercare", {"start": aftercare_day.isoformat()}),
    ]
    assert [h for _, h in made_from(episode)] == [stored["TrajectoryOpened"][0],
                                                 stored["AftercareStarted"][0]]
    # the plans: the first replaced by the second, on its corrected day, with its goals
    first, second = of_type(named, "CarePlan")
    assert first["status"] == "revoked"
    assert second["status"] == "active"
    assert first["period"] == {"start": (intake_day + timedelta(days=1)).isoformat(),
                               "end": second_plan_day.isoformat()}
    assert first_plan_day != intake_day + timedelta(days=1)
    assert second["replaces"] == [{"reference": f"urn:uuid:{first['id']}"}]
    assert [urls[g["reference"]]["description"]["text"] for g in first["goal"]] == [
        "Veiligheid", "Traumaverwerking"]
    assert [urls[g["reference"]]["lifecycleStatus"] for g in second["goal"]] == ["active"]
    assert made_from(first) == [("source", stored["TreatmentPlanSet"][0]),
                                ("revision", stored["EntryCorrected"][0])]
    # the therapy: a completed course of EMDR and its two sessions, with their notes
    course, *sessions = of_type(named, "Procedure")
    assert course["status"] == "completed"
    assert course["code"]["coding"][0]["code"] == "emdr"
    assert course["performedPeriod"]["start"] == therapy_day.isoformat()
    assert [h for _, h in made_from(course)] == [stored["TraumaTherapyStarted"][0],
                                                stored["TraumaTherapyCompleted"][0]]
    assert len(sessions) == 2
    for session, held in zip(sessions, stored["TraumaTherapySessionHeld"], strict=True):
        assert session["partOf"] == [{"reference": f"urn:uuid:{course['id']}"}]
        assert session["note"] == [{"text": "gesprek over Kevin"}]
        assert made_from(session) == [("source", held)]
    # without a purpose the notes are left out
    assert "gesprek over Kevin" not in str(plain)
    assert "tante Els" not in str(plain)
    # the follow-up: a panel with the instrument's total and subscales as quantities;
    # the record marked in error is not there
    panel, sdq = of_type(named, "Observation")
    assert panel["code"]["coding"][0]["code"] == "follow-up:0"
    assert panel["hasMember"] == [{"reference": f"urn:uuid:{sdq['id']}"}]
    assert sdq["valueQuantity"]["value"] == 14
    assert {c["code"]["text"]: c["valueQuantity"]["value"] for c in sdq["component"]} == {
        "emotional": 5, "conduct": 2.5}
    assert made_from(sdq) == [("source", stored["FollowUpMeasured"][0])]
    assert stored["FollowUpNotPossible"][0] not in str(named)
    check_provenance(named, list(app.stream(UUID(tid))))


# -- who may read it ---------------------------------------------------------------------------


@pytest.fixture
def api_world(app: TrajectoryApplication) -> Iterator[World]:
    with live_server(app) as live:
        yield make_api_world(live)


def test_her_record_is_refused_as_her_file_is_and_each_read_is_logged(
    api_world: World, app: TrajectoryApplication
) -> None:
    world = api_world
    path = f"/trajectories/{world.trajectory}/fhir"
    # given another organisation's coordinator: her record does not exist for her
    with world.client("coordinator-other-org") as other:
        theirs = other.get(path)
        unknown = other.get("/trajectories/7f1c2a9e-0000-4000-8000-000000000001/fhir")
    assert theirs.status_code == unknown.status_code == 404
    assert_reveals_nothing(theirs, GIRL, REGION)
    # the roles that see no record are refused as for her file
    for who in ("researcher", "admin", "quality", "inspector"):
        with world.client(who) as http:
            assert http.get(path).status_code == 403, who
    # a purpose we do not know is a 422 naming it
    with world.client("coordinator") as mine:
        assert "purpose" in str(assert_problem(mine.get(path, params={"purpose": "x"}), 422))
        # her coordinator reads it, pseudonymous and for her treatment
        assert GIRL not in str(parsed(mine.get(path)))
        assert GIRL in str(parsed(mine.get(path, params={"purpose": "treatment"})))
    # and every read, and the refusals, are in her access log
    log = app.db.fetchall(
        "SELECT user_id, action, outcome FROM access_log WHERE trajectory_id = ?",
        [str(world.trajectory)])
    assert {("coordinator", "read", "ok"), ("coordinator-other-org", "read", "denied"),
            ("researcher", "read", "denied")} <= {
        (r["user_id"], r["action"], r["outcome"]) for r in log}
    assert sum(r["user_id"] == "coordinator" and r["outcome"] == "ok" for r in log) == 2


# -- the access log as AuditEvents ------------------------------------------------------------


def test_the_access_log_answers_as_fhir_audit_events_for_a_period(
    api_world: World, clock: FakeClock
) -> None:
    world = api_world
    tid = str(world.trajectory)
    # given her coordinator recorded a fact and read her file, then two days later another
    # organisation's coordinator tried to
    first_day = clock().date()
    with world.client("coordinator") as mine:
        assert mine.put(f"/trajectories/{tid}/permissions/internet",
                        json={"level": "supervised", "reason": "school"}).status_code == 201
        assert mine.get(f"/trajectories/{tid}").status_code == 200
    clock.advance(days=2)
    with world.client("coordinator-other-org") as other:
        assert other.get(f"/trajectories/{tid}").status_code == 404
    later = clock().date()
    with world.client("admin") as admin:
        # when the admin asks for her log as FHIR, and then as before
        everything = parsed(admin.get("/audit/access.fhir", params={"trajectory": tid}))
        plain = admin.get("/audit/access", params={"trajectory": tid})
        # and for the later day only
        one_day = parsed(admin.get("/audit/access.fhir", params={
            "trajectory": tid, "from": later.isoformat(), "to": later.isoformat()}))
        # and with a period that is none
        backwards = admin.get("/audit/access.fhir", params={
            "trajectory": tid, "from": later.isoformat(), "to": first_day.isoformat()})
        malformed = admin.get("/audit/access.fhir", params={"trajectory": tid, "from": "x"})
    # then there is one AuditEvent per entry, in order, the JSON answer as it was
    assert plain.status_code == 200
    entries = plain.json()
    assert {"entry_id", "action", "outcome"} <= set(entries[0])
    events = [e["resource"] for e in everything["entry"]]
    assert everything["type"] == "searchset"
    assert len(events) == everything["total"] == len(entries) - 1  # the JSON read logs itself
    assert [e["recorded"][:19] for e in events] == [e["at"][:19] for e in entries[:-1]]
    # the write: who, with which role, created what, with success
    write = next(e for e in events if e["action"] == "C")
    assert write["type"]["code"] == "rest"
    assert write["subtype"][0] == {"system": "http://hl7.org/fhir/restful-interaction",
                                   "code": "create"}
    assert write["outcome"] == "0"
    assert write["agent"][0]["who"]["identifier"]["value"] == "coordinator"
    assert write["agent"][0]["role"][0]["coding"][0]["code"] == "coordinator"
    assert write["entity"][0]["what"]["identifier"]["value"] == tid
    # the refused look of the other organisation: a read that failed
    denied = [e for e in events
              if e["agent"][0].get("who", {}).get("identifier", {}).get("value")
              == "coordinator-other-org"]
    assert [(e["action"], e["outcome"], e["outcomeDesc"]) for e in denied] == [
        ("R", "4", "denied")]
    # the period holds the later day only: the refused look and the admin's own reads
    days = {e["resource"]["recorded"][:10] for e in one_day["entry"]}
    assert days == {later.isoformat()}
    assert {e["resource"]["outcomeDesc"] for e in one_day["entry"]} == {"ok", "denied"}
    assert assert_problem(backwards, 422)
    assert "from" in str(assert_problem(malformed, 422))


def test_the_access_log_in_fhir_is_for_her_organisations_log_readers_only(
    api_world: World,
) -> None:
    world = api_world
    params = {"trajectory": str(world.trajectory)}
    with world.client("admin-other-org") as theirs:
        refused = theirs.get("/audit/access.fhir", params=params)
    assert refused.status_code == 404
    assert_reveals_nothing(refused, GIRL, REGION)
    for who in ("coordinator", "aftercare", "researcher", "quality"):
        with world.client(who) as http:
            assert http.get("/audit/access.fhir", params=params).status_code == 403, who
