"""Beleidsinformatie Jeugd on the pages: the CBS delivery for the admin and the quality
officer (issue 20), access-logged, naming what was left out and why, never a number."""

from __future__ import annotations

from uuid import UUID

from tests.builders import intake, left_care
from tests.web_support import ORG_A, World, sqlite_only
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor
from trajectory.bij.report import COLUMNS
from trajectory.commands import RecordCareOutcome

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
        assert "haar burgerservicenummer ontbreekt" in shown.text
        # by what the coordinators know her file by, never a code: her responsible
        # coordinator and the day care began (an admin sees no girl's name)
        left = shown.text.split("Niet aangeleverd")[1]
        assert "Marieke de Graaf" in left
        assert str(world.girl)[:8] not in left
        assert "<code>" not in left
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


@sqlite_only
def test_the_outcomes_page_shows_the_indicators_with_a_chart_and_a_csv(world: World) -> None:
    # given six girls of the organisation who ended care in February, all satisfied
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    for _n in range(6):
        tid = world.app.open_trajectory(intake(municipality="0344"), coordinator).trajectory_id
        world.app.execute(tid, left_care("aftercare_completed", occurred_on="2026-02-10"),
                          coordinator)
        world.app.execute(tid, RecordCareOutcome(satisfied="yes", without_help="no",
                                                 informant="parent"), coordinator)
    with world.browser("quality") as b:
        # when the quality officer opens the indicators of the first quarter
        shown = b.get("/app/quality/outcomes?from=2026-01&to=2026-03")
        # then the page has the chart and the numbers, in Dutch
        assert shown.status_code == 200, shown.text
        assert "<svg" in shown.text
        assert "6 meisjes hebben in deze maanden de hulp afgesloten" in shown.text
        assert "Utrecht" in shown.text  # the municipality by its name
        assert "100 %" in shown.text or "100,0 %" in shown.text
        # and the CSV holds the same
        got = b.get("/app/quality/outcomes.csv?from=2026-01&to=2026-03")
        assert got.headers["content-type"].startswith("text/csv")
        assert "all,,satisfied,6,6,100.0" in got.text
        # and months that are not months are answered on the page
        assert "de eerste voor de laatste" in b.get(
            "/app/quality/outcomes?from=2026-05&to=2026-01").text
    assert [e for e in world.access() if e["action"] == "search" and e["user_id"] == "quality"]


@sqlite_only
def test_the_coordinator_records_the_outcome_and_the_items_for_cbs_on_their_forms(
    world: World,
) -> None:
    from trajectory.bij.care import care_record

    tid = world.girl
    with world.browser("coordinator") as b:
        # when she fills in the outcome form, two goals of the plan among its rows
        form = b.get(f"/app/trajectories/{tid}/forms/care-outcome")
        assert form.status_code == 200
        assert 'name="goals.0.attained"' in form.text
        done = b.submit(f"/app/trajectories/{tid}/forms/care-outcome", {
            "satisfied": "yes", "without_help": "no", "informant": "parent",
            "goals.0.goal": "Veilig op school", "goals.0.attained": "partly",
            "goals.1.goal": "Netwerk herstellen", "goals.1.attained": "yes"})
        assert done.status_code in (200, 303), done.text
        # and the items for CBS, a wrong number first
        wrong = b.submit(f"/app/trajectories/{tid}/forms/youth-care-items", {"bsn": "123456789"})
        assert "Het burgerservicenummer klopt niet" in wrong.text
        b.submit(f"/app/trajectories/{tid}/forms/youth-care-items",
                 {"bsn": BSN, "municipality": "0599", "referrer": "judicial"})
    # then her care for the delivery holds them
    record = care_record(tid, world.app.stream(tid))
    assert record.outcome is not None
    assert [(g.goal, g.attained) for g in record.outcome.goals] == [
        ("Veilig op school", "partly"), ("Netwerk herstellen", "yes")]
    assert (record.bsn, record.municipality, record.referrer) == (BSN, "0599", "judicial")


@sqlite_only
def test_the_outcome_form_asks_about_each_goal_of_her_latest_treatment_plan(
    world: World,
) -> None:
    from trajectory.commands import RecordCareAnalysis, SetTreatmentPlan

    # given a girl whose plan was set twice, the second time with seven goals
    coordinator = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
    tid = world.girl
    world.app.execute(tid, RecordCareAnalysis(disciplines=["psychologist", "social worker"]),
                      coordinator)
    world.app.execute(tid, SetTreatmentPlan(goals=["Oud doel"], summary="Eerste plan"),
                      coordinator)
    goals = tuple(f"Doel {n} van het plan" for n in range(1, 8))
    world.app.execute(tid, SetTreatmentPlan(goals=list(goals), summary="Bijgesteld plan"),
                      coordinator)
    with world.browser("coordinator") as b:
        # when she opens the outcome of care
        form = b.get(f"/app/trajectories/{tid}/forms/care-outcome")
        # then each goal of the latest plan is filled in on a row of its own, with room for one
        # more, and the first plan's goal is not asked about
        assert form.status_code == 200
        for n, goal in enumerate(goals):
            assert f'name="goals.{n}.goal"' in form.text
            assert f'value="{goal}"' in form.text
        assert 'name="goals.7.goal"' in form.text
        assert "Oud doel" not in form.text


@sqlite_only
def test_her_file_tells_her_coordinator_what_the_cbs_delivery_still_lacks(
    world: World,
) -> None:
    # given a girl taken in without the items for CBS
    tid = world.girl
    with world.browser("coordinator") as b:
        # when her coordinator opens her file
        shown = b.get(f"/app/trajectories/{tid}")
        # then what is due says what the delivery lacks, each with the form that records it
        assert shown.status_code == 200
        due = shown.text.split('id="h-cbs"')[1].split("</section>")[0]
        assert "haar burgerservicenummer ontbreekt" in due
        assert "de verwijzer ontbreekt" in due
        assert f"/trajectories/{tid}/forms/youth-care-items" in due
        # and once she records the items, the file says nothing is lacking
        b.submit(f"/app/trajectories/{tid}/forms/youth-care-items", {
            "bsn": BSN, "municipality": "0599", "referrer": "judicial",
            "care_form": "residential_other", "sex": "female"})
        again = b.get(f"/app/trajectories/{tid}")
        assert 'id="h-cbs"' not in again.text
