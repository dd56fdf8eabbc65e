"""Approved research projects: an export is made only inside an approved, unexpired
project the researcher is bound to, and holds only its scope; every step is on record.

On both stores (the `app` fixture runs on SQLite and on PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.project_support import approved_project, privacy_officer
from tests.step_up_support import enrol, stepped_up
from tests.web_support import Page, World, csrf_of
from trajectory.application import Actor, TrajectoryApplication
from trajectory.demo import ORGANISATIONS, run_demo
from trajectory.research import verify_export
from trajectory.research.approvals import (
    ProjectInvalid,
    ProjectRefused,
    check_export,
    decide,
    find_project,
    propose,
)
from trajectory.research.approved_export import export_approved
from trajectory.research.projects import Pseudonyms, project_secret

RESEARCHER = Actor(user_id="researcher-1", role="researcher", organisation="uni-demo")
NOORD, MIDDEN, ZUID = ORGANISATIONS


@pytest.fixture
def demo(app: TrajectoryApplication) -> TrajectoryApplication:
    run_demo(app, count=12, seed=3)
    return app


def _propose(app: TrajectoryApplication, name: str = "study", *,
             organisations: tuple[str, ...] = ORGANISATIONS,
             expires_on: date = date(2027, 1, 1)) -> None:
    propose(app.db, RESEARCHER, name=name, purpose="what works", ethics_reference="METC 1",
            files=None, variables=None, period_from=date(2000, 1, 1),
            period_to=date(2999, 1, 1), organisations=organisations, expires_on=expires_on,
            now=app.clock(), today=date(2026, 3, 2))


def _refusal(app: TrajectoryApplication, tmp_path: Path, project: str, **options: object
             ) -> str:
    with pytest.raises(ProjectRefused) as refused:
        export_approved(app, RESEARCHER, project, tmp_path / "out", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()
    return refused.value.code


def _log(app: TrajectoryApplication) -> list[tuple[str, str, str | None]]:
    return [(str(r["action"]), str(r["outcome"]), r["request_id"]) for r in app.db.fetchall(
        "SELECT action, outcome, request_id FROM access_log ORDER BY entry_id")]


def test_an_export_outside_an_approved_project_is_refused_with_its_rule(
    demo: TrajectoryApplication, tmp_path: Path, clock: FakeClock
) -> None:
    app = demo
    # an unknown project
    assert _refusal(app, tmp_path, "nobody-proposed-this") == "project-unknown"
    # a proposed project the researcher is not bound to
    _propose(app)
    assert _refusal(app, tmp_path, "study") == "researcher-not-bound"
    # bound, but only two of its three organisations approved it
    approved_project(app, "study", researcher=RESEARCHER.user_id, approve=False)
    decide(app.db, privacy_officer(NOORD), "study", now=app.clock())
    decide(app.db, privacy_officer(MIDDEN), "study", now=app.clock())
    assert _refusal(app, tmp_path, "study") == "project-not-approved"
    # an organisation outside its scope asked for
    decide(app.db, privacy_officer(ZUID), "study", now=app.clock())
    assert _refusal(app, tmp_path, "study", organisations=["elsewhere"]) == (
        "organisation-out-of-scope")
    # a later decline takes an approval back
    decide(app.db, privacy_officer(ZUID), "study", decision="declined", now=app.clock())
    assert _refusal(app, tmp_path, "study") == "project-not-approved"
    decide(app.db, privacy_officer(ZUID), "study", now=app.clock())
    # approved by all: exported
    export_approved(app, RESEARCHER, "study", tmp_path / "ok")
    # after its expiry day: refused
    clock.advance(days=(date(2027, 1, 2) - date(2026, 3, 2)).days)
    assert _refusal(app, tmp_path, "study") == "project-expired"
    # and every refusal is on record, with its rule
    refused = [(a, o, r) for a, o, r in _log(app) if a == "export" and o != "ok"]
    assert [r.rsplit(":", 1)[-1] for _, _, r in refused if r] == [
        "project-unknown", "researcher-not-bound", "project-not-approved",
        "organisation-out-of-scope", "project-not-approved", "project-expired"]


def test_only_the_organisations_and_period_in_scope_are_exported(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    app = demo
    # given a project of one organisation
    approved_project(app, "noord", researcher=RESEARCHER.user_id, organisations=[NOORD])
    # when it is exported
    manifest = export_approved(app, RESEARCHER, "noord", tmp_path / "out")
    # then only girls of that organisation are in it
    assert app.keys is not None
    secret, _ = project_secret(app.keys, app.db, "noord", app.clock(), create=False)
    by_org: dict[str, set[str]] = {}
    for row in app.db.fetchall("SELECT trajectory_id, organisation FROM trajectory_index"):
        by_org.setdefault(str(row["organisation"]), set()).add(
            Pseudonyms(secret).girl(UUID(str(row["trajectory_id"]))))
    with (tmp_path / "out" / "trajectories.csv").open(encoding="utf-8") as f:
        exported = {r["pseudonym"] for r in csv.DictReader(f)}
    assert exported, "the organisation's consenting girls are exported"
    assert exported <= by_org[NOORD]
    assert manifest.parameters.organisations == [NOORD]
    others = len(by_org[MIDDEN]) + len(by_org[ZUID])
    assert manifest.counts.left_out_out_of_scope == others
    # and the export verifies (the scope is in its parameters)
    assert verify_export(app, tmp_path / "out", actor=RESEARCHER).ok


def test_a_declared_period_leaves_out_girls_taken_in_outside_it(
    demo: TrajectoryApplication, tmp_path: Path
) -> None:
    app = demo
    intakes = sorted(date.fromisoformat(str(r["intake_date"])) for r in app.db.fetchall(
        "SELECT intake_date FROM trajectory_index"))
    cut = intakes[len(intakes) // 2]
    approved_project(app, "late", researcher=RESEARCHER.user_id, period=(cut, date(2999, 1, 1)))
    manifest = export_approved(app, RESEARCHER, "late", tmp_path / "out")
    assert manifest.parameters.intake_from == cut.isoformat()
    assert manifest.counts.left_out_out_of_scope == sum(1 for d in intakes if d < cut)


def test_the_manifest_names_the_approvals(demo: TrajectoryApplication, tmp_path: Path) -> None:
    app = demo
    approved_project(app, "study", researcher=RESEARCHER.user_id)
    export_approved(app, RESEARCHER, "study", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert manifest["ethics_reference"] == "METC 2026-001"
    assert [(a["organisation"], a["approved_by"]) for a in manifest["approvals"]] == [
        (o, f"privacy-{o}") for o in sorted(ORGANISATIONS)]
    assert all(a["approved_at"].startswith("2026-03-02") for a in manifest["approvals"])


def test_only_an_admin_of_an_organisation_in_scope_decides_and_binds(
    app: TrajectoryApplication,
) -> None:
    _propose(app, organisations=(NOORD,))
    with pytest.raises(ProjectRefused) as other:
        decide(app.db, privacy_officer(ZUID), "study", now=app.clock())
    assert other.value.code == "organisation-out-of-scope"
    with pytest.raises(ProjectRefused) as coordinator:
        decide(app.db, Actor(user_id="c", role="coordinator", organisation=NOORD), "study",
               now=app.clock())
    assert coordinator.value.code == "not-an-approver"
    with pytest.raises(ProjectRefused) as again:
        _propose(app)
    assert again.value.code == "project-exists"
    with pytest.raises(ProjectInvalid) as bad:
        _propose(app, "other", organisations=())
    assert bad.value.field == "organisations"
    project = find_project(app.db, "study")
    assert project is not None
    assert not project.approved


def test_project_records_are_append_only(app: TrajectoryApplication) -> None:
    approved_project(app, "study", researcher=RESEARCHER.user_id, organisations=[NOORD])
    for table in ("research_project_proposals", "research_project_decisions",
                  "research_project_members"):
        column = "name" if table == "research_project_proposals" else "project"
        with pytest.raises(Exception, match="append-only"), app.db.transaction() as tx:
            tx.execute(f"UPDATE {table} SET {column} = {column}")
        with pytest.raises(Exception, match="append-only"), app.db.transaction() as tx:
            tx.execute(f"DELETE FROM {table}")
    assert find_project(app.db, "study") is not None


def test_every_step_is_access_logged(demo: TrajectoryApplication, tmp_path: Path) -> None:
    app = demo
    before = len(_log(app))
    approved_project(app, "study", researcher=RESEARCHER.user_id, organisations=[NOORD])
    export_approved(app, RESEARCHER, "study", tmp_path / "out")
    steps = _log(app)[before:]
    assert [(a, o) for a, o, _ in steps] == [
        ("write", "proposed"), ("write", "ok"), ("write", "ok"), ("export", "ok")]
    assert steps[1][2] == f"research-project:study:approved:{NOORD}"
    assert steps[2][2] == "research-project:study:bound:researcher-1"


def test_the_rule_needs_no_binding_of_the_servers_own_operator(
    app: TrajectoryApplication,
) -> None:
    approved_project(app, "study", researcher=RESEARCHER.user_id, organisations=[NOORD])
    operator = Actor(user_id="cli:root", role="admin", organisation="")
    assert check_export(app.db, operator, "study", date(2026, 3, 2)).project.name == "study"
    other = Actor(user_id="researcher-2", role="researcher", organisation="uni-demo")
    with pytest.raises(ProjectRefused, match="not bound"):
        check_export(app.db, other, "study", date(2026, 3, 2))


# -- over HTTP ----------------------------------------------------------------------------------


@pytest.fixture
def live(demo: TrajectoryApplication) -> Iterator[Live]:
    with live_server(demo) as server:
        yield server


def test_projects_over_http_from_proposal_to_export(
    live: Live, demo: TrajectoryApplication, clock: FakeClock
) -> None:
    rosa_token = live.token("rosa", "researcher", "uni-demo")
    with live.client(rosa_token) as rosa:
        researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
    noord = live.client(live.token("anna", "admin", NOORD))
    zuid = live.client(live.token("zoe", "admin", ZUID))
    rosa = live.client(rosa_token)
    body = {"name": "study", "purpose": "what works", "ethics_reference": "METC 2026-7",
            "period_from": "2000-01-01", "period_to": "2999-01-01",
            "organisations": [NOORD], "expires_on": "2027-01-01",
            "files": ["trajectories", "events"]}
    with researcher, noord, zuid, rosa:
        # the researcher proposes (her ordinary token suffices: a proposal decides nothing)
        made = rosa.post("/research/projects", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["approved"] is False
        # a field that does not fit is named
        wrong = rosa.post("/research/projects", json={**body, "name": "other",
                                                       "expires_on": "2020-01-01"})
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "expires_on"
        again = rosa.post("/research/projects", json=body)
        assert again.status_code == 409
        assert again.json()["rule"] == "project-exists"
        # not approved, not bound: refused, naming the rule
        refused = researcher.post("/research/exports", json={"project": "study"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["rule"] == "researcher-not-bound"
        unknown = researcher.post("/research/exports", json={"project": "nope"})
        assert unknown.status_code == 404
        # an admin of another organisation may neither approve nor bind
        assert zuid.post("/research/projects/study/approvals", json={}).status_code == 403
        assert zuid.post("/research/projects/study/members",
                         json={"researcher": "rosa"}).status_code == 403
        # the admin of the organisation binds her, then approves
        bound = noord.post("/research/projects/study/members", json={"researcher": "rosa"})
        assert bound.status_code == 201, bound.text
        assert noord.post("/research/projects/study/members",
                          json={"researcher": "anna"}).status_code == 422
        not_yet = researcher.post("/research/exports", json={"project": "study"})
        assert not_yet.status_code == 409
        assert not_yet.json()["rule"] == "project-not-approved"
        approved = noord.post("/research/projects/study/approvals", json={})
        assert approved.status_code == 201
        assert approved.json()["approved"] is True
        # anyone of the research roles reads it
        one = rosa.get("/research/projects/study")
        assert one.status_code == 200
        assert one.json()["decisions"][0]["organisation"] == NOORD
        assert [p["name"] for p in noord.get("/research/projects").json()] == ["study"]
        assert rosa.get("/research/projects/nope").status_code == 404
        # outside its scope: refused; inside: exported, only the declared files
        outside = researcher.post("/research/exports", json={
            "project": "study", "organisations": [ZUID]})
        assert outside.status_code == 403
        assert outside.json()["rule"] == "organisation-out-of-scope"
        done = researcher.post("/research/exports", json={"project": "study"})
        assert done.status_code == 200, done.text
    archive = zipfile.ZipFile(io.BytesIO(done.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["approvals"][0]["organisation"] == NOORD
    assert manifest["parameters"]["organisations"] == [NOORD]
    assert "sequences.csv" not in archive.namelist()
    # and each step left its entry
    entries = demo.db.fetchall("SELECT action, outcome, request_id FROM access_log"
                               " WHERE request_id LIKE 'research-project:%'")
    outcomes = {(e["action"], e["outcome"]) for e in entries}
    assert {("write", "proposed"), ("write", "ok"), ("read", "ok"), ("export", "denied"),
            ("export", "refused"), ("write", "denied")} <= outcomes


def test_an_expired_project_is_refused_over_http(
    live: Live, demo: TrajectoryApplication, clock: FakeClock
) -> None:
    token = live.token("rosa", "researcher", "uni-demo")
    approved_project(demo, "study", researcher="rosa",
                     expires_on=date(2026, 3, 2) + timedelta(days=1))
    clock.advance(days=2)
    with live.client(token) as rosa:
        researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
    with researcher:
        late = researcher.post("/research/exports", json={"project": "study"})
    assert late.status_code == 409
    assert late.json()["rule"] == "project-expired"


def test_the_demo_researcher_exports_the_approved_demo_study(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # given the demo as `serve --demo` prepares it (its users, then its project)
    from trajectory.api.server import _prepare_demo
    from trajectory.composition.http import build_services

    run_demo(app, count=6, seed=3)
    _prepare_demo(app, build_services(app))
    _prepare_demo(app, build_services(app))  # a second start adds nothing
    project = find_project(app.db, "demo-study")
    assert project is not None
    assert project.approved
    assert project.bound("demo-researcher")
    assert len(project.decisions) == len(ORGANISATIONS)
    assert len(project.members) == 1
    # when the demo researcher exports it, then it is exported under its approvals
    demo_researcher = Actor(user_id="demo-researcher", role="researcher",
                            organisation="demo-research")
    manifest = export_approved(app, demo_researcher, "demo-study", tmp_path / "out")
    assert len(manifest.approvals) == len(ORGANISATIONS)


# -- the pages ----------------------------------------------------------------------------------


def test_on_the_pages_a_project_is_proposed_approved_bound_and_exported(world: World) -> None:
    """Given two girls with research consent; when the researcher proposes a project on
    its page, the admin of its organisation approves it and binds her; then she exports
    it, and before that the export form says in Dutch why it cannot."""
    from tests.web_support import ORG_A

    world.give_research_consent(world.girl)
    world.give_research_consent(world.handed_over)
    proposal = {"name": "pagina", "purpose": "wat werkt", "ethics_reference": "METC 2026-9",
                "organisations": ORG_A, "period_from": "2000-01-01",
                "period_to": "2099-12-31", "expires_on": "2027-01-01"}
    with world.browser("researcher") as r:
        # a field that does not fit is said at the field, in Dutch
        wrong = r.submit("/app/research/projects", {**proposal, "expires_on": "2020-01-01"},
                         follow_redirects=False)
        assert wrong.status_code == 422
        assert "De vervaldatum mag niet in het verleden liggen." in Page.of(
            wrong.text).all_text()
        made = r.submit("/app/research/projects", proposal, follow_redirects=False)
        assert made.status_code == 303, made.text
        # sent twice (a reload): recorded once
        again = r.submit("/app/research/projects", proposal, follow_redirects=False)
        assert again.status_code == 303
        shown = r.get("/app/research/projects/pagina")
        assert "Wacht op goedkeuring." in Page.of(shown.text).all_text()
        refused = r.export("pagina")
        assert refused.status_code == 403
        assert "Uw account is niet aan dit project verbonden." in Page.of(
            refused.text).all_text()
    with world.browser("admin") as a:
        page = a.get("/app/research/projects/pagina")
        seen = {"decision": "approved", "seen": "0"}
        assert a.post("/app/research/projects/pagina/approvals",
                      {"csrf_token": csrf_of(page.text), **seen},
                      follow_redirects=False).status_code == 303
        # a double click on the same form records nothing new
        assert a.post("/app/research/projects/pagina/approvals",
                      {"csrf_token": csrf_of(page.text), **seen},
                      follow_redirects=False).status_code == 303
        bound = a.post("/app/research/projects/pagina/members",
                       {"csrf_token": csrf_of(page.text), "researcher": "researcher"},
                       follow_redirects=False)
        assert bound.status_code == 303, bound.text
        nobody = a.post("/app/research/projects/pagina/members",
                        {"csrf_token": csrf_of(page.text), "researcher": "niemand"})
        assert nobody.status_code == 422
        assert "Er is geen onderzoeker met deze gebruikersnaam." in Page.of(
            nobody.text).all_text()
    with world.browser("admin-b") as other:  # an admin outside the scope decides nothing
        page = other.get("/app/research/projects/pagina")
        assert "Besluit vastleggen" not in page.text
        denied = other.post("/app/research/projects/pagina/approvals",
                            {"csrf_token": csrf_of(page.text), "decision": "approved"})
        assert denied.status_code == 403
    project = find_project(world.app.db, "pagina")
    assert project is not None
    assert project.approved
    assert len(project.decisions) == 1
    with world.browser("researcher") as r:
        done = r.export("pagina")
        assert done.status_code == 303, done.text
        manifest = r.get(done.headers["location"].partition("?")[0]
                         + "/files/manifest.json").json()
    assert [a["organisation"] for a in manifest["approvals"]] == [ORG_A]


def test_an_export_cannot_ask_for_other_data_than_the_project_was_approved_for(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    from trajectory.research.projects import DeclarationError, declaration_of

    # given a project approved for the trajectories file only, never exported yet
    approved_project(app, "small", researcher=RESEARCHER.user_id, organisations=[NOORD],
                     files=["trajectories"])
    # when its first export asks for the events file too, then it is refused
    with pytest.raises(DeclarationError) as refused:
        export_approved(app, RESEARCHER, "small", tmp_path / "out",
                        files=["trajectories", "events"])
    assert refused.value.field == "files"
    # and the first export did not fix another declaration than the approved one
    assert declaration_of(app.db, "small") is None
    export_approved(app, RESEARCHER, "small", tmp_path / "ok")
    assert sorted(p.name for p in (tmp_path / "ok").iterdir() if p.suffix == ".csv") == [
        "trajectories.csv"]
