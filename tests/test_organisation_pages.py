"""The organisation's pages: the runaway register (its read model on SQLite and on
PostgreSQL, and the page), the signals by month and the team dashboard, for each role.

Runaways and signals are recorded as facts through the commands (the write path the
pages use too); the day is the test's clock.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from uuid import UUID

import pytest
from hypothesis import strategies as st

from tests.builders import (
    COORDINATOR,
    OTHER_COORDINATOR,
    open_trajectory,
    phase_2_facts,
    record_all,
)
from tests.projection_support import contents, rows_of
from tests.test_web_bad_input import QUERY_NAMES, fuzz_queries, values
from tests.test_web_words import english_only_words, shown_text, untranslated
from tests.web_support import GIRL, HANDED_OVER_GIRL, OTHER_GIRL, PEOPLE, World, sqlite_only
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import EndRunaway, RecordSignal, ReportRunaway
from trajectory.erasure import erase
from trajectory.projections import setup_projections
from trajectory.projections.core_elements import evidenced_counts, matrix
from trajectory.projections.runaways import runaway_register, runaways_per_month

ORG = COORDINATOR.organisation
TODAY = date(2026, 3, 2)  # the test clock's day
YEAR_AGO = date(2025, 3, 2)


def ran_away(
    app: TrajectoryApplication, tid: UUID, on: str, actor: Actor = COORDINATOR, *,
    police: bool = True,
) -> int:
    """She ran away on `on`; the report's position."""
    command = ReportRunaway(
        occurred_on=on, from_where="de groep",
        police_forces_informed=["Midden-Nederland"] if police else [],
    )
    return app.execute(tid, command, actor).version


def came_back(
    app: TrajectoryApplication, tid: UUID, on: str, ending: str = "returned",
    actor: Actor = COORDINATOR,
) -> int:
    return app.execute(tid, EndRunaway(occurred_on=on, ending=ending), actor).version  # type: ignore[arg-type]


# -- the read model ----------------------------------------------------------------------------


def test_the_register_lists_open_runaways_first_then_the_newest_with_days_and_endings(
    app: TrajectoryApplication,
) -> None:
    runner = setup_projections(app)
    # given a girl who ran away twice (found after 5 days; away again since 20 February),
    # another who came back after 2 days without the police informed, and a girl of
    # another organisation
    noor, sara = open_trajectory(app), open_trajectory(app)
    ran_away(app, noor, "2026-01-20")
    came_back(app, noor, "2026-01-25", "found")
    ran_away(app, noor, "2026-02-20")
    ran_away(app, sara, "2026-02-01", police=False)
    came_back(app, sara, "2026-02-03")
    elsewhere = open_trajectory(app, OTHER_COORDINATOR)
    ran_away(app, elsewhere, "2026-02-10", OTHER_COORDINATOR)
    # when the register is read
    runner.catch_up()
    out = runaway_register(app.db, ORG, YEAR_AGO, TODAY, TODAY, seen_by=None)
    # then the open one first (away 10 days to today), then the newest
    assert [(r.trajectory_id, r.started_on, r.ended_on, r.days, r.ending, r.police_informed)
            for r in out] == [
        (str(noor), date(2026, 2, 20), None, 10, None, True),
        (str(sara), date(2026, 2, 1), date(2026, 2, 3), 2, "returned", False),
        (str(noor), date(2026, 1, 20), date(2026, 1, 25), 5, "found", True),
    ]
    # and the period leaves out what ended before it
    assert len(runaway_register(app.db, ORG, date(2026, 2, 1), TODAY, TODAY, seen_by=None)) == 2
    assert runaways_per_month(app.db, ORG, ["2026-01", "2026-02", "2026-03"]) == {
        "2026-01": 1, "2026-02": 2, "2026-03": 0,
    }


def test_a_rebuild_gives_the_rows_the_runner_wrote_page_by_page(
    app: TrajectoryApplication,
) -> None:
    # given small pages, so that a return lands in another page than its report, and
    # one where both land in the same page
    runner = setup_projections(app, page_size=2)
    noor, sara = open_trajectory(app), open_trajectory(app)
    ran_away(app, noor, "2026-01-20")
    runner.catch_up()
    came_back(app, noor, "2026-01-25")
    ran_away(app, sara, "2026-02-01")
    came_back(app, sara, "2026-02-02", "found")
    runner.catch_up()
    followed = contents(app, runner)
    register = runaway_register(app.db, ORG, YEAR_AGO, TODAY, TODAY, seen_by=None)
    assert [r.ended_on for r in register] == [date(2026, 2, 2), date(2026, 1, 25)]
    # when the read model is rebuilt from the log, then it holds the same rows
    runner.rebuild("runaways")
    assert contents(app, runner) == followed


def test_erasure_deletes_her_runaways(app: TrajectoryApplication) -> None:
    runner = setup_projections(app)
    noor = open_trajectory(app)
    ran_away(app, noor, "2026-01-20")
    runner.catch_up()
    assert rows_of(app, runner, str(noor))["runaway_register"] == 1
    erase(app, noor, by=COORDINATOR, reason="request", legal_ground="request-granted")
    assert rows_of(app, runner, str(noor))["runaway_register"] == 0


def test_the_elements_evidenced_on_each_month_end_are_the_matrix_of_that_day(
    app: TrajectoryApplication,
) -> None:
    """The dashboard counts a month's evidenced elements from rows read once; they are
    what the quality page's matrix says on each of those days."""
    runner = setup_projections(app)
    early = open_trajectory(app, intake_date=date(2025, 11, 3))
    record_all(app, early, phase_2_facts())
    later = open_trajectory(app)
    record_all(app, later, phase_2_facts()[:3])
    runner.catch_up()
    days = [date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), TODAY]
    counts = evidenced_counts(app.db, ORG, days)
    for day in days:
        assert counts[day] == {c.element: c.evidenced for c in matrix(app.db, ORG, day).totals}
    assert any(counts[TODAY].values())


# -- the pages ---------------------------------------------------------------------------------

PAGES = ("/app/register/runaways", "/app/register/signals", "/app/dashboard")


def runaways_and_signals(world: World) -> None:
    """Noor: found after 5 days in January, away again since 20 February; Sara: back after
    2 days; the girl of the other organisation away too. Two loverboy signals and one of
    boundary-crossing behaviour for Noor and Sara, one for the other organisation."""
    coordinator, other = world.actor("coordinator"), world.actor("coordinator-b")
    app = world.app
    ran_away(app, world.girl, "2026-01-20", coordinator)
    came_back(app, world.girl, "2026-01-25", "found", coordinator)
    ran_away(app, world.girl, "2026-02-20", coordinator)
    ran_away(app, world.handed_over, "2026-02-01", coordinator, police=False)
    came_back(app, world.handed_over, "2026-02-03", actor=coordinator)
    ran_away(app, world.other_girl, "2026-02-10", other)
    for tid, kind, on in ((world.girl, "loverboy", "2026-01-10"),
                          (world.handed_over, "loverboy", "2026-02-15"),
                          (world.handed_over, "boundary_crossing", "2026-02-16")):
        app.execute(tid, RecordSignal(kind=kind, occurred_on=on), coordinator)  # type: ignore[arg-type]
    app.execute(world.other_girl, RecordSignal(kind="loverboy"), other)


def opened(world: World, who: str, path: str, **params: str) -> str:
    """The page `who` reads at `path`, after the runaways and signals were recorded."""
    runaways_and_signals(world)
    with world.browser(who) as b:
        answer = b.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.text


def _rows(html: str, table_class: str) -> list[list[str]]:
    """The text of each body row of the first table with this class."""
    found = re.search(rf'<table class="[^"]*\b{table_class}\b[^"]*">(.*?)</table>', html, re.S)
    assert found is not None, table_class
    body = found.group(1).split("<tbody>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                                     row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


@sqlite_only
def test_the_coordinator_reads_every_runaway_by_name_and_the_entry_names_each_girl(
    world: World,
) -> None:
    html = opened(world, "coordinator", "/app/register/runaways")
    # open first, then the newest; each girl by name, linked to her file
    assert _rows(html, "register") == [
        [GIRL, "20-2-2026", "nog weg", "10", "\u2013", "ja"],
        [HANDED_OVER_GIRL, "1-2-2026", "3-2-2026", "2", "teruggekeerd", "nee"],
        [GIRL, "20-1-2026", "25-1-2026", "5", "gevonden", "ja"],
    ]
    assert f'<a href="/app/trajectories/{world.girl}">{GIRL}</a>' in html
    assert OTHER_GIRL not in html
    # the figures and the chart of the months, with its numbers as a table
    assert re.search(r"<dt>Nog weg</dt><dd>1</dd>", html)
    assert re.search(r"<dt>Politie ingelicht</dt><dd>2</dd>", html)
    assert 'role="img"' in html
    assert ["feb &#39;26", "2"] in _rows(html, "chart-numbers")
    # one access-log entry naming both girls shown
    entry = world.access(world.girl)[-1]
    assert (entry["user_id"], entry["action"], entry["trajectory_id"]) == (
        "coordinator", "search", None)
    assert set(entry["shown"]) == {str(world.girl), str(world.handed_over)}


@sqlite_only
def test_the_period_filter_leaves_out_runaways_that_ended_before_it(world: World) -> None:
    html = opened(world, "coordinator", "/app/register/runaways",
                  **{"from": "2026-02-05", "to": "2026-03-02"})
    assert [row[0] for row in _rows(html, "register")] == [GIRL]
    assert 'value="2026-02-05"' in html


@sqlite_only
def test_the_quality_officer_reads_the_registers_as_counts_without_a_name(world: World) -> None:
    runaways_and_signals(world)
    with world.browser("quality") as b:
        pages = {path: b.get(path) for path in PAGES}
    for path, answer in pages.items():
        assert answer.status_code == 200, (path, answer.text)
        for name in (GIRL, HANDED_OVER_GIRL, OTHER_GIRL):
            assert name not in answer.text, path
        assert "/app/trajectories/" not in answer.text, path
    assert re.search(r"<dt>Weglopen</dt><dd>3</dd>",
                     pages["/app/register/runaways"].text)
    assert 'class="matrix register"' not in pages["/app/register/runaways"].text
    # her entries name nobody: no girl's log has one of hers
    for girl in (world.girl, world.handed_over):
        assert all(e["user_id"] != "quality" for e in world.access(girl))


@sqlite_only
def test_the_signals_page_counts_by_kind_and_month_and_links_the_recent_ones(
    world: World,
) -> None:
    html = opened(world, "coordinator", "/app/register/signals")
    numbers = _rows(html, "chart-numbers")
    # Month, loverboy, sexual abuse, boundary-crossing, runaway
    assert ["jan &#39;26", "1", "0", "0", "0"] in numbers
    assert ["feb &#39;26", "1", "0", "1", "0"] in numbers
    assert len(numbers) == 12
    listed = html.split('<ul class="signals">')[1].split("</ul>")[0]
    recent = re.findall(r'<li>([^<]*)<a href="/app/trajectories/([^"]+)">([^<]+)</a>', listed)
    assert [(m.strip(), tid, name) for m, tid, name in recent] == [
        ("feb &#39;26: grensoverschrijdend gedrag —", str(world.handed_over), HANDED_OVER_GIRL),
        ("feb &#39;26: loverboysignaal —", str(world.handed_over), HANDED_OVER_GIRL),
        ("jan &#39;26: loverboysignaal —", str(world.girl), GIRL),
    ]
    entry = world.access(world.girl)[-1]
    assert set(entry["shown"]) == {str(world.girl), str(world.handed_over)}


@sqlite_only
def test_the_dashboard_draws_the_teams_figures_as_charts_with_their_numbers(
    world: World,
) -> None:
    html = opened(world, "coordinator", "/app/dashboard")
    # every chart is an image with a title and a description, and well-formed
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.get("role") == "img"
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
        assert root.find("{http://www.w3.org/2000/svg}desc") is not None
    # two girls in phase 1 since intake (5 January: 56 days), no name anywhere
    tables = re.findall(r'<table class="matrix chart-numbers">.*?</table>', html, re.S)
    assert ["Fase 1", "0", "2", "0", "0", "0"] in _rows(tables[0], "chart-numbers")
    for name in (GIRL, HANDED_OVER_GIRL, OTHER_GIRL):
        assert name not in html
    # overdue items by kind, in words (not the criterion's code)
    assert ["onderwijs geregeld", "1"] in _rows(tables[1], "chart-numbers")
    assert "care-analysis" not in html
    # core elements: a row per element, a column per month
    elements = _rows(tables[2], "chart-numbers")
    assert len(elements) == 15
    assert all(len(row) == 13 for row in elements)
    # runaways per month
    assert ["feb &#39;26", "2"] in _rows(tables[-1], "chart-numbers")
    assert all(e["action"] != "search" for e in world.access(world.girl))


@sqlite_only
@pytest.mark.parametrize("who", ["researcher", "inspector", "admin", "aftercare"])
def test_roles_that_do_not_look_after_the_organisations_girls_may_not_open_the_pages(
    world: World, who: str
) -> None:
    with world.browser(who) as b:
        for path in PAGES:
            answer = b.get(path)
            assert answer.status_code == 403, (who, path)
            assert 'href="/app/dashboard"' not in answer.text


@sqlite_only
@pytest.mark.parametrize("who", ["coordinator", "quality"])
def test_the_pages_are_in_the_menu_and_show_no_english_word_or_code(
    world: World, who: str
) -> None:
    runaways_and_signals(world)
    english = english_only_words()
    with world.browser(who) as b:
        for path in PAGES:
            answer = b.get(path)
            assert answer.status_code == 200
            for href in PAGES:
                assert f'href="{href}"' in answer.text
            found = [w for w in untranslated(shown_text(answer.text), english)
                     if w not in PEOPLE]
            assert found == [], (who, path, found)


@sqlite_only
@pytest.mark.parametrize("bad", ["0001-01-01", "9999-12-31", "2026-02-30", "x", ""])
def test_a_period_at_the_calendars_ends_or_not_a_day_is_no_failure(
    world: World, bad: str
) -> None:
    with world.browser("coordinator") as b:
        for params in ({"from": bad}, {"to": bad}, {"from": bad, "to": bad}):
            answer = b.get("/app/register/runaways", params=params)
            assert answer.status_code == 200, (params, answer.text[:500])


@sqlite_only
def test_no_query_string_of_the_organisation_pages_gets_a_5xx(world: World) -> None:
    queries = st.lists(st.tuples(st.sampled_from(QUERY_NAMES) | st.text(max_size=8), values),
                       max_size=4)
    for who in ("coordinator", "quality"):
        with world.browser(who) as b:
            fuzz_queries(b, list(PAGES), queries)
