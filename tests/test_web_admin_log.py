"""The administrator's access log page (issue 17, part 8): found by the girl's name and by
her short id, newest first, every person by her name (never an id); another
organisation's girl is not found; the search itself is logged."""

from __future__ import annotations

import re

from tests.web_support import GIRL, ORG_A, OTHER_GIRL, World, csrf_of
from trajectory.access_log import AccessEntry
from trajectory.application import Actor


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="entry">(.*?)</tr>', html, re.S)


def test_the_log_is_found_by_her_name_newest_first(world: World) -> None:
    # given the coordinator opened the girl's page twice, ten minutes apart
    with world.browser("coordinator") as b:
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 200
        world.clock.advance(minutes=10)
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 200
    # when the admin searches the log by part of her name
    with world.browser("admin") as b:
        page = b.get("/app/admin/log", params={"name": GIRL.split()[0].lower()})
    # then the entries about her, newest first, by the coordinator's name
    assert page.status_code == 200, page.text
    rows = _rows(page.text)
    assert rows, page.text
    short = str(world.girl)[:8]
    assert all(short in r for r in rows)
    assert str(world.girl) not in page.text  # no whole hex id on the page
    # every entry about her before this search (whose own entry names her too)
    assert len(rows) == len(world.access(world.girl)) - 1
    assert "<td>Marieke de Graaf</td>" in rows[0]
    assert "10:10:30" in rows[0]
    assert "10:00:30" in rows[1]
    # the search is logged, naming the girl it matched
    last = world.access()[-1]
    assert (last["user_id"], last["action"], last["shown"]) == (
        "admin", "audit-read", str(world.girl))


def test_the_log_is_found_by_short_id_and_full_id(world: World) -> None:
    with world.browser("coordinator") as b:
        b.get(f"/app/trajectories/{world.girl}")
    with world.browser("admin") as b:
        by_short = b.get("/app/admin/log", params={"trajectory": str(world.girl)[:8]})
        by_full = b.get("/app/admin/log", params={"trajectory": str(world.girl)})
    # the same entries; the second search also finds the first (it named her)
    assert _rows(by_short.text)
    assert _rows(by_full.text)[1:] == _rows(by_short.text)
    assert "logboek inzien" in _rows(by_full.text)[0]


def test_newest_first_and_paged(world: World) -> None:
    with world.browser("admin") as b:
        for _ in range(3):
            b.get("/app/admin/log")
        page = b.get("/app/admin/log", params={"user": "admin", "action": "audit-read"})
    rows = _rows(page.text)
    assert len(rows) == 3  # the searches before this one
    ids = [e["entry_id"] for e in world.app.db.fetchall(
        "SELECT entry_id FROM access_log WHERE action = 'audit-read' ORDER BY entry_id DESC")]
    assert ids == sorted(ids, reverse=True)
    found = world.services.access.search("Stichting Zonnebloem", action="audit-read",
                                         limit=2, offset=0)
    assert [e["entry_id"] for e in found] == ids[:2]


def test_another_organisations_girl_is_not_found(world: World) -> None:
    with world.browser("coordinator-b") as b:
        b.get(f"/app/trajectories/{world.other_girl}")
    with world.browser("admin") as b:
        page = b.get("/app/admin/log", params={"name": OTHER_GIRL})
    assert _rows(page.text) == []
    assert "Geen regels gevonden." in page.text


def test_refused_acts_are_found_by_outcome(world: World) -> None:
    # given a refused act: the admin tried to revoke herself
    with world.browser("admin") as b:
        page = b.get("/app/admin/users")
        b.post("/app/admin/users/admin/revocation", {"csrf_token": csrf_of(page.text)})
        # when she searches the log for refused acts
        found = b.get("/app/admin/log", params={"outcome": "refused"})
    # then it is there, saying what was tried
    rows = _rows(found.text)
    assert len(rows) == 1
    assert "gebruiker intrekken" in rows[0]
    assert "afgewezen" in rows[0]


def test_each_person_is_shown_by_her_name_not_her_id(world: World) -> None:
    # given a user whose id is not her name read the girl's file
    user, _ = world.services.users.add(name="Mira Mulder", role="coordinator",
                                       organisation=ORG_A, now=world.clock())
    world.services.access.append(AccessEntry.by(
        Actor(user_id=user.user_id, role="coordinator", organisation=ORG_A),
        at=world.clock(), action="read", outcome="ok", trajectory_id=str(world.girl)))
    # when the admin reads the log, on the log page and on the trajectory's log
    with world.browser("admin") as b:
        pages = [b.get("/app/admin/log", params={"trajectory": str(world.girl)[:8]}).text,
                 b.get("/app/admin", params={"trajectory": str(world.girl)}).text]
    # then by her name, as the history names her
    for html in pages:
        assert "Mira Mulder" in html
        assert user.user_id not in html
