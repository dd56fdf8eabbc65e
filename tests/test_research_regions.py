"""Organisation -> region -> withheld: with the installation's regions, disclosure control
generalises an organisation to its region before it withholds it; the manifest pins the
regions it used, so `verify --export` recomputes the same. Every export test runs on SQLite
and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import msgspec
import pytest

from tests.builders import open_trajectory
from tests.conftest import FakeClock, all_protocols
from tests.test_research_export import RESEARCHER, export, read_csv
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import GiveResearchConsent
from trajectory.composition import build_application
from trajectory.research import verify_export
from trajectory.research.disclosure import (
    HIERARCHIES,
    OTHER_REGION,
    ColumnReport,
    KAnonymity,
    disclosure_codebook,
    hierarchies,
)
from trajectory.research.manifest import Manifest
from trajectory.settings import Settings, SettingsError

REGIONS = "org-a=Utrecht; org-b=Utrecht; org-c=Noord-Holland"
GIRLS = {"org-a": 3, "org-b": 3, "org-c": 5}
"""Three organisations of few girls each; two of them (six girls) in one region."""


def _coordinator(organisation: str) -> Actor:
    return Actor(user_id=f"coord-{organisation}", role="coordinator",
                 organisation=organisation)


@pytest.fixture
def three_organisations(app: TrajectoryApplication) -> dict[str, list[UUID]]:
    """Girls alike in everything but their organisation, each with a parent's consent."""
    girls: dict[str, list[UUID]] = {}
    for organisation, n in GIRLS.items():
        actor = _coordinator(organisation)
        girls[organisation] = [open_trajectory(app, actor) for _ in range(n)]
        for trajectory_id in girls[organisation]:
            app.execute(trajectory_id, GiveResearchConsent(
                given_by="parent", note="Toestemming besproken met haar moeder."), actor)
    return girls


@pytest.fixture
def regional_app(settings: Settings, clock: FakeClock) -> Iterator[TrajectoryApplication]:
    """The same store, as an installation that maps its organisations to regions."""
    application = build_application(
        msgspec.structs.replace(settings, organisation_regions=REGIONS), clock=clock,
        protocols=all_protocols())
    try:
        yield application
    finally:
        application.close()


def _organisation(manifest: Manifest) -> ColumnReport:
    return next(c for c in manifest.small_cell_check.columns if c.column == "organisation")


def test_an_organisation_is_generalised_to_its_region_before_it_is_withheld(
    app: TrajectoryApplication, regional_app: TrajectoryApplication,
    three_organisations: dict[str, list[UUID]], tmp_path: Path,
) -> None:
    # Given an export without regions: six girls in organisations under k
    plain = export(app, tmp_path / "plain", k=5, max_suppressed_percent=10)
    assert plain.parameters.regions is None
    without = _organisation(plain)
    assert without.cells_suppressed >= 6
    assert not plain.small_cell_check.passed
    # When the installation maps the organisations to regions
    regional = export(regional_app, tmp_path / "regional", k=5, max_suppressed_percent=10)
    # Then the organisation is published as its region, and nothing is withheld
    column = _organisation(regional)
    assert (column.level, column.top) == (1, 2)
    assert column.published_as.startswith("region")
    assert column.cells_suppressed == 0
    assert column.cells_generalised == sum(GIRLS.values())
    assert regional.small_cell_check.cells_suppressed < plain.small_cell_check.cells_suppressed
    assert regional.small_cell_check.passed
    published = sorted(r["organisation"] for r in read_csv(
        tmp_path / "regional" / "trajectories.csv"))
    assert published == ["Noord-Holland"] * 5 + ["Utrecht"] * 6
    # And the manifest pins the regions it used, by organisation pseudonym
    assert regional.parameters.regions is not None
    assert sorted(regional.parameters.regions.values()) == [
        "Noord-Holland", "Utrecht", "Utrecht"]
    assert all(p.startswith("O") for p in regional.parameters.regions)
    # And both exports verify, each with what its manifest pinned (not the settings)
    for out in ("plain", "regional"):
        for reader in (app, regional_app):
            check = verify_export(reader, tmp_path / out, actor=RESEARCHER)
            assert check.ok, (out, check.differences)


def test_an_organisation_without_a_region_is_in_region_other(
    settings: Settings, clock: FakeClock, three_organisations: dict[str, list[UUID]],
    tmp_path: Path,
) -> None:
    # Given a mapping that names org-a and org-b only (org-c's five girls: region other)
    application = build_application(
        msgspec.structs.replace(settings, organisation_regions="org-a=Utrecht;org-b=Utrecht"),
        clock=clock, protocols=all_protocols())
    try:
        # When exported at k=5
        manifest = export(application, tmp_path / "x", k=5, max_suppressed_percent=10)
        # Then org-c's girls are published in region "other"
        published = sorted(r["organisation"] for r in read_csv(tmp_path / "x" / "trajectories.csv"))
        assert published == sorted([OTHER_REGION] * 5 + ["Utrecht"] * 6)
        assert manifest.small_cell_check.passed
        assert verify_export(application, tmp_path / "x", actor=RESEARCHER).ok
    finally:
        application.close()


# -- the hierarchy and the setting on their own --------------------------------------------------


def test_the_organisation_ladder_has_a_region_level_only_with_a_mapping() -> None:
    assert hierarchies(None) == HIERARCHIES
    regional = hierarchies({"O1": "Utrecht"})[0]
    assert [regional.at("O1", lv) for lv in range(regional.top + 1)] == ["O1", "Utrecht", None]
    assert regional.at("O2", 1) == OTHER_REGION
    assert any("| `organisation` | 1 | region" in line for line in disclosure_codebook(28))


def test_k_anonymity_with_regions_keeps_a_region_of_k_girls() -> None:
    check = KAnonymity(k=5, max_suppressed_percent=0, regions={"O1": "R", "O2": "R"})
    for organisation in ("O1", "O2"):
        for _ in range(3):
            check.add((organisation, "14-15", "2025-01", "traumatised"))
    report = check.decide()
    assert report.passed
    assert report.cells_suppressed == 0
    assert check.publish(("O1", "14-15", "2025-01", "traumatised"))[0] == "R"


def test_the_regions_setting_is_read_and_a_wrong_pair_named() -> None:
    settings = Settings.from_env({"TRAJECTORY_ORGANISATION_REGIONS": REGIONS})
    assert settings.regions == {"org-a": "Utrecht", "org-b": "Utrecht",
                                "org-c": "Noord-Holland"}
    assert Settings().regions == {}
    with pytest.raises((SettingsError, ValueError), match="organisation_regions"):
        Settings.from_env({"TRAJECTORY_ORGANISATION_REGIONS": "org-a Utrecht"})
    with pytest.raises((SettingsError, ValueError), match="twice"):
        Settings.from_env({"TRAJECTORY_ORGANISATION_REGIONS": "org-a=X;org-a=Y"})
