"""The research export in the formats researchers use, told as a researcher meets them:
sequences per week or per month, spells that say when they were cut off and why, and
corrections applied in events.csv. Every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest

from tests.builders import left_care, open_trajectory, phase_2_facts, record_all
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.project_support import approved_project
from tests.step_up_support import enrol, stepped_up
from tests.test_research_export import (  # noqa: F401 - cli_env, restore_logging: fixtures
    RESEARCHER,
    cli_env,
    consent,
    restore_logging,
)
from tests.web_support import PASSWORD, Page, World, csrf_of
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.commands import (
    AssessMedicalCare,
    CorrectEntry,
    EndRunaway,
    ReportRunaway,
    TransitionPhase,
)
from trajectory.demo import run_demo
from trajectory.research import ExportError, export_project, verify_export

INTAKE = date(2025, 9, 1)


def on(day: int) -> str:
    return (INTAKE + timedelta(days=day)).isoformat()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def export(app: TrajectoryApplication, out: Path, **options: Any) -> Any:
    return export_project(app, "formats-study", out, actor=RESEARCHER, **options)


def moved_away(app: TrajectoryApplication) -> UUID:
    """Phase 1 for 30 days, phase 2, a runaway of 5 days, closed on day 80: moved away."""
    t = open_trajectory(app, intake_date=INTAKE)
    record_all(app, t, [msgspec.structs.replace(c, occurred_on=on(1)) for c in phase_2_facts()])
    record_all(app, t, [
        TransitionPhase(to_phase=2, reason="Stabiel.", occurred_on=on(30)),
        ReportRunaway(from_where="De groep", occurred_on=on(40)),
        EndRunaway(ending="returned", occurred_on=on(45)),
        # the checks after her return, then she moves away with nothing arranged (argued)
        *[msgspec.structs.replace(c, occurred_on=on(46)) for c in phase_2_facts()[:2]],
        left_care(note="Verhuisd.", occurred_on=on(80)),
    ])
    consent(app, t)
    return t


def still_in_care(app: TrajectoryApplication) -> UUID:
    t = open_trajectory(app, intake_date=INTAKE)
    record_all(app, t, [msgspec.structs.replace(c, occurred_on=on(1)) for c in phase_2_facts()])
    consent(app, t)
    return t


# -- spells: right-censoring -------------------------------------------------------------


def test_a_spell_cut_off_by_the_end_of_observation_or_a_closure_says_so_and_why(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given a girl who moved away in phase 2 and a girl still in phase 1 at the export
    gone, staying = moved_away(app), still_in_care(app)
    # When the data set is exported
    out = tmp_path / "export"
    export(app, out)
    spells = read_csv(out / "spells.csv")
    by_girl: dict[str, list[tuple[int, str, str, str]]] = {}
    for r in spells:
        by_girl.setdefault(r["pseudonym"], []).append(
            (int(r["begin"]), r["state"], r["censored"], r["censoring_reason"]))
    girls = {p: rows for p, rows in by_girl.items()}
    closed = next(rows for rows in girls.values() if rows[-1][1] == "END")
    open_ = next(rows for rows in girls.values() if rows[-1][1] != "END")
    # Then the spells ended by a change of state are not censored
    assert closed[:3] == [(0, "P1", "0", ""), (30, "P2", "0", ""), (40, "RUN", "0", "")]
    # and her last phase was cut off by the move: lost to follow-up; the closure day is not
    assert closed[3:] == [(45, "P2", "1", "lost_to_follow_up"), (80, "END", "0", "")]
    # and the girl still in care is censored at the end of her observation
    assert open_ == [(0, "P1", "1", "still_in_care")]
    assert gone != staying


# -- sequences per week or per month -----------------------------------------------------


def test_sequences_per_month_follow_the_months_since_intake(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given the girl who moved away on day 80 (intake 1 September)
    moved_away(app)
    # When the sequences are asked per month
    out = tmp_path / "export"
    manifest = export(app, out, sequence_unit="month")
    (row,) = read_csv(out / "sequences.csv")
    # Then each column is a month since intake (September, October, November) and the
    # month's state is the one held for most of its days, then the closure
    assert list(row) == ["pseudonym", "M1", "M2", "M3", "M4"]
    assert [row[f"M{m}"] for m in range(1, 5)] == ["P1", "P2", "P2", "END"]
    assert manifest.parameters.sequence_unit == "month"
    # and the export verifies with its unit
    assert verify_export(app, out, actor=RESEARCHER).ok


def test_sequences_are_per_week_by_default_and_no_other_unit_is_taken(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    moved_away(app)
    manifest = export(app, tmp_path / "export")
    assert manifest.parameters.sequence_unit == "week"
    (row,) = read_csv(tmp_path / "export" / "sequences.csv")
    assert list(row)[1] == "W1"
    with pytest.raises(ExportError, match="sequence unit"):
        export(app, tmp_path / "other", sequence_unit="fortnight")


# -- corrections applied in events.csv --------------------------------------------------


def test_a_corrected_day_is_applied_with_a_flag_and_an_entry_in_error_is_flagged(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given a medical assessment recorded on day 3, corrected to day 2, and a second one
    # marked as recorded in error
    t = still_in_care(app)
    first = record_all(app, t, [AssessMedicalCare(needs=["none"], provider="Huisarts",
                                                 occurred_on=on(3))])
    second = record_all(app, t, [AssessMedicalCare(needs=["medication"], provider="GGD",
                                                  occurred_on=on(4))])
    assert first is not None
    assert second is not None
    record_all(app, t, [
        CorrectEntry(position=first.version, reason="Datum verkeerd.",
                     corrected_occurred_on=INTAKE + timedelta(days=2)),
        CorrectEntry(position=second.version, action="mark_in_error", reason="Andere cliënt."),
    ])
    # When the data set is exported
    out = tmp_path / "export"
    export(app, out)
    rows = {int(r["seq"]): r for r in read_csv(out / "events.csv")}
    # Then the corrected entry is on the corrected day, flagged, with the day first recorded
    assert (rows[first.version]["day"], rows[first.version]["corrected"],
            rows[first.version]["day_recorded"]) == ("2", "1", "3")
    # and the entry in error keeps its row, flagged, as the codebook says
    assert (rows[second.version]["in_error"], rows[second.version]["corrected"]) == ("1", "0")
    # and an entry never corrected has no day_recorded
    assert (rows[1]["corrected"], rows[1]["day_recorded"]) == ("0", "")


# -- process mining: OCEL 2.0 and XES, read back by pm4py ------------------------------


@pytest.fixture
def pm4py() -> Any:
    """pm4py, without its advice to install faster optional readers (a warning, which
    this suite treats as an error)."""
    import pm4py
    from pm4py.util import constants

    constants.SHOW_INTERNAL_WARNINGS = False
    return pm4py


def test_pm4py_discovers_a_process_model_from_the_ocel_and_the_xes_log(
    app: TrajectoryApplication, tmp_path: Path, pm4py: Any
) -> None:
    # Given girls with a phase, a runaway and a closure, one still in care, and a
    # corrected and an in-error entry
    moved_away(app)
    moved_away(app)
    t = still_in_care(app)
    first = record_all(app, t, [AssessMedicalCare(needs=["none"], provider="Huisarts",
                                                 occurred_on=on(3))])
    assert first is not None
    record_all(app, t, [CorrectEntry(position=first.version, action="mark_in_error",
                                     reason="Andere cliënt.")])
    # When the data set is exported with the process-mining logs
    out = tmp_path / "export"
    manifest = export(app, out, formats=["ocel", "xes"])
    events = read_csv(out / "events.csv")
    care = [r for r in events if r["in_error"] == "0"
            and r["event"] not in ("EntryCorrected", "EntryMarkedInError")]
    # Then pm4py reads the XES log: one trace per girl, the events of events.csv in care
    log = pm4py.read_xes(str(out / "events.xes"))
    assert len(log) == len(care)
    assert log["case:concept:name"].nunique() == 3
    assert set(log["concept:name"]) == {r["event"] for r in care}
    # and discovers a model from it (inductive miner, directly-follows graph)
    net, _initial, _final = pm4py.discover_petri_net_inductive(log)
    assert len(net.transitions) >= len({r["event"] for r in care})
    dfg, starts, _ends = pm4py.discover_dfg(log)
    assert set(starts) == {"TrajectoryOpened"}
    assert dfg[("TrajectoryOpened", "SafetyAnalysisRecorded")] >= 1
    # and pm4py reads the OCEL 2.0 log: the same events, each of one girl object
    ocel = pm4py.read_ocel2_json(str(out / "events.jsonocel"))
    assert len(ocel.events) == len(care)
    assert len(ocel.objects) == 3
    assert set(ocel.objects["ocel:type"]) == {"girl"}
    # and discovers an object-centric directly-follows graph and, flattened on the girl, a
    # process tree
    ocdfg = pm4py.discover_ocdfg(ocel)
    assert "girl" in ocdfg["object_types"]
    flat = pm4py.ocel_flattening(ocel, "girl")
    tree = pm4py.discover_process_tree_inductive(flat)
    assert "TrajectoryOpened" in str(tree)
    # and both files are in the manifest with their hashes, and the export verifies
    assert manifest.files["events.xes"].rows == len(care)
    assert manifest.files["events.jsonocel"].rows == len(care)
    assert manifest.parameters.formats == ["ocel", "xes"]
    assert verify_export(app, out, actor=RESEARCHER).ok
    (out / "events.xes").write_bytes((out / "events.xes").read_bytes().replace(
        b"RunawayReported", b"RunawayReportet", 1))
    check = verify_export(app, out, actor=RESEARCHER)
    assert any(d.startswith("events.xes") for d in check.differences)


def test_the_process_logs_hold_no_real_date_and_the_same_store_gives_the_same_bytes(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    moved_away(app)
    export(app, tmp_path / "a", formats=["ocel", "xes"])
    export(app, tmp_path / "b", formats=["ocel", "xes"])
    for name in ("events.xes", "events.jsonocel"):
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes()
        assert b"2025-" not in data  # her real intake year
        assert b"2000-01-01T00:00:01" in data  # day 0, the first event


# -- SPSS and Stata ---------------------------------------------------------------------


def test_pyreadstat_reads_the_spss_and_stata_files_with_their_labels(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    import pyreadstat

    # Given a girl who moved away and one still in care
    moved_away(app)
    still_in_care(app)
    # When the data set is exported with SPSS and Stata files
    out = tmp_path / "export"
    manifest = export(app, out, formats=["sav", "dta"])
    girls = {r["pseudonym"]: r for r in read_csv(out / "trajectories.csv")}
    for ext in ("sav", "dta"):
        read = pyreadstat.read_sav if ext == "sav" else pyreadstat.read_dta
        frame, meta = read(str(out / f"trajectories.{ext}"))
        # Then every girl is there with her values
        assert sorted(frame["pseudonym"]) == sorted(girls)
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        # and every variable carries its meaning from the codebook
        assert labels["closure_reason"] == "why the trajectory was closed (empty: not closed)"
        # and codes are numbers with their words as value labels
        closure = meta.variable_value_labels["closure_reason"]
        gone = frame[frame["pseudonym"].map(lambda p: girls[p]["status_end"] == "closed")]
        assert closure[int(gone["closure_reason"].iloc[0])] == "moved away"
        assert meta.variable_value_labels["censored"] == {0: "no", 1: "yes"}
        # and an empty code is missing
        assert frame["closure_reason"].isna().sum() == 1
        # and the spells and the sequences come too, with the states' words
        spells, spell_meta = read(str(out / f"spells.{ext}"))
        assert len(spells) == manifest.files["spells.csv"].rows
        assert spell_meta.variable_value_labels["censoring_reason"][2] == "lost to follow-up"
        _weeks, week_meta = read(str(out / f"sequences.{ext}"))
        assert week_meta.variable_value_labels["W1"][1] == "phase 1"
        # and each file is in the manifest with the hash of its table's content
        entry = manifest.files[f"trajectories.{ext}"]
        assert entry.content_sha256 == manifest.files["trajectories.csv"].sha256
    # and a second export gives the same bytes (no creation time of its own)
    again = tmp_path / "again"
    export(app, again, formats=["sav", "dta"])
    for name in ("trajectories.sav", "trajectories.dta", "sequences.sav"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    assert verify_export(app, out, actor=RESEARCHER).ok


# -- the Frictionless Data Package ------------------------------------------------------


def test_frictionless_validates_the_data_package_and_finds_a_changed_file(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    import json

    from frictionless import Package, validate

    # Given girls with a phase, a runaway, a closure and a correction
    moved_away(app)
    t = still_in_care(app)
    first = record_all(app, t, [AssessMedicalCare(needs=["none"], provider="Huisarts",
                                                 occurred_on=on(3))])
    assert first is not None
    record_all(app, t, [CorrectEntry(position=first.version, reason="Datum verkeerd.",
                                     corrected_occurred_on=INTAKE + timedelta(days=2))])
    # When the data set is exported (per month, to see the sequence columns follow)
    out = tmp_path / "export"
    manifest = export(app, out, sequence_unit="month")
    # Then datapackage.json is there, in the manifest with its hash
    assert manifest.files["datapackage.json"].rows == 6
    descriptor = json.loads((out / "datapackage.json").read_text())
    # and describes every table with types, constraints and code lists
    fields = {r["name"]: {f["name"]: f for f in r["schema"]["fields"]}
              for r in descriptor["resources"]}
    assert fields["trajectories"]["closure_reason"]["constraints"]["enum"][0] == (
        "aftercare_completed")
    assert fields["spells"]["censored"] == {
        "name": "censored", "type": "integer",
        "description": fields["spells"]["censored"]["description"],
        "constraints": {"enum": [0, 1]}}
    assert "M1" in fields["sequences"]
    # and frictionless validates the package: every file against its schema, keys, hashes
    report = validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = Package(str(out / "datapackage.json"))
    assert [r.name for r in package.resources] == [
        "trajectories", "events", "sequences", "spells", "follow_ups", "scores"]
    # and a code outside its list is found
    spells = (out / "spells.csv").read_text()
    (out / "spells.csv").write_text(spells.replace("still_in_care", "still_in_kare", 1))
    report = validate(str(out / "datapackage.json"))
    assert not report.valid
    kinds = {e.type for task in report.tasks for e in task.errors}
    assert "constraint-error" in kinds
    assert "hash-count" in kinds or "byte-count" in kinds or "bytes-count" in kinds
    # and verify names the changed file
    check = verify_export(app, out, actor=RESEARCHER)
    assert any(d.startswith("spells.csv") for d in check.differences)


# -- the parameters on the web form and over the API -----------------------------------


def test_the_web_form_asks_for_months_and_the_other_formats(world: World) -> None:
    """Given a girl with research consent; when the researcher asks on the research page
    for sequences per month and also XES, OCEL 2.0, SPSS and Stata; then the export has
    month columns and every file, each to be downloaded from its page."""
    world.give_research_consent(world.girl)
    world.give_research_consent(world.handed_over)
    world.approve_project("maanden")
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        assert 'name="sequences"' in page.text
        assert 'name="also"' in page.text
        done = b.post("/app/research/exports", {
            "csrf_token": csrf_of(page.text), "project": "maanden", "format": "csv",
            "k": "5", "sequences": "month", "also": ["xes", "ocel", "sav", "dta"],
            "reauth_password": PASSWORD, "reauth_code": b.code("researcher"),
        }, follow_redirects=False)
        assert done.status_code == 303, done.text
        base = done.headers["location"].partition("?")[0]
        sequences = b.get(f"{base}/files/sequences.csv")
        assert sequences.text.startswith("pseudonym,M1,")
        for name in ("events.xes", "events.jsonocel", "trajectories.sav", "spells.dta",
                     "datapackage.json"):
            assert b.get(f"{base}/files/{name}").status_code == 200, name


def test_the_export_page_says_the_sequence_unit_and_the_formats_written(world: World) -> None:
    """Given an export asked per month with XES and SPSS; when the researcher opens its
    page in Dutch; then it says the sequences have a column per month and which formats
    were written, each file listed with its hash from the manifest, and per column what
    was made coarser and withheld."""
    world.give_research_consent(world.girl)
    world.give_research_consent(world.handed_over)
    world.approve_project("eenheid")
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        done = b.post("/app/research/exports", {
            "csrf_token": csrf_of(page.text), "project": "eenheid", "format": "csv",
            "k": "5", "sequences": "month", "also": ["xes", "sav"],
            "reauth_password": PASSWORD, "reauth_code": b.code("researcher"),
        }, follow_redirects=False)
        assert done.status_code == 303, done.text
        base = done.headers["location"].partition("?")[0]
        dutch = Page.of(b.get(base + "?lang=nl").text).all_text()
        manifest = json.loads(b.get(f"{base}/files/manifest.json").text)
    assert "Reeksen een kolom per maand" in dutch
    assert "Ook als XES, SPSS, Data Package" in dutch
    for name in ("events.xes", "trajectories.sav", "datapackage.json"):
        assert f"{name} " in dutch
        assert manifest["files"][name]["sha256"] in dutch
    assert "Grover gemaakt" in dutch
    assert "Achtergehouden" in dutch


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    run_demo(app, count=8, seed=3)
    with live_server(app) as server:
        yield server


def test_the_api_takes_the_sequence_unit_and_the_other_formats(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    token = live.token("rosa", "researcher", "uni-demo")
    approved_project(app, "p1", researcher="rosa")
    with live.client(token) as rosa:
        researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
    with researcher:
        bad = researcher.post("/research/exports", json={"project": "p1", "also": ["pdf"]})
        assert bad.status_code == 422
        done = researcher.post("/research/exports", json={
            "project": "p1", "sequences": "month", "also": ["xes", "ocel"]})
    assert done.status_code == 200, done.text
    archive = zipfile.ZipFile(io.BytesIO(done.content))
    assert {"events.xes", "events.jsonocel", "datapackage.json"} <= set(archive.namelist())
    assert archive.read("sequences.csv").startswith(b"pseudonym,M1,")
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["parameters"]["formats"] == ["ocel", "xes"]
    assert manifest["parameters"]["sequence_unit"] == "month"


@pytest.mark.usefixtures("cli_env")
def test_the_command_line_takes_the_sequence_unit_and_the_other_formats(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given a girl who moved away
    moved_away(app)
    # When the data manager exports per month, with XES and SPSS, on the command line
    out = tmp_path / "cli"
    approved_project(app, "formats-study", researcher="researcher-1")
    # (one girl: her export is written but fails its disclosure check, and says so)
    assert main(["export", "--project", "formats-study", "--out", str(out),
                 "--sequences", "month", "--also", "xes", "--also", "sav"]) == 1
    # Then the files are there, and the export verifies on the command line
    assert read_csv(out / "sequences.csv")[0]["M1"] == "P1"
    assert (out / "events.xes").is_file()
    assert (out / "trajectories.sav").is_file()
    assert main(["verify", "--export", str(out)]) == 0


def test_an_export_made_before_the_data_package_is_not_faulted_for_lacking_it(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # Given an export whose manifest does not list datapackage.json (made by an earlier
    # version), with the file gone
    moved_away(app)
    out = tmp_path / "export"
    export(app, out)
    from trajectory.research.manifest import MANIFEST, decode, encode

    manifest = decode((out / MANIFEST).read_bytes())
    del manifest.files["datapackage.json"]
    (out / MANIFEST).write_bytes(encode(manifest))
    (out / "datapackage.json").unlink()
    # When it is verified, then it matches the log
    check = verify_export(app, out, actor=RESEARCHER)
    assert check.ok, check.differences
