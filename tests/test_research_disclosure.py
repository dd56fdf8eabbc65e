"""Disclosure control told as a reviewer meets it: an as-of export stays verifiable after
later intakes, k can never be set below 5, the manifest says per column what was
generalised and suppressed, and a failing export says so. Every test runs on SQLite and
on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from tests.builders import open_trajectory, phase_2_facts, record_all
from tests.conftest import FakeClock
from tests.test_research_export import RESEARCHER, consent, export
from trajectory.application import TrajectoryApplication
from trajectory.research import ExportError, verify_export


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
    as_of = clock()
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
