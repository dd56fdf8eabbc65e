"""Beleidsinformatie Jeugd on the pages: the CBS delivery for the admin and the quality
officer (issue 20), access-logged, naming what was left out and why, never a number."""

from __future__ import annotations

from uuid import UUID

from tests.builders import intake
from tests.web_support import ORG_A, World, sqlite_only
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor
from trajectory.bij.report import COLUMNS

BSN = "123456782"


@sqlite_only
def test_the_quality_officer_checks_and_downloads_the_delivery(world: World) -> None:
    # given a girl of the organisation with every item of the protocol, in care since January
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    complete = world.app.open_trajectory(intake(
        identity=Identity(name="Volledig Meisje", date_of_birth=world.app.clock().date()
                          .replace(year=2010), home_region="Utrecht", bsn=BSN),
        municipality="0344", referrer="municipal_access", care_form="residential_other"),
        coordinator).trajectory_id
    with world.browser("quality") as b:
        # when the quality officer checks the first half of 2026
        shown = b.get("/app/reports/bij?period=2026H1")
        # then the page says how many records can be delivered and names the files left out
        assert shown.status_code == 200, shown.text
        assert "1 regel kan worden aangeleverd" in shown.text
        assert str(world.girl)[:8] in shown.text
        assert "haar burgerservicenummer ontbreekt" in shown.text
        assert BSN not in shown.text
        assert "Volledig Meisje" not in shown.text
        # and the file holds the one complete record, in the protocol's columns
        got = b.get("/app/reports/bij.csv?period=2026H1")
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/csv")
        lines = got.text.splitlines()
        assert lines[0] == ";".join(COLUMNS)
        assert len(lines) == 2
        assert BSN in lines[1]
        assert str(complete) in lines[1]
    # and each showing and download was access-logged, naming every file read
    entries = [e for e in world.access() if e["action"] == "report-bij"]
    assert len(entries) == 2
    assert {UUID(t) for t in entries[0]["shown"].split()} == {
        world.girl, world.handed_over, complete}
    assert all(e["user_id"] == "quality" for e in entries)


@sqlite_only
def test_a_coordinator_has_no_delivery_page(world: World) -> None:
    with world.browser("coordinator") as b:
        assert b.get("/app/reports/bij").status_code in (403, 404)
        assert b.get("/app/reports/bij.csv?period=2026H1").status_code in (403, 404)
    assert not [e for e in world.access() if e["action"] == "report-bij"]
