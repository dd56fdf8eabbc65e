"""Every list a coordinator reads shows only the girls she works with (issue 18, least
privilege): the girls of her teams, those she is the responsible coordinator of, and
those not yet placed with a team. The caseload (its search, filters and counts), this
week, the agenda feed, the runaway and signal registers, the girls out of view and the
quality page's names, over the pages and over the API alike, and the access-log entry
of each list names only what it showed. Counts of the organisation stay its counts.

The story: one organisation with two teams, Noord and Zuid. Anna is in team Noord, Bente
in team Zuid; Noor (the world's girl) is in no team yet. Coordinator "coord-a" belongs to
Noord, "coord-b" to Zuid; "coord-c" belongs to no team but is Bente's responsible
coordinator. Both Anna and Bente ran away.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
import pyotp
import pytest
from icalendar import Calendar

from tests.builders import intake, left_care
from tests.live import Live, live_server
from tests.web_support import GIRL, ORG_A, PASSWORD, World, csrf_of
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor
from trajectory.calendar_feeds import CalendarFeeds
from trajectory.commands import (
    AssignCoordinator,
    AssignTeam,
    RecordSignal,
    ReportRunaway,
)
from trajectory.identity.credentials import Credentials
from trajectory.identity.teams import Teams

ANNA = "Anna Noordhoek"
BENTE = "Bente Zuidema"
COORDINATORS = {"coord-a": "Noord", "coord-b": "Zuid", "coord-c": None}
"""Each coordinator of the story and the team she belongs to (None: none)."""


@dataclass
class Story:
    world: World
    teams: dict[str, str]
    """team name -> id"""
    anna: UUID
    bente: UUID
    tokens: dict[str, str]

    def actor(self, who: str) -> Actor:
        return Actor(user_id=who, role="coordinator", organisation=ORG_A)

    def rows(self, who: str, action: str = "search") -> list[dict[str, Any]]:
        return [e for e in self.world.access()
                if e["user_id"] == who and e["action"] == action]

    @contextmanager
    def api(self) -> Iterator[Live]:
        with live_server(self.world.app) as live:
            yield live

    def get(self, live: Live, who: str, path: str, **params: Any) -> Any:
        """The JSON answer of a GET over real HTTP, asked with her token."""
        with live.client(self.tokens[who]) as http:
            answer = http.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _girl(story_world: World, name: str, team: str, by: Actor) -> UUID:
    identity = Identity(name=name, date_of_birth=date(2010, 4, 1), home_region="Utrecht")
    command = msgspec.structs.replace(intake(identity=identity), team=team)
    return story_world.app.open_trajectory(command, by).trajectory_id


@pytest.fixture
def story(world: World) -> Story:
    app, now = world.app, world.clock()
    teams = Teams(app.db)
    ids = {name: teams.create(ORG_A, name, by="admin", now=now).team_id
           for name in ("Noord", "Zuid")}
    assert app.keys is not None
    credentials = Credentials(app.db, app.keys)
    tokens: dict[str, str] = {}
    for who, team in COORDINATORS.items():
        _, tokens[who] = world.services.users.add(
            name=who, role="coordinator", organisation=ORG_A, now=now, user_id=who,
            display_name=f"Coördinator {who[-1].upper()}")
        credentials.set_password(who, PASSWORD)
        world.secrets[who] = pyotp.random_base32()
        credentials.save_totp(who, world.secrets[who])
        if team is not None:
            teams.add_member(ids[team], who, by="admin", now=now)
    s = Story(world, ids, anna=UUID(int=0), bente=UUID(int=0), tokens=tokens)
    s.anna = _girl(world, ANNA, ids["Noord"], s.actor("coord-a"))
    s.bente = _girl(world, BENTE, ids["Zuid"], s.actor("coord-b"))
    app.execute(s.bente, AssignCoordinator(coordinator="coord-c"), s.actor("coord-b"))
    for tid, who in ((s.anna, "coord-a"), (s.bente, "coord-b")):
        app.execute(tid, ReportRunaway(from_where="de groep"), s.actor(who))
        app.execute(tid, RecordSignal(kind="loverboy"), s.actor(who))
    return s


def _shown(entry: dict[str, Any]) -> set[str]:
    return set(str(entry["shown"] or "").split())


# -- the caseload ---------------------------------------------------------------------------


def test_the_caseload_lists_the_girls_of_her_team_and_those_without_a_team(story: Story) -> None:
    world = story.world
    # given coord-a of team Noord
    with world.browser("coord-a") as b:
        # when she opens her caseload
        page = b.get("/app/caseload")
    # then Anna (her team's) and Noor (no team yet) are on it, Bente (team Zuid) is not
    assert page.status_code == 200
    assert ANNA in page.text
    assert GIRL in page.text
    assert BENTE not in page.text
    # and Anna's card names her team; Noor's says she has none, with the form to place her
    assert "Team: Noord" in page.text
    assert "Nog geen team" in page.text
    assert f'href="/app/trajectories/{world.girl}/forms/team"' in page.text
    assert f'href="/app/trajectories/{story.anna}/forms/team"' not in page.text
    # and the page's access-log entry names the girls it showed, not Bente
    (entry,) = story.rows("coord-a")
    assert {str(story.anna), str(world.girl)} <= _shown(entry)
    assert str(story.bente) not in _shown(entry)


def test_the_responsible_coordinator_sees_her_girl_outside_her_teams(story: Story) -> None:
    # given coord-c, of no team, responsible for Bente of team Zuid
    with story.world.browser("coord-c") as b:
        page = b.get("/app/caseload")
    # then she sees Bente and the girl without a team, not Anna of team Noord
    assert BENTE in page.text
    assert GIRL in page.text
    assert ANNA not in page.text


def test_the_search_opens_only_the_girls_she_works_with(story: Story) -> None:
    with story.world.browser("coord-a") as b:
        page = b.get("/app/caseload")
        # when coord-a searches for Bente, of another team
        bente = b.post("/app/caseload", {"csrf_token": csrf_of(page.text), "q": "Bente"})
        # and for Anna, of her own
        anna = b.post("/app/caseload", {"csrf_token": csrf_of(page.text), "q": "Anna"})
    # then Bente is no hit of her caseload: she is listed apart, by name, with no way into
    # her file but emergency access
    assert "Buiten uw teams" in bente.text
    assert f'href="/app/trajectories/{story.bente}"' not in bente.text
    assert f'href="/app/trajectories/{story.bente}/emergency-access"' in bente.text
    # and her file's log says her name was shown to coord-a by a search
    logged = story.rows("coord-a")
    assert any(e["trajectory_id"] == str(story.bente) and e["action"] == "search"
               for e in logged)
    # and Anna is found as one of hers
    assert ANNA in anna.text
    assert f'href="/app/trajectories/{story.anna}"' in anna.text
    assert any(e["trajectory_id"] == str(story.anna) for e in logged)


def test_the_caseload_over_the_api_lists_and_counts_only_her_girls(story: Story) -> None:
    with story.api() as live:
        # when coord-a asks for her caseload, whole and filtered
        whole = story.get(live, "coord-a", "/trajectories", limit=500)
        ran_away = story.get(live, "coord-a", "/trajectories", phase=1, overdue=True)
        # and coord-b for hers
        theirs = story.get(live, "coord-b", "/trajectories")
    ids = {i["id"] for i in whole["items"]}
    # then Anna and the girls without a team are hers, Bente is not, and the total agrees
    assert str(story.anna) in ids
    assert str(story.world.girl) in ids
    assert str(story.bente) not in ids
    assert whole["total"] == len(ids)
    assert str(story.bente) not in {i["id"] for i in ran_away["items"]}
    assert ran_away["total"] == len(ran_away["items"])
    # and each item says her team
    teams = {i["id"]: i["team"] for i in whole["items"]}
    assert teams[str(story.anna)] == story.teams["Noord"]
    assert teams[str(story.world.girl)] is None
    # and coord-b's lists Bente and the girl without a team, not Anna
    assert {str(story.bente), str(story.world.girl)} <= {i["id"] for i in theirs["items"]}
    assert str(story.anna) not in {i["id"] for i in theirs["items"]}


def test_when_she_moves_to_another_team_the_lists_follow(story: Story) -> None:
    world = story.world
    # given Bente placed with team Noord from today (her responsible coordinator stays
    # coord-c), and Anna with team Zuid, coord-b of Zuid now responsible for her
    world.app.execute(story.bente, AssignTeam(team=story.teams["Noord"], reason="verhuisd"),
                      story.actor("coord-b"))
    world.app.execute(story.anna, AssignTeam(team=story.teams["Zuid"], reason="verhuisd"),
                      story.actor("coord-a"))
    world.app.execute(story.anna, AssignCoordinator(coordinator="coord-b"),
                      story.actor("coord-a"))
    # when coord-a and coord-b open their caseload and the runaway register
    with world.browser("coord-a") as a:
        a_caseload = a.get("/app/caseload").text
        a_register = a.get("/app/register/runaways").text
    with world.browser("coord-b") as b:
        b_caseload = b.get("/app/caseload").text
        b_register = b.get("/app/register/runaways").text
    # then each girl is on the lists of her new team and off those of her old one
    assert BENTE in a_caseload
    assert BENTE in a_register
    assert ANNA not in a_caseload
    assert ANNA not in a_register
    assert ANNA in b_caseload
    assert ANNA in b_register
    assert BENTE not in b_caseload
    assert BENTE not in b_register
    # and the API follows too
    with story.api() as live:
        hers = story.get(live, "coord-a", "/trajectories")
    ids = {i["id"] for i in hers["items"]}
    assert str(story.bente) in ids
    assert str(story.anna) not in ids


# -- this week and the agenda feed -----------------------------------------------------------


def test_this_week_for_all_her_girls_leaves_out_another_team_s(story: Story) -> None:
    # given coord-a, asking for this week of all the girls she works with
    with story.world.browser("coord-a") as b:
        page = b.get("/app/week?scope=organisation")
        own = b.get("/app/week")
    # then Anna's items and those of the girl without a team are on it, Bente's are not
    assert page.status_code == 200
    assert ANNA in page.text
    assert GIRL in page.text
    assert BENTE not in page.text
    assert BENTE not in own.text
    assert "Alle meisjes met wie u werkt" in own.text
    # and the page's access-log entries do not name Bente
    assert all(str(story.bente) not in _shown(e) for e in story.rows("coord-a"))


def test_the_agenda_feed_carries_only_her_girls_dates(story: Story) -> None:
    world = story.world
    secrets = {who: CalendarFeeds(world.app.db).create(who, world.clock())
               for who in ("coord-a", "coord-c")}
    # when each coordinator's agenda app reads her feed
    with world.browser() as app:
        feeds = {who: " ".join(str(e["URL"]) for e in Calendar.from_ical(
                     app.get(f"/app/calendar/{secret}.ics").content).walk("VEVENT"))
                 for who, secret in secrets.items()}
    # then coord-a's leads to Anna's forms and never to Bente's; coord-c's the other way
    assert str(story.anna) in feeds["coord-a"]
    assert str(story.bente) not in feeds["coord-a"]
    assert str(story.bente) in feeds["coord-c"]
    assert str(story.anna) not in feeds["coord-c"]
    # and the fetch is logged naming only what it carried
    (entry,) = story.rows("coord-a", "calendar-read")
    assert str(story.anna) in _shown(entry)
    assert str(story.bente) not in _shown(entry)


# -- the registers --------------------------------------------------------------------------


def test_the_registers_name_only_her_girls_and_the_figures_stay_the_organisation_s(
    story: Story,
) -> None:
    world = story.world
    # given both Anna and Bente ran away and have a loverboy signal
    with world.browser("coord-a") as b:
        runaways = b.get("/app/register/runaways")
        signals = b.get("/app/register/signals")
    with world.browser("quality") as q:
        counted = q.get("/app/register/runaways")
    # then coord-a's registers name Anna, never Bente
    assert runaways.status_code == 200
    assert ANNA in runaways.text
    assert BENTE not in runaways.text
    assert ANNA in signals.text
    assert BENTE not in signals.text
    assert all(str(story.bente) not in _shown(e) for e in story.rows("coord-a"))
    assert f"/app/trajectories/{story.bente}" not in runaways.text + signals.text
    # and the quality officer's register counts both runaways (as counts, no names)
    assert counted.status_code == 200
    assert ANNA not in counted.text
    assert "<dt>Nog weg</dt><dd>2</dd>" in counted.text
    # while coord-a's figures count the runaways her register lists: Anna's
    assert "<dt>Nog weg</dt><dd>1</dd>" in runaways.text


# -- out of view ------------------------------------------------------------------------------


def test_the_girls_out_of_view_are_those_she_works_with(story: Story) -> None:
    world = story.world
    # given Anouk of team Noord and Bo of team Zuid (Bente's responsible coordinator
    # responsible for her too) both left care without a warm handover: out of view
    anouk = _girl(world, "Anouk Noordwijk", story.teams["Noord"], story.actor("coord-a"))
    bo = _girl(world, "Bo Zuidwolde", story.teams["Zuid"], story.actor("coord-b"))
    world.app.execute(bo, AssignCoordinator(coordinator="coord-c"), story.actor("coord-b"))
    for tid, who in ((anouk, "coord-a"), (bo, "coord-b")):
        world.app.execute(tid, left_care(), story.actor(who))
    # when coord-a opens the list of girls out of view, on the page and over the API
    with world.browser("coord-a") as b:
        page = b.get("/app/out-of-view")
    with story.api() as live:
        listed = story.get(live, "coord-a", "/out-of-view")
        theirs = story.get(live, "coord-c", "/out-of-view")
    # then Anouk is on it and Bo is not
    assert page.status_code == 200
    assert "Anouk Noordwijk" in page.text
    assert "Bo Zuidwolde" not in page.text
    ids = {i["trajectory_id"] for i in listed["items"]}
    assert str(anouk) in ids
    assert str(bo) not in ids
    # and Bo's responsible coordinator has her on hers, Anouk not
    assert {i["trajectory_id"] for i in theirs["items"]} & {str(anouk), str(bo)} == {str(bo)}
    # and neither list's access-log entry names a girl it did not show
    assert all(str(bo) not in _shown(e) for e in story.rows("coord-a"))
    assert any(str(anouk) in _shown(e) for e in story.rows("coord-a"))


# -- the quality page --------------------------------------------------------------------------


def test_the_quality_page_names_her_girls_and_counts_the_organisation(story: Story) -> None:
    world = story.world
    with world.browser("coord-a") as b:
        page = b.get("/app/quality")
    with story.api() as live:
        matrix = story.get(live, "coord-a", "/quality/core-elements")
    # then the rows per girl are Anna's and those without a team, not Bente's
    assert page.status_code == 200
    assert ANNA in page.text
    assert BENTE not in page.text
    rows = {r["id"] for r in matrix["trajectories"]}
    assert str(story.anna) in rows
    assert str(story.bente) not in rows
    # and the totals count every girl of the organisation, Bente too
    girls = len(world.app.index(ORG_A))
    for total in matrix["totals"]:
        assert sum(total[s] for s in ("evidenced", "waived", "due", "missing",
                                      "not_applicable")) == girls
    assert len(rows) < girls
