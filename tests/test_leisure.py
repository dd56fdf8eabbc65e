"""Leisure (vrijetijdsbesteding): a fact added through the list of facts alone.

Over the API (recorded, in her history, refused for other roles and for a kind outside the
vocabulary), in the web pages (its form, her history in Dutch, the timeline), in the core
element matrix (element 12) and in the research export (coded; what and where stays in
the log).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_support import INTAKE, assert_problem
from tests.builders import COORDINATOR, open_trajectory, record_all
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.test_research_export import consent, everything_in, export, read_csv
from tests.web_support import World
from trajectory.aggregates.events.education import LeisureArranged
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import ArrangeLeisure
from trajectory.projections import setup_projections
from trajectory.projections.core_elements import matrix

ACTIVITY = "voetbal bij VV De Zwaluwen op woensdagmiddag"
NOTE = "trainer weet van de situatie, haalt haar niet op"
"""Free text: it stays in the encrypted log and never leaves in an export."""
BODY: dict[str, Any] = {"kind": "sport", "activity": ACTIVITY, "supervised": True,
                        "note": NOTE}


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_a_coordinator_records_leisure_and_it_is_in_her_history(live: Live) -> None:
    with live.client(live.token("coordinator", "coordinator", "org-a")) as coordinator:
        # given a girl taken in by a coordinator
        opened = coordinator.post("/trajectories", json=INTAKE)
        assert opened.status_code == 201, opened.text
        tid = opened.json()["id"]
        # when she records a leisure activity
        done = coordinator.post(f"/trajectories/{tid}/leisure-activities", json=BODY)
        history = coordinator.get(f"/trajectories/{tid}/events").json()
    # then it is recorded and in the history with every field
    assert done.status_code == 201, done.text
    (position,) = done.json()["positions"]
    (entry,) = [e for e in history if e["position"] == position]
    assert entry["type"] == "LeisureArranged"
    assert entry["data"] == BODY


def test_leisure_is_refused_to_other_roles_and_outside_its_vocabulary(live: Live) -> None:
    with live.client(live.token("coordinator", "coordinator", "org-a")) as coordinator:
        tid = coordinator.post("/trajectories", json=INTAKE).json()["id"]
        path = f"/trajectories/{tid}/leisure-activities"
        for role in ("aftercare", "researcher"):
            with live.client(live.token(role, role, "org-a")) as other:
                assert_problem(other.post(path, json=BODY), 403)
        bad_kind = coordinator.post(path, json={**BODY, "kind": "gaming"})
        problem = assert_problem(bad_kind, 422)
        assert "kind" in str(problem)
        history = coordinator.get(f"/trajectories/{tid}/events").json()
    assert [e["type"] for e in history] == ["TrajectoryOpened"]


def test_leisure_adds_to_core_element_12_but_is_not_education(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given a girl with nothing but a leisure activity
    tid = open_trajectory(app)
    record_all(app, tid, [ArrangeLeisure(kind="scouting", activity="scouting Utrecht",
                                         supervised=True)])
    setup_projections(app).catch_up()
    # then element 12 names it, but education from day one is not evidenced by it alone
    # (the evidence rules, docs/core-elements.md)
    (row,) = [r for r in matrix(app.db, COORDINATOR.organisation,
                                amsterdam_date(clock())).trajectories if r.id == tid]
    (twelve,) = [e for e in row.elements if e.element == 12]
    assert twelve.status != "evidenced"
    assert twelve.positions == [2]


def test_her_page_has_the_leisure_form_and_shows_it_in_dutch_and_on_the_timeline(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/forms/leisure"
        form = b.get(path)
        assert form.status_code == 200
        for label in ("Vrijetijdsbesteding geregeld", "Soort activiteit", "Activiteit",
                      "Onder begeleiding van een volwassene", "kunst en cultuur"):
            assert label in form.text, label
        done = b.submit(path, {"kind": "youth_club", "activity": ACTIVITY,
                               "supervised": "1", "note": NOTE, "occurred_on": "2026-02-27"},
                        follow_redirects=False)
        assert done.status_code == 303, done.text
        page = b.get(f"/app/trajectories/{world.girl}/history")
        history = page.text[page.text.index('id="h-history"'):]
        assert "Vrijetijdsbesteding geregeld" in history
        assert "jongerencentrum" in history
        assert "Onder begeleiding van een volwassene" in history
        timeline = b.get(f"/app/trajectories/{world.girl}/timeline").text
        assert "<title>Vrijetijdsbesteding geregeld: 27-2-2026</title>" in timeline
    (event,) = [e for e in world.app.stream(world.girl) if isinstance(e, LeisureArranged)]
    assert (event.kind, event.activity, event.supervised) == ("youth_club", ACTIVITY, True)


def test_the_export_codes_leisure_and_leaves_what_and_where_in_the_log(
    app: TrajectoryApplication, tmp_path: Path
) -> None:
    # given a girl with research consent and a leisure activity
    tid = open_trajectory(app)
    record_all(app, tid, [ArrangeLeisure(kind="music", activity=ACTIVITY, supervised=False,
                                         note=NOTE, occurred_on="2026-01-20")])
    consent(app, tid)
    # when a researcher exports
    out = tmp_path / "export"
    export(app, out)
    # then the activity (dated within her observation) is a row with its kind and
    # whether it is supervised, and no text
    (row,) = [r for r in read_csv(out / "events.csv") if r["event"] == "LeisureArranged"]
    assert (row["kind"], row["supervised"]) == ("music", "0")
    assert "activity" not in row
    text = everything_in(out)
    for secret in (ACTIVITY, NOTE, "VV De Zwaluwen", "trainer weet"):
        assert secret not in text
