"""Teams and least privilege (issue 18): a coordinator reaches the files of the girls of
her teams and of those she is responsible for, and no other; a team change moves that
access on the day it is dated; an intake places her with a team; the administrator
manages the teams, every act access-logged. Over real HTTP, on both stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.api_support import INTAKE, assert_problem, intake_named
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication
from trajectory.identity.teams import Teams

ORG = "Stichting Zonnebloem"
OTHER_ORG = "Jeugdzorg Noordkaap"
SUPERVISED = {"level": "supervised", "reason": "onder begeleiding van de groepsleiding"}


@dataclass
class TeamWorld:
    """Two teams of one organisation (De Linde and Noord), a coordinator in each, one in
    both, an administrator; another organisation with a team and a coordinator of its own."""

    live: Live
    tokens: dict[str, str]
    linde: str
    noord: str
    elsewhere: str

    def client(self, who: str) -> httpx.Client:
        return self.live.client(self.tokens[who])

    def intake(self, who: str, name: str, **body: Any) -> str:
        """A girl taken in by `who` (placed with her one team unless the body says)."""
        with self.client(who) as http:
            answer = http.post("/trajectories", json={**intake_named(name), **body})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


PEOPLE = {
    # who: (role, organisation, display name)
    "anna": ("coordinator", ORG, "Anna de Vries"),
    "bea": ("coordinator", ORG, "Bea Smit"),
    "cor": ("coordinator", ORG, "Cor Willems"),
    "admin": ("admin", ORG, "Sanne Visser"),
    "nina": ("aftercare", ORG, "Nina Bos"),
    "otto": ("coordinator", OTHER_ORG, "Otto Kramer"),
    "admin-b": ("admin", OTHER_ORG, "Lotte Mulder"),
}


@pytest.fixture
def world(app: TrajectoryApplication) -> Iterator[TeamWorld]:
    with live_server(app) as live:
        tokens = {}
        for who, (role, org, shown) in PEOPLE.items():
            _, tokens[who] = live.services.users.add(
                name=who, role=role, organisation=org, now=app.clock(), user_id=who,
                display_name=shown)
        teams = Teams(app.db)
        linde = teams.create(ORG, "Groepswonen De Linde", by="admin", now=app.clock()).team_id
        noord = teams.create(ORG, "Ambulant team Noord", by="admin", now=app.clock()).team_id
        elsewhere = teams.create(OTHER_ORG, "Team Kaap", by="admin-b", now=app.clock()).team_id
        for team, who in ((linde, "anna"), (noord, "bea"), (linde, "cor"), (noord, "cor"),
                          (elsewhere, "otto")):
            teams.add_member(team, who, by="admin", now=app.clock())
        yield TeamWorld(live, tokens, linde, noord, elsewhere)


def _summary(world: TeamWorld, who: str, tid: str) -> int:
    with world.client(who) as http:
        return http.get(f"/trajectories/{tid}").status_code


def _write(world: TeamWorld, who: str, tid: str) -> httpx.Response:
    with world.client(who) as http:
        return http.put(f"/trajectories/{tid}/permissions/internet", json=SUPERVISED)


def _place(world: TeamWorld, who: str, tid: str, team: str, on: str) -> httpx.Response:
    with world.client(who) as http:
        return http.post(f"/trajectories/{tid}/team-assignments",
                         json={"team": team, "reason": "verhuisd", "occurred_on": on})


# -- who reaches her file ------------------------------------------------------------------------


def test_a_coordinator_of_another_team_gets_404_on_her_summary_and_on_a_write(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    # given a girl taken in by Anna, placed with De Linde (Anna's one team)
    tid = world.intake("anna", "Noor Linde")
    assert app.get(_uuid(tid)).state.team == world.linde
    version = app.current_version(_uuid(tid))
    # when Bea, of the ambulatory team, opens her summary or records on her file
    summary = _summary(world, "bea", tid)
    write = _write(world, "bea", tid)
    # then both answer as for a file that does not exist, and nothing is recorded
    assert summary == 404
    assert_problem(write, 404)
    assert app.current_version(_uuid(tid)) == version
    # while Anna, and Cor (a member of De Linde too), reach it
    assert _summary(world, "anna", tid) == 200
    assert _summary(world, "cor", tid) == 200
    # and the refused attempts are in her access log, as refused reads and writes are
    denied = [r for r in world.live.services.access.for_trajectory(tid)
              if r["user_id"] == "bea"]
    assert {(r["action"], r["outcome"]) for r in denied} == {("read", "denied"),
                                                              ("write", "denied")}


def test_a_team_change_moves_her_file_to_the_new_team_on_the_day_it_is_dated(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    # given a girl of De Linde, whom Bea (of the ambulatory team) does not reach
    tid = world.intake("anna", "Noor Verhuisd")
    assert _summary(world, "bea", tid) == 404
    # when Anna places her with the ambulatory team, dated a week ago
    placed = _place(world, "anna", tid, world.noord, "2026-02-23")
    assert placed.status_code == 201, placed.text
    # then Bea, of the ambulatory team, reaches her file and records on it
    assert _summary(world, "bea", tid) == 200
    assert _write(world, "bea", tid).status_code == 201
    # and a coordinator of De Linde only, who is not responsible for her, no longer does
    # (Cor, once she leaves the ambulatory team; Anna took her in and stays responsible)
    assert _summary(world, "cor", tid) == 200
    _drop(app, world.noord, "cor")
    assert _summary(world, "cor", tid) == 404
    # when a placement dated before that one is typed in late (De Linde, two weeks ago)
    late = _place(world, "bea", tid, world.linde, "2026-02-16")
    assert late.status_code == 201, late.text
    # then she stays with the team of the latest day: the ambulatory team
    assert app.get(_uuid(tid)).state.team == world.noord
    assert _summary(world, "bea", tid) == 200
    assert _summary(world, "cor", tid) == 404
    # and the moment of each change is in her history, as dated
    with world.client("bea") as http:
        events = http.get(f"/trajectories/{tid}/events").json()
    placed_on = [(e["data"]["team"], e["occurred_on"]) for e in _items(events)
                 if e["type"] == "TeamAssigned"]
    assert placed_on == [(world.linde, INTAKE["intake_date"]), (world.noord, "2026-02-23"),
                         (world.linde, "2026-02-16")]


def test_the_responsible_coordinator_keeps_her_file_whatever_the_team(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    # given a girl taken in by Anna (so Anna is responsible for her), moved to Noord
    tid = world.intake("anna", "Noor Verantwoordelijk")
    assert _place(world, "anna", tid, world.noord, "2026-02-25").status_code == 201
    # then Anna, of De Linde only, still reads and records on her file
    assert _summary(world, "anna", tid) == 200
    assert _write(world, "anna", tid).status_code == 201
    # when Bea is made responsible for her
    with world.client("anna") as http:
        made = http.post(f"/trajectories/{tid}/coordinator-assignments",
                         json={"coordinator": "bea", "reason": "overdracht binnen het team"})
    assert made.status_code == 201, made.text
    # then Anna no longer reaches it, and Bea keeps it even back in De Linde
    assert _summary(world, "anna", tid) == 404
    assert _place(world, "bea", tid, world.linde, "2026-02-27").status_code == 201
    assert _summary(world, "bea", tid) == 200
    assert _summary(world, "anna", tid) == 200  # De Linde's again
    # and a coordinator of another organisation is never one to be made responsible
    with world.client("bea") as http:
        other = http.post(f"/trajectories/{tid}/coordinator-assignments",
                          json={"coordinator": "otto"})
    body = assert_problem(other, 409)
    assert body["rule"] == "coordinator-unknown"
    assert body["unmet"] == ["coordinator"]


def test_a_girl_without_a_team_is_seen_by_every_coordinator_of_her_organisation(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    # given a coordinator in no team, taking a girl in: she is placed with none
    Teams(app.db).remove_member(world.linde, "anna", by="admin", now=app.clock())
    tid = world.intake("anna", "Noor Zonder Team")
    assert app.get(_uuid(tid)).state.team is None
    # then every coordinator of the organisation reaches her; another's does not
    assert [_summary(world, who, tid) for who in ("anna", "bea", "cor", "otto")] == [
        200, 200, 200, 404]


# -- the intake places her with a team -----------------------------------------------------------


def test_an_intake_by_a_coordinator_of_two_teams_without_a_team_is_refused_naming_team(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    before = len(app.index())
    # when Cor, of both teams, takes a girl in without saying with which
    with world.client("cor") as http:
        refused = http.post("/trajectories", json=INTAKE)
        # then it is refused, naming the team, and nothing is recorded
        body = assert_problem(refused, 409)
        assert body["rule"] == "team-required"
        assert body["unmet"] == ["team"]
        assert len(app.index()) == before
        # and with the team named, she is taken in and placed with it
        taken = http.post("/trajectories", json={**INTAKE, "team": world.noord})
    assert taken.status_code == 201, taken.text
    assert app.get(_uuid(taken.json()["id"])).state.team == world.noord
    # the refused intake is access-logged as refused
    refusals = app.db.fetchall(
        "SELECT outcome FROM access_log WHERE user_id = 'cor' AND action = 'write'")
    assert [r["outcome"] for r in refusals] == ["refused", "ok"]


@pytest.mark.parametrize("which", ["unknown", "other-organisation", "retired"])
def test_an_unknown_team_is_refused_naming_team(
    world: TeamWorld, app: TrajectoryApplication, which: str
) -> None:
    teams = Teams(app.db)
    if which == "retired":
        retired = teams.create(ORG, "Nachtdienst", by="admin", now=app.clock()).team_id
        teams.retire(retired, now=app.clock())
    team = {"unknown": "no-such-team", "other-organisation": world.elsewhere,
            "retired": retired if which == "retired" else ""}[which]
    tid = world.intake("anna", "Noor Bekend")
    version = app.current_version(_uuid(tid))
    before = len(app.index())
    # when a coordinator takes a girl in, or places one, with a team not of hers to choose
    with world.client("anna") as http:
        at_intake = http.post("/trajectories", json={**intake_named("Noor Onbekend"),
                                                     "team": team})
    placed = _place(world, "anna", tid, team, "2026-02-28")
    # then each is refused naming the team, and nothing is recorded
    for answer in (at_intake, placed):
        body = assert_problem(answer, 409)
        assert body["rule"] == "team-unknown", body
        assert body["unmet"] == ["team"]
        assert "Noordkaap" not in answer.text
        assert "Team Kaap" not in answer.text
    assert len(app.index()) == before
    assert app.current_version(_uuid(tid)) == version


# -- the administrator manages the teams ---------------------------------------------------------


def test_the_admin_manages_her_teams_and_every_act_is_access_logged(
    world: TeamWorld, app: TrajectoryApplication
) -> None:
    with world.client("admin") as http:
        # when the admin adds a team, a coordinator and an aftercare worker to it
        added = http.post("/teams", json={"name": "  Nachtdienst  "})
        assert added.status_code == 201, added.text
        team = added.json()
        assert (team["name"], team["members"]) == ("Nachtdienst", [])
        with_anna = http.post(f"/teams/{team['id']}/members", json={"user_id": "anna"})
        assert with_anna.status_code == 201, with_anna.text
        http.post(f"/teams/{team['id']}/members", json={"user_id": "nina"})
        # then the list names the members by their display names
        listed = {t["name"]: t for t in http.get("/teams").json()}
        assert [m["name"] for m in listed["Nachtdienst"]["members"]] == ["Anna de Vries",
                                                                         "Nina Bos"]
        # refusals name the field, and reveal nothing of another organisation
        taken = http.post("/teams", json={"name": "nachtdienst"})
        assert assert_problem(taken, 409)["rule"] == "team-name-taken"
        assert taken.json()["errors"][0]["field"] == "name"
        stranger = http.post(f"/teams/{team['id']}/members", json={"user_id": "otto"})
        assert assert_problem(stranger, 422)["errors"][0]["field"] == "user_id"
        twice = http.post(f"/teams/{team['id']}/members", json={"user_id": "anna"})
        assert assert_problem(twice, 409)["rule"] == "team-member-already"
        theirs = http.post(f"/teams/{world.elsewhere}/members", json={"user_id": "anna"})
        assert_problem(theirs, 404)
        assert "Team Kaap" not in theirs.text
        # when she removes a member and retires the team
        assert http.delete(f"/teams/{team['id']}/members/nina").status_code == 204
        retired = http.post(f"/teams/{team['id']}/retirement")
        assert retired.status_code == 200, retired.text
        assert retired.json()["retired"] is True
        assert "Nachtdienst" not in {t["name"] for t in http.get("/teams").json()}
        again = http.post(f"/teams/{team['id']}/retirement")
        assert assert_problem(again, 409)["rule"] == "team-retired"
    # then the membership ended keeps its row, with its end
    ended = [m for m in Teams(app.db).memberships(ORG) if m.team_id == team["id"]]
    assert {(m.user_id, m.removed_at is not None) for m in ended} == {("anna", False),
                                                                     ("nina", True)}
    # and every act, refused ones too, is in the access log under its own action
    acts = app.db.fetchall(
        "SELECT action, outcome FROM access_log WHERE user_id = 'admin' AND action LIKE"
        " 'team-%' ORDER BY entry_id")
    assert [(r["action"], r["outcome"]) for r in acts] == [
        ("team-add", "ok"), ("team-member-add", "ok"), ("team-member-add", "ok"),
        ("team-add", "refused"), ("team-member-add", "refused"),
        ("team-member-add", "refused"), ("team-member-add", "denied"),
        ("team-member-remove", "ok"), ("team-retire", "ok"), ("team-retire", "refused"),
    ]


def test_coordinators_list_the_teams_and_only_the_admin_changes_them(world: TeamWorld) -> None:
    with world.client("cor") as http:
        listed = http.get("/teams")
        assert listed.status_code == 200
        assert sorted(t["name"] for t in listed.json()) == ["Ambulant team Noord",
                                                            "Groepswonen De Linde"]
        assert_problem(http.post("/teams", json={"name": "Eigen team"}), 403)
    with world.client("otto") as http:  # another organisation's teams only
        assert [t["name"] for t in http.get("/teams").json()] == ["Team Kaap"]
    with world.client("nina") as http:
        assert_problem(http.get("/teams"), 403)


# -- helpers -------------------------------------------------------------------------------------


def _uuid(tid: str) -> UUID:
    return UUID(tid)


def _items(events: Any) -> list[dict[str, Any]]:
    return list(events["items"] if isinstance(events, dict) else events)


def _drop(app: TrajectoryApplication, team: str, who: str) -> None:
    Teams(app.db).remove_member(team, who, by="admin", now=app.clock())
