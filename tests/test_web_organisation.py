"""The quality officer's and the inspector's pages: she records her organisation's duties
with forms and reads them back in Dutch, an overdue improvement action on top; the
inspector compares every organisation without a girl in sight, and reaches no girl's
page."""

from __future__ import annotations

from datetime import date

from tests.web_support import GIRL, ORG_A, ORG_B, OTHER_GIRL, World, csrf_of
from trajectory.organisation import commands as oc
from trajectory.organisation.writing import OrganisationWrites


def test_the_quality_officer_records_a_training_with_the_form_and_sees_it_in_dutch(
    world: World,
) -> None:
    with world.browser("quality") as b:
        home = b.get("/app/")
        assert home.url.path == "/app/organisation", home.url
        assert "Taken van de organisatie" in home.text
        assert "Niemand volgde de basistraining loverboyproblematiek" in home.text
        answer = b.submit("/app/organisation/forms/trainings", {
            "staff_name": "Anja de Vries", "training": "basic", "occurred_on": "2026-02-10",
        }, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        listed = b.get("/app/organisation")
    assert "Anja de Vries" in listed.text
    assert "basistraining loverboyproblematiek" in listed.text
    assert "Niemand volgde de basistraining" not in listed.text
    # a write through the one write path: in the access log, by her role
    rows = world.app.db.fetchall(
        "SELECT action, outcome FROM access_log WHERE role = 'quality' ORDER BY entry_id")
    assert {"action": "write", "outcome": "ok"} in rows


def test_a_form_that_does_not_fit_says_so_at_the_field(world: World) -> None:
    with world.browser("quality") as b:
        answer = b.submit("/app/organisation/forms/reflection-sessions", {
            "kind": "intervisie", "participants": "", "occurred_on": "2026-02-10"})
        future = b.submit("/app/organisation/forms/trainings", {
            "staff_name": "Anja", "training": "basic", "occurred_on": "2026-12-10"})
    assert answer.status_code == 422
    assert "Dit veld is verplicht" in answer.text or "past niet" in answer.text
    assert future.status_code == 409


def test_an_overdue_improvement_action_is_on_top_of_her_list(world: World) -> None:
    OrganisationWrites(world.app).record(world.actor("quality"), oc.RecordSignalAnalysis(
        signal_kinds=["runaway"], period_from="2025-12", period_to="2026-01",
        analysis="weekend leave", action="Twee begeleiders op zaterdagavond",
        owner="Anja de Vries", due_on=date(2026, 2, 20), occurred_on="2026-02-01"))
    with world.browser("quality") as b:
        page = b.get("/app/organisation")
    assert "Te laat" in page.text
    assert "Twee begeleiders op zaterdagavond" in page.text


def test_the_inspector_compares_every_organisation_and_reaches_no_girl(world: World) -> None:
    with world.browser("inspector") as b:
        home = b.get("/app/")
        assert home.url.path == "/app/inspection", home.url
        text = home.text
        refused = [b.get(path).status_code for path in (
            "/app/caseload", f"/app/trajectories/{world.girl}", "/app/quality",
            "/app/organisation", f"/app/handovers/{world.handed_over}")]
    assert "Organisaties vergeleken" in text
    assert ORG_A in text
    assert ORG_B in text
    assert "&lt;5" in text
    for secret in (GIRL, OTHER_GIRL, str(world.girl)):
        assert secret not in text
    assert refused == [403] * len(refused)
    rows = world.app.db.fetchall(
        "SELECT action, outcome FROM access_log WHERE role = 'inspector' ORDER BY entry_id")
    assert {"action": "search", "outcome": "ok"} in rows


def test_she_marks_an_improvement_action_carried_out_from_the_list(world: World) -> None:
    OrganisationWrites(world.app).record(world.actor("quality"), oc.RecordSignalAnalysis(
        signal_kinds=["loverboy"], period_from="2026-01", period_to="2026-01",
        analysis="late signals", action="Overleg met school", owner="Anja de Vries",
        due_on=date(2026, 4, 1), occurred_on="2026-02-01"))
    with world.browser("quality") as b:
        form = b.get("/app/organisation/forms/completed-actions")
        assert "Overleg met school" in form.text  # chosen by what it is, not a number
        answer = b.post(
            "/app/organisation/forms/completed-actions",
            {"csrf_token": csrf_of(b.get("/app/organisation").text), "analysis": "2",
             "occurred_on": "2026-03-01", "idempotency_key": "done-2"},
            follow_redirects=False)
        assert answer.status_code == 303, answer.text
        page = b.get("/app/organisation")
    assert "Er staan geen verbeteracties open." in page.text


def test_the_quality_officer_reads_her_matrix_but_never_a_girl(world: World) -> None:
    with world.browser("quality") as b:
        matrix = b.get("/app/quality")
        refused = [b.get(path).status_code for path in (
            "/app/caseload", f"/app/trajectories/{world.girl}", "/app/out-of-view",
            "/app/inspection", f"/app/trajectories/{world.girl}/forms/safety-analysis")]
    assert matrix.status_code == 200
    assert "Kernelementen van de organisatie" in matrix.text
    for secret in (GIRL, OTHER_GIRL, str(world.girl)):
        assert secret not in matrix.text
    assert refused == [403] * len(refused)
