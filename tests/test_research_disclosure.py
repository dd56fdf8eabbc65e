"""Disclosure control told as a reviewer meets it: an as-of export stays verifiable after
later intakes, k can never be set below 5, the manifest says per column what was
generalised and suppressed, and a failing export says so. Every test runs on SQLite and
on PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
import structlog

from tests.builders import open_trajectory, phase_2_facts, record_all
from tests.conftest import MASTER_KEY, FakeClock
from tests.live import live_server
from tests.project_support import approved_project
from tests.step_up_support import enrol, stepped_up
from tests.test_research_export import RESEARCHER, consent, export, read_csv
from tests.web_support import PASSWORD, Page, World, csrf_of
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.demo import run_demo
from trajectory.research import ExportError, verify_export

pytest_plugins = ["tests.research_support"]  # the 300-girl demo store


@pytest.fixture
def four(app: TrajectoryApplication) -> list[UUID]:
    ids = [open_trajectory(app) for _ in range(4)]
    record_all(app, ids[0], phase_2_facts())
    for trajectory_id in ids:
        consent(app, trajectory_id)
    return ids


def test_an_as_of_export_still_verifies_after_a_new_intake(
    app: TrajectoryApplication, four: list[UUID], tmp_path: Path, clock: FakeClock
) -> None:
    # Given an export of the log as it was known now
    as_of = clock() + timedelta(seconds=1)  # (facts of one moment: microseconds apart)
    clock.advance(minutes=5)
    manifest = export(app, tmp_path / "then", as_of=as_of, max_suppressed_percent=100)
    assert manifest.counts.trajectories_recorded_by_as_of == 4
    # When a new girl is taken in (and consents) afterwards
    consent(app, open_trajectory(app))
    # Then the export still verifies, and the new girl is a note, not a difference
    check = verify_export(app, tmp_path / "then", actor=RESEARCHER)
    assert check.ok, check.differences
    assert "1 trajectory recorded after the as-of time (not part of this export)" in check.notes


def test_an_export_without_as_of_names_a_new_intake_as_a_difference(
    app: TrajectoryApplication, four: list[UUID], tmp_path: Path
) -> None:
    export(app, tmp_path / "then", max_suppressed_percent=100)
    consent(app, open_trajectory(app))
    check = verify_export(app, tmp_path / "then", actor=RESEARCHER)
    assert not check.ok


@pytest.mark.parametrize("k", [1, 2, 4])
def test_k_below_5_is_refused_naming_the_field(
    app: TrajectoryApplication, four: list[UUID], tmp_path: Path, k: int
) -> None:
    with pytest.raises(ExportError, match=r"^k: k must be at least 5"):
        export(app, tmp_path / "x", k=k)
    assert not (tmp_path / "x").exists()


# -- the 300-girl demo store ---------------------------------------------------------------------


def test_on_the_300_girl_demo_at_k_5_at_most_10_percent_of_cells_are_suppressed(
    demo_300: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given the 300-girl demo store, when it is exported at k=5
    manifest = export(demo_300, tmp_path / "export", k=5)
    check = manifest.small_cell_check
    rows = read_csv(tmp_path / "export" / "trajectories.csv")
    # Then at most 10% of the quasi-identifier cells are suppressed, and the check passed
    qi = ("organisation", "age_band", "intake_period", "risk_profiles")
    empty = sum(1 for r in rows for c in qi if r[c] == "" and not (
        c == "risk_profiles" and r["qi_suppressed"] == "0"))
    assert len(rows) > 200
    assert check.cells == len(rows) * len(qi)
    assert empty == check.cells_suppressed <= check.cells // 10
    assert check.passed
    assert check.failures == []
    # and every published combination is shared by at least 5 girls (a girl with every
    # value withheld shows no combination: she matches every girl)
    groups = Counter(tuple(r[c] for c in qi) for r in rows)
    groups.pop(("",) * len(qi), None)
    assert min(groups.values()) >= 5
    # and the manifest says per column what was generalised and what suppressed
    assert [c.column for c in check.columns] == list(qi)
    assert sum(c.cells_suppressed for c in check.columns) == check.cells_suppressed
    assert all(c.cells_generalised + c.cells_suppressed <= len(rows) for c in check.columns)
    # and nothing gives back who consented (her age)
    header = read_csv(tmp_path / "export" / "events.csv")[0].keys()
    assert not {"given_by", "withdrawn_by", "consent_by", "requested_by"} & set(header)


# -- the web page and the API ----------------------------------------------------------------


def test_the_web_form_refuses_k_below_5_in_dutch_at_the_field(world: World) -> None:
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        assert 'min="5"' in page.text
        refused = b.export("zonmw-3d", k=2)
        assert refused.status_code == 422
        form = Page.of(refused.text)
        assert ("De kleinste groep moet minstens 5 meisjes zijn: kleinere groepen kunnen"
                " herkend worden.") in form.all_text()
        (field,) = [e for e in form.elements if e.attrs.get("id") == "k"]
        assert "k-error" in field.attrs["aria-describedby"]
        assert field.attrs["aria-invalid"] == "true"
    assert not any(e["action"] == "export" for e in world.access())


def test_a_failing_export_is_marked_failed_on_its_page_never_ready(world: World) -> None:
    # Given a store of two girls: no group of five is possible
    for girl in (world.girl, world.other_girl):
        world.give_research_consent(girl)
    world.approve_project("zonmw-3d")
    with world.browser("researcher") as b:
        done = b.export("zonmw-3d")
        assert done.status_code == 303, done.text
        page = b.get(done.headers["location"])
    assert page.status_code == 200
    assert "De export is klaar." not in page.text
    text = Page.of(page.text).all_text()
    assert "niet geschikt om te publiceren" in text
    assert "Organisatie: 2 van 2 achtergehouden" in text
    with world.browser("researcher") as b:
        listing = b.get("/app/research")
    assert "afgekeurd bij de controle op herkenbaarheid" in listing.text


def test_the_api_refuses_k_below_5_naming_the_field_and_marks_a_failed_export(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    run_demo(app, count=8, seed=3)
    with live_server(app) as live:
        token = live.token("rosa", "researcher", "uni-demo")
        approved_project(app, "p1", researcher="rosa")
        with live.client(token) as rosa:
            researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
        with researcher:
            low = researcher.post("/research/exports", json={"project": "p1", "k": 4})
            assert low.status_code == 422
            assert low.json()["errors"][0]["field"] == "k"
            eight = researcher.post("/research/exports", json={"project": "p1", "k": 5})
            assert eight.status_code == 200, eight.text
            assert eight.headers["X-Disclosure-Check"] == "failed"
            manifest = json.loads(zipfile.ZipFile(io.BytesIO(eight.content)).read(
                "manifest.json"))
            assert manifest["small_cell_check"]["passed"] is False
            assert manifest["small_cell_check"]["failures"]


def test_the_web_form_declares_a_project_s_files_and_variables(world: World) -> None:
    for girl in (world.girl, world.other_girl):
        world.give_research_consent(girl)
    world.approve_project("therapy", files=["trajectories"],
                          variables=["trajectories.therapy_method"])
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        done = b.post("/app/research/exports", {
            "csrf_token": csrf_of(page.text), "project": "therapy", "format": "csv", "k": "5",
            "files": ["trajectories"], "variables": "trajectories.therapy_method",
            "reauth_password": PASSWORD, "reauth_code": b.code("researcher"),
        }, follow_redirects=False)
        assert done.status_code == 303, done.text
        manifest = b.get(done.headers["location"].split("?")[0] + "/files/manifest.json").json()
        assert manifest["parameters"]["files"] == ["trajectories"]
        assert manifest["parameters"]["variables"] == ["trajectories.therapy_method"]
        page = b.get("/app/research")
        more = b.post("/app/research/exports", {
            "csrf_token": csrf_of(page.text), "project": "therapy", "format": "csv", "k": "5",
            "files": ["events"], "reauth_password": PASSWORD,
            "reauth_code": b.code("researcher"),
        }, follow_redirects=False)
        assert more.status_code == 422
        assert 'id="files-error"' in more.text
        assert "Het project heeft andere gegevens opgegeven" in Page.of(more.text).all_text()


def test_the_api_takes_a_declaration_and_names_a_wrong_variable(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    run_demo(app, count=8, seed=3)
    with live_server(app) as live:
        token = live.token("rosa", "researcher", "uni-demo")
        approved_project(app, "p2", researcher="rosa", files=["trajectories"],
                         variables=["trajectories.setting"])
        with live.client(token) as rosa:
            researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
        with researcher:
            wrong = researcher.post("/research/exports", json={
                "project": "p2", "files": ["trajectories"],
                "variables": ["trajectories.nonsense"]})
            assert wrong.status_code == 422
            assert wrong.json()["errors"][0]["field"] == "variables"
            done = researcher.post("/research/exports", json={
                "project": "p2", "files": ["trajectories"],
                "variables": ["trajectories.setting"]})
            assert done.status_code == 200, done.text
            archive = zipfile.ZipFile(io.BytesIO(done.content))
            assert sorted(archive.namelist()) == [
                "datapackage.json", "manifest.json", "trajectories.csv"]
            header = archive.read("trajectories.csv").decode().splitlines()[0]
            assert header == "pseudonym,setting"


def test_the_command_line_refuses_k_below_5_and_takes_a_declaration(
    app: TrajectoryApplication, four: list[UUID], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    approved_project(app, "p", researcher="researcher-1", files=["trajectories"],
                     variables=["trajectories.setting"])
    try:
        assert main(["export", "--project", "p", "--out", str(tmp_path / "x"),
                     "--k", "3"]) == 1
        assert "k: k must be at least 5" in capsys.readouterr().err
        assert not (tmp_path / "x").exists()
        # Four girls cannot reach k=5: written, marked failed, exit 1
        assert main(["export", "--project", "p", "--out", str(tmp_path / "y"),
                     "--files", "trajectories", "--variables", "trajectories.setting"]) == 1
        printed = capsys.readouterr()
        assert "FAILED" in printed.out
        header = (tmp_path / "y" / "trajectories.csv").read_text().splitlines()[0]
        assert header == "pseudonym,setting"
    finally:
        structlog.reset_defaults()
