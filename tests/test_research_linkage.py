"""Projects cannot be linked: told as an attacker who holds two projects' exports of one
store and matches girls on every column both hold. Each project receives only the files
and variables it declared, under its own pseudonyms; every export counts how many of its
girls another project could link, and fails when that is over 10%."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.test_research_export import export, read_csv
from trajectory.application import TrajectoryApplication
from trajectory.research.projects import ProjectError

QI = ["organisation", "age_band", "intake_period", "risk_profiles", "qi_suppressed"]
THERAPY = [f"trajectories.{c}" for c in (*QI, "therapy_method", "therapy_sessions",
                                         "therapy_completed", "interventions",
                                         "intervention_kinds")]
PLACEMENT = [f"trajectories.{c}" for c in (*QI, "setting", "placement_first",
                                           "placement_first_argued", "placement_last",
                                           "placements")]

pytest_plugins = ["tests.research_support"]  # the 300-girl demo store


def attack(a: Path, b: Path) -> tuple[int, int, set[str]]:
    """(girls linked uniquely and rightly, girls, the columns matched on): match every
    girl of export a with the girls of export b on every column both trajectories files
    hold. Organisation pseudonyms differ per project; the attacker pairs them by their
    numbers of girls (the most common with the most common, and so on)."""
    rows_a, rows_b = read_csv(a / "trajectories.csv"), read_csv(b / "trajectories.csv")
    shared = (set(rows_a[0]) & set(rows_b[0])) - {"pseudonym"}

    def ranked(rows: list[dict[str, str]]) -> dict[str, int]:
        counts = Counter(r["organisation"] for r in rows if r.get("organisation"))
        return {o: i for i, (o, _) in enumerate(counts.most_common())}

    rank_a, rank_b = ranked(rows_a), ranked(rows_b)

    def key(row: dict[str, str], rank: dict[str, int]) -> tuple[str, ...]:
        return tuple(str(rank.get(row[c], "")) if c == "organisation" else row[c]
                     for c in sorted(shared))

    candidates = Counter(key(r, rank_b) for r in rows_b)
    linked = [r for r in rows_a if candidates[key(r, rank_a)] == 1]
    return len(linked), len(rows_a), shared


def test_two_projects_with_their_own_declarations_link_at_most_10_percent(
    demo_300: TrajectoryApplication, tmp_path: Path
) -> None:
    app = demo_300
    # Given a therapy study and a placement study, each declaring what it needs
    therapy = export(app, tmp_path / "therapy", project="therapy-study",
                     files=["trajectories", "spells"], variables=THERAPY)
    placement = export(app, tmp_path / "placement", project="placement-study",
                       files=["trajectories"], variables=PLACEMENT)
    # Then each received only its files and its variables
    assert {p.name for p in (tmp_path / "therapy").iterdir()} == {
        "datapackage.json", "manifest.json", "trajectories.csv", "spells.csv"}
    assert {p.name for p in (tmp_path / "placement").iterdir()} == {
        "datapackage.json", "manifest.json", "trajectories.csv"}
    header = list(read_csv(tmp_path / "placement" / "trajectories.csv")[0])
    assert header == ["pseudonym", *[v.split(".")[1] for v in PLACEMENT if v in {
        f"trajectories.{c}" for c in header}]]
    assert set(header) == {"pseudonym", *(v.split(".")[1] for v in PLACEMENT)}
    assert placement.parameters.files == ["trajectories"]
    assert placement.parameters.variables == sorted(PLACEMENT)
    # and its Data Package describes those and nothing else
    package = json.loads((tmp_path / "placement" / "datapackage.json").read_text())
    (resource,) = package["resources"]
    assert [f["name"] for f in resource["schema"]["fields"]] == header
    # When an attacker matches the girls of both exports on every column they share
    linked, girls, shared = attack(tmp_path / "therapy", tmp_path / "placement")
    # Then at most 10% are linked uniquely (the shared columns are the k-anonymous ones)
    assert shared == set(QI)
    assert girls > 200
    assert linked <= girls // 10
    # and the second export's own check said as much, and passed
    (report,) = placement.small_cell_check.linkage
    assert report.project == "therapy-study"
    assert report.shared == sorted(f"trajectories.{c}" for c in QI)
    assert report.girls_linkable == linked
    assert report.passed
    assert placement.small_cell_check.passed
    assert therapy.small_cell_check.passed
    # and the pseudonyms differ: no girl has the same one in both
    a = {r["pseudonym"] for r in read_csv(tmp_path / "therapy" / "trajectories.csv")}
    b = {r["pseudonym"] for r in read_csv(tmp_path / "placement" / "trajectories.csv")}
    assert not a & b


def test_two_projects_that_both_take_everything_are_linked_and_the_export_fails(
    demo_300: TrajectoryApplication, tmp_path: Path
) -> None:
    app = demo_300
    export(app, tmp_path / "one", project="study-one")
    two = export(app, tmp_path / "two", project="study-two")
    linked, girls, _shared = attack(tmp_path / "one", tmp_path / "two")
    assert linked > girls // 10  # what the check is for: the attacker links most girls
    (report,) = two.small_cell_check.linkage
    assert report.project == "study-one"
    assert "timeline" in report.shared
    assert report.girls_linkable >= linked  # it counts at least what the attacker finds
    assert not report.passed
    assert not two.small_cell_check.passed
    assert any("could be linked with project 'study-one'" in f
               for f in two.small_cell_check.failures)


def test_a_project_keeps_its_declaration_and_a_bad_one_is_named(
    demo_300: TrajectoryApplication, tmp_path: Path
) -> None:
    app = demo_300
    export(app, tmp_path / "first", project="therapy-study",
           files=["trajectories", "spells"], variables=THERAPY)
    # A later export without a declaration gets what the project declared
    again = export(app, tmp_path / "again", project="therapy-study")
    assert again.parameters.files == ["trajectories", "spells"]
    # and one that asks for more is refused, naming what is wrong
    with pytest.raises(ProjectError, match=r"^files: project 'therapy-study' declared"):
        export(app, tmp_path / "more", project="therapy-study", files=["events"])
    with pytest.raises(ProjectError, match=r"^variables: 'trajectories.nonsense'"):
        export(app, tmp_path / "bad", project="new-study", files=["trajectories"],
               variables=["trajectories.nonsense"])
    with pytest.raises(ProjectError, match=r"^files: no such file: addresses"):
        export(app, tmp_path / "bad2", project="new-study", files=["addresses"])
    assert not (tmp_path / "more").exists()
