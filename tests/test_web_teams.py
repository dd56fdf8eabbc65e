"""Teams on the pages (issue 18): the administrator's teams page (add a team, add and
remove a member chosen by name, retire a team, every act logged); the forms of a girl's
team and coordinator offering the organisation's teams and coordinators by name; the
intake asking for the team of a coordinator of several; her page and history naming her
team and her responsible coordinator, never an id."""

from __future__ import annotations

import re
from uuid import UUID

from tests.test_web_forms_offer import options_of, required_names
from tests.web_support import ORG_A, ORG_B, Browser, Page, World, csrf_of
from trajectory.identity.teams import Teams

TEAMS_PAGE = "/app/admin/teams"


def _teams_post(b: Browser, path: str, data: dict[str, str]) -> str:
    page = b.get(TEAMS_PAGE)
    answer = b.post(path, {"csrf_token": csrf_of(page.text), **data})
    return f"{answer.status_code} {answer.text}"


def _admin_acts(world: World) -> list[tuple[str, str]]:
    rows = world.app.db.fetchall(
        "SELECT action, outcome FROM access_log WHERE user_id = 'admin' AND action LIKE"
        " 'team-%' ORDER BY entry_id")
    return [(str(r["action"]), str(r["outcome"])) for r in rows]


def _two_teams(world: World) -> tuple[str, str]:
    """De Linde and Noord in the girls' organisation; the coordinator in De Linde."""
    teams = Teams(world.app.db)
    linde = teams.create(ORG_A, "Groepswonen De Linde", by="admin", now=world.clock())
    noord = teams.create(ORG_A, "Ambulant team Noord", by="admin", now=world.clock())
    teams.add_member(linde.team_id, "coordinator", by="admin", now=world.clock())
    return linde.team_id, noord.team_id


def test_the_admin_adds_a_team_and_a_member_on_her_teams_page(world: World) -> None:
    world.services.users.add(name="joris", role="coordinator", organisation=ORG_A,
                             now=world.clock(), display_name="Joris Vos")
    with world.browser("admin") as b:
        # given the admin on her teams page, reached from her menu
        assert f'href="{TEAMS_PAGE}"' in b.get("/app/admin").text
        empty = b.get(TEAMS_PAGE)
        assert empty.status_code == 200, empty.text
        assert "Teams van uw organisatie" in empty.text
        assert "Uw organisatie heeft nog geen teams." in empty.text
        # when she adds a team
        added = b.submit(TEAMS_PAGE, {"name": "Groepswonen De Linde"})
        assert added.status_code == 200, added.text
        assert "Het team Groepswonen De Linde is toegevoegd." in added.text
        (team,) = Teams(world.app.db).of_organisation(ORG_A)
        # then it offers her organisation's coordinators and aftercare workers by name,
        # no one of another organisation and no one of another role
        offered = options_of(added.text, "user_id")
        assert sorted(offered) == sorted(
            u.user_id for u in world.services.users.all()
            if u.organisation == ORG_A and u.role in ("coordinator", "aftercare"))
        assert "Joris Vos (behandelcoördinator)" in added.text
        assert "Bram Jansen" not in added.text
        # when she adds the coordinator to it
        done = _teams_post(b, f"{TEAMS_PAGE}/{team.team_id}/members",
                           {"user_id": "coordinator"})
        assert done.startswith("200"), done
        assert "Marieke de Graaf hoort nu bij het team Groepswonen De Linde." in done
        assert Teams(world.app.db).members(team.team_id) == ["coordinator"]
        # a user of another organisation is refused at the field, in Dutch
        stranger = _teams_post(b, f"{TEAMS_PAGE}/{team.team_id}/members",
                               {"user_id": "coordinator-b"})
        assert stranger.startswith("422"), stranger
        assert "Er is geen gebruiker van uw organisatie" in stranger
        # a second team by the same name is refused at the field
        twice = b.submit(TEAMS_PAGE, {"name": "groepswonen de linde"})
        assert twice.status_code == 409
        assert "Uw organisatie heeft al een team met die naam." in twice.text
        # when she removes the member, and retires the team (confirming)
        removed = _teams_post(
            b, f"{TEAMS_PAGE}/{team.team_id}/members/coordinator/removal", {})
        assert "hoort niet meer bij het team" in removed, removed
        unconfirmed = _teams_post(b, f"{TEAMS_PAGE}/{team.team_id}/retirement", {})
        assert unconfirmed.startswith("422"), unconfirmed
        retired = _teams_post(b, f"{TEAMS_PAGE}/{team.team_id}/retirement", {"confirm": "yes"})
        assert "Het team Groepswonen De Linde is opgeheven." in retired
        page = b.get(TEAMS_PAGE).text
    # then the page is Dutch, labelled, and shows no id; every act is logged
    assert "Uw organisatie heeft nog geen teams." in page
    shown = Page.of(page)
    assert shown.unlabelled() == []
    assert team.team_id not in shown.all_text()
    assert not re.search(r"\b[0-9a-f]{12}\b", shown.all_text())
    assert _admin_acts(world) == [
        ("team-add", "ok"), ("team-member-add", "ok"), ("team-member-add", "refused"),
        ("team-add", "refused"), ("team-member-remove", "ok"), ("team-retire", "denied"),
        ("team-retire", "ok")]


def test_another_organisations_team_is_not_found_on_the_page(world: World) -> None:
    theirs = Teams(world.app.db).create(ORG_B, "Team Kaap", by="admin-b", now=world.clock())
    with world.browser("admin") as b:
        answer = _teams_post(b, f"{TEAMS_PAGE}/{theirs.team_id}/retirement",
                             {"confirm": "yes"})
    assert answer.startswith("404"), answer
    assert "Team Kaap" not in answer
    assert not Teams(world.app.db).get(theirs.team_id).retired  # type: ignore[union-attr]
    assert _admin_acts(world) == [("team-retire", "denied")]


def test_the_intake_form_asks_the_team_of_a_coordinator_of_two_teams(world: World) -> None:
    linde, noord = _two_teams(world)
    with world.browser("coordinator") as b:
        # given a coordinator of one team: her team is chosen already
        one = b.get("/app/trajectories/new").text
        assert sorted(options_of(one, "team")) == sorted([linde, noord])
        assert f'<option value="{linde}" selected>Groepswonen De Linde</option>' in one
        assert "team" not in required_names(one)
        # given she belongs to the second team too: she must choose
        Teams(world.app.db).add_member(noord, "coordinator", by="admin", now=world.clock())
        two = b.get("/app/trajectories/new").text
        assert "team" in required_names(two)
        assert " selected>Ambulant team Noord" not in two
        assert "U hoort bij meer dan één team" in two
        body = {"intake_date": "2026-03-01", "victim_status": "suspected",
                "risk_profiles": "traumatised", "setting": "residential",
                "referral_source": "politie", "legal_framework": "ots",
                "identity.name": "Eva Tweeteams", "identity.date_of_birth": "2010-06-01",
                "identity.home_region": "Utrecht"}
        # when she sends it without a team: refused at the field
        refused = b.submit("/app/trajectories/new", body)
        assert refused.status_code == 422, refused.text
        assert re.search(r'<select[^>]*name="team"[^>]*aria-invalid="true"', refused.text)
        # with the team: taken in, placed with it
        taken = b.submit("/app/trajectories/new", {**body, "team": noord},
                         follow_redirects=False)
    assert taken.status_code == 303, taken.text
    tid = taken.headers["location"].rsplit("/", 1)[-1].split("?")[0]
    assert world.app.get(_uuid(tid)).state.team == noord


def test_the_team_and_coordinator_forms_offer_by_name_and_her_page_names_them(
    world: World
) -> None:
    linde, noord = _two_teams(world)
    world.services.users.add(name="joris", role="coordinator", organisation=ORG_A,
                             now=world.clock(), user_id="joris", display_name="Joris Vos")
    form = f"/app/trajectories/{world.girl}/forms"
    with world.browser("coordinator") as b:
        # given her page before she is placed with a team
        before = b.get(f"/app/trajectories/{world.girl}").text
        assert "niet bij een team geplaatst" in before
        assert "Verantwoordelijke coördinator: Marieke de Graaf" in before
        # the team form offers the organisation's teams by name
        page = b.get(f"{form}/team").text
        assert sorted(options_of(page, "team")) == sorted([linde, noord])
        assert ">Groepswonen De Linde</option>" in page
        # when she places her with De Linde
        placed = b.submit(f"{form}/team", {"team": linde, "reason": "woont op de groep"},
                          follow_redirects=False)
        assert placed.status_code == 303, placed.text
        # then the team form no longer offers her own team
        assert options_of(b.get(f"{form}/team").text, "team") == [noord]
        # the coordinator form offers the organisation's other coordinators by name
        coordinators = b.get(f"{form}/coordinator").text
        assert options_of(coordinators, "coordinator") == ["joris"]
        assert ">Joris Vos</option>" in coordinators
        assert "Bram Jansen" not in coordinators
        # and her page names her team and her responsible coordinator; the history the team
        after = b.get(f"/app/trajectories/{world.girl}").text
        history = b.get(f"/app/trajectories/{world.girl}/history").text
    assert "Team: Groepswonen De Linde" in after
    assert "Verantwoordelijke coördinator: Marieke de Graaf" in after
    assert "Geplaatst bij een team" in history
    assert "Groepswonen De Linde" in history
    for text in (after, history):
        assert linde not in Page.of(text).all_text()


def _uuid(tid: str) -> UUID:
    return UUID(tid)
