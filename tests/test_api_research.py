"""Research exports over HTTP: a researcher gets a zip that verifies; others may not."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import COORDINATOR
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.project_support import approved_project
from tests.step_up_support import enrol, stepped_up
from trajectory.application import TrajectoryApplication
from trajectory.demo import run_demo
from trajectory.research import verify_export


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    run_demo(app, count=8, seed=3)
    with live_server(app) as server:
        yield server


def test_a_researcher_exports_a_verifiable_archive(
    live: Live, app: TrajectoryApplication, tmp_path: Path, clock: FakeClock
) -> None:
    token = live.token("rosa", "researcher", "uni-demo")
    approved_project(app, "p1", researcher="rosa")  # (exports need an approved project)
    with live.client(token) as rosa:
        # Exporting needs a step-up token (password and a new TOTP code), as on the web pages.
        researcher = stepped_up(live, rosa, enrol(live, "rosa"), clock)
    coordinator = live.client(live.token("coord", "coordinator", "demo-org-noord"))
    with researcher, coordinator:
        # a coordinator may not export
        assert coordinator.post("/research/exports", json={"project": "p1"}).status_code == 403
        # a bad project name is named
        bad = researcher.post("/research/exports", json={"project": "Not Valid!"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "project"
        # when a researcher exports, then she gets a zip with the manifest's hash
        first = researcher.post("/research/exports", json={"project": "p1"})
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/zip"
        again = researcher.post("/research/exports", json={"project": "p1"})
    # and the same store gives the same bytes
    assert again.content == first.content
    archive = zipfile.ZipFile(io.BytesIO(first.content))
    names = set(archive.namelist())
    assert {"manifest.json", "trajectories.csv", "events.csv", "sequences.csv"} <= names
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest  # the manifest is there and is JSON
    # and the archive verifies against the store
    out = tmp_path / "unpacked"
    archive.extractall(out)
    check = verify_export(app, out, actor=COORDINATOR)
    assert check.ok, check
    # and the export was access-logged with its manifest hash
    rows = app.db.fetchall("SELECT request_id FROM access_log WHERE action = 'export'")
    assert [r["request_id"] for r in rows] == [
        f"manifest-sha256:{first.headers['x-manifest-sha256']}"
    ] * 2
