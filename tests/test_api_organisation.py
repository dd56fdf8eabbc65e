"""The organisation's duties and the inspector's comparison over real HTTP, on SQLite and
PostgreSQL: the quality officer records her organisation's duties and reads elements 1
and 9 and the overdue improvement actions; the inspector reads every organisation's
figures, small cells suppressed, never a girl; both get 403 on every trajectory route;
every read is in the access log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from tests.api_support import GIRL, ORG_A, ORG_B, REGION, World, make_world
from tests.builders import intake
from tests.live import live_server
from trajectory.aggregates.events.intake import Identity
from trajectory.api.app import create_app
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import RecordSignal

OTHER_GIRL = "Lotte Onzichtbaar"


@pytest.fixture
def world(app: TrajectoryApplication) -> Iterator[World]:
    with live_server(app) as live:
        world = make_world(live)
        # Org B takes in five more girls: its count of girls is no small cell.
        other = Actor(user_id="coordinator-other-org", role="coordinator", organisation=ORG_B)
        for n in range(5):
            identity = Identity(name=f"{OTHER_GIRL} {n}", date_of_birth=date(2010, 1, 1),
                                home_region=REGION)
            tid = app.open_trajectory(intake(identity=identity), other).trajectory_id
            app.execute(tid, RecordSignal(kind="loverboy", note="seen with an older man",
                                          occurred_on="2026-02-01"), other)
        yield world


def _record(world: World, who: str, path: str, body: dict[str, Any],
            **headers: str) -> Any:
    with world.client(who) as http:
        return http.post(f"/organisation/facts/{path}", json=body, headers=headers)


def test_the_quality_officer_records_duties_and_reads_elements_1_and_9(world: World) -> None:
    # When she records what her organisation did for its professionals and its climate
    duties_recorded: list[tuple[str, dict[str, Any]]] = [
        ("trainings", {"staff_name": "Anja de Vries", "training": "basic",
                       "occurred_on": "2025-09-10"}),
        ("trainings", {"staff_name": "Bram Jansen", "training": "deepening",
                       "occurred_on": "2025-10-01"}),
        ("aandachtsfunctionarissen", {"staff_name": "Bram Jansen",
                                      "occurred_on": "2024-01-15"}),
        ("reflection-sessions", {"kind": "case_reflection", "participants": 5,
                                 "occurred_on": "2026-02-20"}),
        ("climate-assessments", {"instrument": "GLIS", "score": "3.8",
                                 "conclusion": "safe", "occurred_on": "2025-12-01"}),
    ]
    for path, body in duties_recorded:
        response = _record(world, "quality", path, body)
        assert response.status_code == 201, response.text
    # Then her organisation's duties show elements 1 and 9 evidenced
    with world.client("quality") as http:
        response = http.get("/organisation/facts")
    assert response.status_code == 200, response.text
    duties = response.json()
    assert duties["organisation"] == ORG_A
    assert response.headers["etag"] == f'"{duties["version"]}"' == '"6"'
    assert [(e["element"], e["status"]) for e in duties["elements"]] == [
        (1, "evidenced"), (9, "evidenced")]
    assert [t["staff_name"] for t in duties["trainings"]] == ["Anja de Vries", "Bram Jansen"]
    # and on a day before the reflection session, element 1 was missing its reflection
    with world.client("quality") as http:
        before = http.get("/organisation/facts", params={"as_of": "2026-02-19"}).json()
    assert before["elements"][0]["missing"] == ["reflection"]


def test_an_overdue_improvement_action_is_on_the_quality_list(world: World) -> None:
    # Given a signal analysis whose action was due on 1 March (today is 2 March)
    response = _record(world, "quality", "signal-analyses", {
        "signal_kinds": ["loverboy"], "period_from": "2025-11", "period_to": "2026-01",
        "analysis": "signals come late from school", "action": "meet the school's care team",
        "owner": "Anja de Vries", "due_on": "2026-03-01", "occurred_on": "2026-02-02",
    }, **{"Idempotency-Key": "analysis-1"})
    assert response.status_code == 201, response.text
    position = response.json()["positions"][-1]
    # Then it is on the quality list, overdue
    with world.client("quality") as http:
        duties = http.get("/organisation/facts").json()
    assert duties["attention"] == [{"code": "improvement-action", "analysis": position,
                                    "due_on": "2026-03-01", "overdue": True}]
    # A retry with the same key records nothing new; a stale If-Match records nothing
    again = _record(world, "quality", "signal-analyses", {
        "signal_kinds": ["loverboy"], "period_from": "2025-11", "period_to": "2026-01",
        "analysis": "signals come late from school", "action": "meet the school's care team",
        "owner": "Anja de Vries", "due_on": "2026-03-01", "occurred_on": "2026-02-02",
    }, **{"Idempotency-Key": "analysis-1"})
    assert again.status_code == 201
    assert again.json() == response.json()
    stale = _record(world, "quality", "completed-actions", {"analysis": position},
                    **{"If-Match": '"1"'})
    assert stale.status_code == 412
    # When it is carried out (by the organisation's admin), it leaves the list
    done = _record(world, "admin", "completed-actions", {"analysis": position},
                   **{"If-Match": response.headers["etag"]})
    assert done.status_code == 201, done.text
    with world.client("quality") as http:
        assert http.get("/organisation/facts").json()["attention"] == []


def test_bad_input_and_refusals_are_problems_naming_the_field_or_rule(world: World) -> None:
    bad_month = _record(world, "quality", "signal-analyses", {
        "signal_kinds": ["loverboy"], "period_from": "2025-13", "period_to": "2026-01",
        "analysis": "a", "action": "b", "owner": "c", "due_on": "2026-04-01"})
    assert bad_month.status_code == 422
    assert "period_from" in bad_month.text
    unknown = _record(world, "quality", "completed-actions", {"analysis": 7})
    assert unknown.status_code == 409
    assert unknown.json()["rule"] == "analysis-unknown"
    future = _record(world, "quality", "trainings", {
        "staff_name": "A", "training": "basic", "occurred_on": "2026-12-01"})
    assert future.status_code == 409
    assert future.json()["rule"] == "occurred-in-future"
    for who in ("coordinator", "inspector", "researcher"):
        refused = _record(world, who, "trainings", {"staff_name": "A", "training": "basic"})
        assert refused.status_code == 403, (who, refused.text)


def test_the_quality_officer_reads_her_matrix_and_signals_without_names(world: World) -> None:
    with world.client("quality") as http:
        matrix = http.get("/quality/core-elements")
        signals = http.get("/quality/signals", params={"from": "2026-01", "to": "2026-03"})
        other = http.get("/quality/core-elements", params={"org": ORG_B})
    assert matrix.status_code == 200
    assert signals.status_code == 200
    assert "trajectories" not in matrix.json()  # totals only: no girl, no id
    assert [(e["element"], e["status"]) for e in matrix.json()["organisation_elements"]] == [
        (1, "missing"), (9, "missing")]
    assert GIRL not in matrix.text
    assert str(world.trajectory) not in matrix.text
    assert other.status_code == 404  # only her own organisation


def test_the_inspector_sees_every_organisation_aggregated_and_no_girl(
    world: World, app: TrajectoryApplication
) -> None:
    _record(world, "quality", "climate-assessments",
            {"instrument": "GLIS", "score": "3.8", "occurred_on": "2026-01-10"})
    with world.client("inspector") as http:
        response = http.get("/inspection/organisations",
                            params={"from": "2026-01", "to": "2026-03"})
    assert response.status_code == 200, response.text
    body = response.json()
    figures = {o["organisation"]: o for o in body["organisations"]}
    # Every organisation of the installation, side by side
    assert {ORG_A, ORG_B} <= set(figures)
    a, b = figures[ORG_A], figures[ORG_B]
    # Org A has one girl: a small cell; org B six: shown
    assert a["girls"] == "<5"
    assert b["girls"] == 6
    assert b["signals"]["loverboy"] == 5
    assert a["signals"]["loverboy"] == "<5"
    assert {e["element"] for e in b["elements"]} == set(range(1, 16))
    for row in b["elements"]:
        shown = [row[s] for s in ("evidenced", "waived", "due", "missing", "not_applicable")]
        # never exactly one suppressed cell in a row with a published total
        assert sum(1 for v in shown if v == "<5") != 1, row
    assert [(e["element"], e["status"]) for e in a["organisation_elements"]] == [
        (1, "missing"), (9, "evidenced")]
    assert body["small_cell"] == 5
    # No girl: no name, no region, no trajectory id
    for secret in (GIRL, OTHER_GIRL, REGION, str(world.trajectory),
                   str(world.other_trajectory), "Anja"):
        assert secret not in response.text
    # and the read is in the access log, by the inspector
    rows = app.db.fetchall(
        "SELECT action, outcome, trajectory_id FROM access_log WHERE role = 'inspector'"
        " ORDER BY entry_id")
    assert rows[-1] == {"action": "search", "outcome": "ok", "trajectory_id": None}


def test_quality_officers_and_inspectors_get_403_on_every_trajectory_route(
    world: World, app: TrajectoryApplication
) -> None:
    from trajectory.composition.http import build_services

    routes = [
        (method, route.path)
        for route in create_app(build_services(app)).routes
        if isinstance(route, HTTPRoute) and route.path.startswith("/trajectories")
        for method in sorted(route.methods - {"OPTIONS", "HEAD"})
    ]
    assert len(routes) > 40
    wrong = []
    for who in ("quality", "inspector"):
        with world.client(who) as http:
            for method, path in routes:
                url = (path.replace("{trajectory_id:str}", str(world.trajectory))
                       .replace("{contact_id:str}", world.contact_id)
                       .replace("{kind:str}", "internet").replace("{position:int}", "1"))
                response = http.request(method, url, json={})
                if response.status_code != 403 or GIRL in response.text:
                    wrong.append(f"{who} {method} {path}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
    # each refusal is in the access log as denied
    denied = app.db.fetchone(
        "SELECT COUNT(*) AS n FROM access_log WHERE role = 'inspector' AND outcome = 'denied'")
    assert denied is not None
    assert int(denied["n"]) == len(routes)
