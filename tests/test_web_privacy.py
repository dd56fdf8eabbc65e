"""The privacy officer's pages (issue 18, parts 3 and 4): a girl's access report, found by
her name, every access with its basis marked by a sign and a word, printable and logged;
the access log page marks the bases too; the anomaly signals list a colleague who reached
a threshold, counts only."""

from __future__ import annotations

import re

from tests.web_support import GIRL, Page, World
from trajectory.commands import AssignCoordinator, AssignTeam
from trajectory.emergency import AccessSettings, EmergencyAccesses
from trajectory.identity.teams import Teams
from trajectory.visibility import break_the_glass

ORG_A = "Stichting Zonnebloem"


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="entry[^"]*">(.*?)</tr>', html, re.S)


def _three_accesses(world: World) -> None:
    """Her coordinator reads her page (relationship); she is placed with a team the
    coordinator is not in, with another coordinator responsible, and the coordinator is
    refused; then she reads it by emergency
    access."""
    with world.browser("coordinator") as b:
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 200
        team = Teams(world.app.db).create(ORG_A, "Groep Maan", by="admin", now=world.clock())
        world.services.users.add(name="coordinator-2", role="coordinator", organisation=ORG_A,
                                 now=world.clock(), user_id="coordinator-2",
                                 display_name="Anouk Smit")
        for command in (AssignTeam(team=team.team_id),
                        AssignCoordinator(coordinator="coordinator-2")):
            world.app.execute(world.girl, command, world.actor("coordinator"))
        world.clock.advance(minutes=5)
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 404
        world.clock.advance(minutes=5)
        break_the_glass(world.app.db, world.actor("coordinator"), world.girl, reason="crisis",
                        explanation="", write=False, now=world.clock())
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 200


def test_the_access_report_lists_every_access_with_its_basis_and_its_making_is_logged(
    world: World,
) -> None:
    # given three accesses to her file on three bases
    _three_accesses(world)
    # when the privacy officer finds her by name and opens her report
    with world.browser("privacy") as b:
        found = b.get("/app/privacy/access-report", params={"name": GIRL.split()[0]})
        assert found.status_code == 200, found.text
        link = f"/app/privacy/access-report/{world.girl}"
        assert link in found.text
        report = b.get(link)
        other = b.get(f"/app/privacy/access-report/{world.other_girl}")
    # then every access is listed with who, in which role, what and on which basis
    assert report.status_code == 200, report.text
    reads = [r for r in _rows(report.text) if "Marieke de Graaf" in r and "inzien" in r]
    assert len(reads) == 3, _rows(report.text)
    for row, word, mark in zip(reads, ("Relatie", "Geweigerd", "Noodtoegang"), "✓✕⚠",
                               strict=True):
        assert f'aria-hidden="true">{mark}</span> {word}</span>' in row, row
    assert "Reden: crisis" in reads[2]
    assert "<td>behandelcoördinator</td>" in reads[0]
    # and the report names her (it is made for her), never by an id
    assert f"<dd>{GIRL}</dd>" in report.text
    assert str(world.girl)[:8] not in " ".join(Page.of(report.text).text)
    # and on paper the menu and the form are left off (the print stylesheet)
    assert 'class="no-print"' in report.text
    assert 'class="filters period"' in report.text
    # and its making is in her access log; another organisation's girl is not found
    last = world.access(world.girl)[-1]
    assert (last["user_id"], last["action"], last["outcome"]) == (
        "privacy", "access-report", "ok")
    assert other.status_code == 404


def test_the_report_covers_the_period_asked_for(world: World) -> None:
    _three_accesses(world)
    with world.browser("privacy") as b:
        today = world.clock().date().isoformat()
        within = b.get(f"/app/privacy/access-report/{world.girl}",
                       params={"since": today, "until": today})
        before = b.get(f"/app/privacy/access-report/{world.girl}",
                       params={"until": "2026-01-01"})
        wrong = b.get(f"/app/privacy/access-report/{world.girl}",
                      params={"since": "2026-03-05", "until": "2026-03-01"})
    assert len([r for r in _rows(within.text) if "Marieke de Graaf" in r]) >= 3
    assert _rows(before.text) == []
    assert wrong.status_code == 422


def test_the_access_log_page_marks_the_three_bases_for_the_privacy_officer(
    world: World,
) -> None:
    _three_accesses(world)
    with world.browser("privacy") as b:
        page = b.get("/app/admin/log", params={"trajectory": str(world.girl)[:8]})
    assert page.status_code == 200, page.text
    reads = [r for r in _rows(page.text) if "Marieke de Graaf" in r]
    text = " ".join(reads)
    for word in ("Relatie", "Geweigerd", "Noodtoegang"):
        assert word in text, text
    assert "basis-emergency" in text
    assert "basis-refused" in text
    # the administration's own page is not hers: no link to it
    assert "/app/admin\"" not in page.text


def test_the_signals_list_a_colleague_who_reached_a_threshold(world: World) -> None:
    # given thresholds of one, and a coordinator refused and then by emergency access
    EmergencyAccesses(world.app.db).change_settings(ORG_A, AccessSettings(
        outside_team_threshold=1, emergency_threshold=1), by="admin", now=world.clock())
    _three_accesses(world)
    # when the privacy officer opens the signals
    with world.browser("privacy") as b:
        page = b.get("/app/privacy/anomalies")
        wrong = b.get("/app/privacy/anomalies", params={"from": "2026-03-05",
                                                        "to": "2026-03-01"})
        ancient = b.get("/app/privacy/anomalies", params={"to": "0001-01-01"})
    # then the coordinator is listed with her counts, marked as reaching two thresholds
    assert page.status_code == 200, page.text
    rows = _rows(page.text)
    assert len(rows) == 1, rows
    assert "Marieke de Graaf" in rows[0]
    assert rows[0].count("drempel bereikt") == 2
    assert GIRL not in page.text
    assert wrong.status_code == 422
    assert ancient.status_code == 422  # a day no log holds: said at the field, never a 500


def test_a_coordinator_may_not_open_the_privacy_pages(world: World) -> None:
    with world.browser("coordinator") as b:
        for path in ("/app/privacy/access-report", f"/app/privacy/access-report/{world.girl}",
                     "/app/privacy/anomalies"):
            assert b.get(path).status_code == 403, path


def test_the_report_is_handed_over_as_a_pdf_and_its_making_is_logged(world: World) -> None:
    _three_accesses(world)
    with world.browser("privacy") as b:
        report = b.get(f"/app/privacy/access-report/{world.girl}")
        link = f"/app/privacy/access-report/{world.girl}/pdf"
        assert link in report.text
        pdf = b.get(link, params={"since": world.clock().date().isoformat()})
        wrong = b.get(link, params={"since": "2026-03-05", "until": "2026-03-01"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f"inzage-{str(world.girl)[:8]}.pdf" in pdf.headers["content-disposition"]
    assert wrong.status_code == 422
    made = [e for e in world.access(world.girl) if e["action"] == "access-report"]
    assert [e["user_id"] for e in made] == ["privacy", "privacy", "privacy"]


def test_the_admins_page_of_one_file_marks_the_bases_and_leads_to_her_report(
    world: World,
) -> None:
    _three_accesses(world)
    with world.browser("admin") as b:
        page = b.get("/app/admin", params={"trajectory": str(world.girl)})
        report = b.get(f"/app/privacy/access-report/{world.girl}")
    assert page.status_code == 200, page.text
    for word in ("Relatie", "Geweigerd", "Noodtoegang", "Reden: crisis"):
        assert word in page.text, word
    assert f"/app/privacy/access-report/{world.girl}" in page.text
    assert report.status_code == 200
