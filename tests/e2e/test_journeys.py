"""The three journeys of issue 8 in a real browser, each step kept as a screenshot: a
coordinator signs in with her password and TOTP code, is refused unsupervised internet
for a girl in phase 1, records what phase 2 asks for and advances her; an aftercare
worker accepts a handover and records a contact; a researcher downloads an export.

The three touch different girls (or only read), so they share one live app.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.support import Shots, Site, Value, fill, sign_in, submit
from tests.web_support import (
    CONSENT_NOTE,
    GIRL,
    HANDED_OVER_GIRL,
    OTHER_GIRL,
    PASSWORD,
)
from trajectory.research.timeline import CENSORING_PERIOD

pytestmark = pytest.mark.e2e

CAP = "Maximum in fase 1: onder toezicht"

# What the coordinator writes in each form that a phase-2 criterion links to.
PHASE_2_FACTS: dict[str, dict[str, Value]] = {
    "safety-analysis": {
        "instrument": "gestructureerde veiligheidsanalyse",
        "physical_safety": "concerns",
        "experienced_safety": "unsafe",
        "risks": ["internet_social_media"],
        "runaway_risk": "high",
        "measures": ["parent_agreements"],
        "police_involved": True,
    },
    "medical-assessment": {"needs": ["sti_test"], "provider": "Centrum Seksueel Geweld"},
    "care-analysis": {"disciplines": "psycholoog\nmaatschappelijk werker"},
    "treatment-plan": {"goals": "stabiliseren\nveilig netwerk"},
    "placement": {"kind": "homogeneous_group", "region": "Utrecht"},
    "education": {"school": "De Brug", "level": "vmbo"},
}


def phase_bars(page: Page, phase: int) -> int:
    return page.locator(f"svg.timeline rect.bar.phase-{phase}").count()


def test_a_coordinator_is_offered_internet_within_phase_1_then_advances_her_to_phase_2(
    site: Site, shots: Shots
) -> None:
    """Given a coordinator with a password and an authenticator app, and a girl in phase 1
    without the facts that phase 2 asks for;
    when she signs in, opens her internet permission, tries phase 2, records each missing
    fact through the link the refusal gives, and tries again;
    then the permission offers only what phase 1 allows and says its maximum, the first
    advance is refused with a sentence that says what is missing, and the last one moves
    her to phase 2, which the timeline then shows.

    The cap is the protocol's safety rule at work, so it must read as plain Dutch in the
    page itself, not as an error code; a level above it is not offered at all."""
    page = site.window()
    sign_in(page, site, "coordinator", shots)
    expect(page).to_have_url(re.compile(r"/app/caseload$"))
    shots(page, "caseload")

    page.get_by_role("link", name=GIRL).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Traject van {GIRL}")
    shots(page, "phase-1")
    trajectory = site.url(f"/app/trajectories/{site.world.girl}")
    page.get_by_role("link", name="Tijdlijn", exact=True).click()
    assert (phase_bars(page, 1), phase_bars(page, 2)) == (1, 0)
    shots(page, "timeline-phase-1", page.locator("svg.timeline"))

    page.get_by_role("link", name="Vrijheden en netwerk", exact=True).click()
    page.get_by_role("link", name="internet", exact=True).click()
    expect(page.locator("main form")).to_contain_text(CAP)
    levels = page.get_by_label("Niveau").locator("option")
    assert [levels.nth(i).get_attribute("value") for i in range(levels.count())] == [
        "", "none", "supervised"
    ]
    shots(page, "internet-within-the-cap")

    page.goto(trajectory)
    # Her page offers no move to phase 2 yet: it names what is missing instead.
    expect(page.locator("section.next")).to_contain_text("Nog niet naar fase 2")
    expect(page.get_by_role("link", name="Naar fase 2")).to_have_count(0)
    page.goto(trajectory + "/forms/phase-transition")
    fill(page, {"reason": "stabiel, houdt zich aan de afspraken"})
    submit(page)
    unmet = page.locator("#refusal ul.unmet a")
    expect(unmet).to_have_count(len(PHASE_2_FACTS))
    shots(page, "phase-2-refused")

    for link in [unmet.nth(i).get_attribute("href") or "" for i in range(unmet.count())]:
        slug = link.rsplit("/", 1)[-1]
        page.goto(site.url(link))
        fill(page, PHASE_2_FACTS[slug])
        submit(page)
        expect(page.locator("p.notice")).to_contain_text("Vastgelegd:")
        expect(page.locator(f'li[data-criterion="{slug}"]')).to_have_count(0)  # not missing
    shots(page, "criteria-met")

    page.get_by_role("link", name="Naar fase 2").click()
    fill(page, {"reason": "stabiel, houdt zich aan de afspraken"})
    shots(page, "phase-2-asked")
    submit(page)
    expect(page).to_have_url(re.compile(rf"{trajectory}\?done=phase-transition$"))
    expect(page.locator("p.standing strong")).to_have_text("Fase 2: verwerking")
    page.get_by_role("link", name="Tijdlijn", exact=True).click()
    assert (phase_bars(page, 1), phase_bars(page, 2)) == (1, 1)
    new_phase = page.locator("svg.timeline rect.bar.phase-2").bounding_box()
    assert new_phase is not None
    assert new_phase["width"] >= 10  # begun today, and seen
    shots(page, "phase-2")
    shots(page, "timeline-phase-2", page.locator("svg.timeline"))
    assert site.world.app.get(site.world.girl).state.phase == 2


def contact_facts(page: Page) -> Locator:
    """The handover page's facts about contact (her state, last and next contact)."""
    return page.locator("section[aria-labelledby=h-contact] dl.facts")


def test_an_aftercare_worker_accepts_the_handover_and_records_a_contact(
    site: Site, shots: Shots
) -> None:
    """Given a girl whose warm handover meeting was held, handed to an aftercare worker;
    when the worker signs in, opens the handover, accepts it, starts aftercare and records
    a home visit;
    then the handover page shows her in aftercare with the last contact, and the log
    holds all three facts.

    Aftercare keeps a girl in view after residential care: the worker must be able to do
    this on her own, from her own short list."""
    tid = site.world.handed_over
    page = site.window()
    sign_in(page, site, "aftercare", shots)
    expect(page).to_have_url(re.compile(r"/app/handovers$"))
    shots(page, "handovers")

    page.get_by_role("link", name=HANDED_OVER_GIRL).click()
    expect(contact_facts(page)).to_contain_text("overdrachtsgesprek gehouden")
    shots(page, "handover")

    with page.expect_navigation():
        page.get_by_role("button", name="Overdracht aanvaarden").click()
    expect(page.locator("p.notice")).to_contain_text("aanvaard")
    shots(page, "accepted")

    page.get_by_role("link", name="Nazorg starten (residentiële zorg beëindigd)").click()
    fill(page, {"plan": "wekelijks een huisbezoek, daarna om de week",
                "destination": "independent"})
    submit(page)
    expect(contact_facts(page)).to_contain_text("in nazorg")

    fill(page, {"outcome": ["reached"], "channel": "visit",
                "note": "thuisbezoek, het gaat goed"})
    shots(page, "contact")
    submit(page)
    facts = contact_facts(page)
    expect(facts).to_contain_text("Laatste contact")
    expect(facts).to_contain_text("2-3-2026")
    shots(page, "contact-recorded")

    state = site.world.app.get(tid).state
    assert state.status == "aftercare"
    assert state.has("aftercare-contact")


def secrets_of_the_girls(site: Site) -> list[str]:
    """What no export may carry: the girls' names, dates of birth and trajectory ids, and
    the free text the journeys and the world wrote about them."""
    world = site.world
    ids = [world.girl, world.other_girl, world.handed_over]
    free_text = [
        CONSENT_NOTE, "ze vroeg erom", "houdt zich aan de afspraken",
        "gestructureerde veiligheidsanalyse", "Centrum Seksueel Geweld", "De Brug",
        "psycholoog", "stabiliseren", "wekelijks een huisbezoek", "het gaat goed",
        "history of abuse", "confirmed loverboy victim", "no contact with prohibited",
    ]
    births = [world.app.get(tid).state.date_of_birth for tid in ids]
    return [
        GIRL, OTHER_GIRL, HANDED_OVER_GIRL, *free_text, *(str(tid) for tid in ids),
        *(day.isoformat() for day in births), *(f"{d.day}-{d.month}-{d.year}" for d in births),
    ]


def test_a_researcher_downloads_a_pseudonymised_export(site: Site, shots: Shots) -> None:
    """Given the store's three girls, each of whom gave research consent (a parent, as
    they are under 16), a month of observation later, and a researcher with a password
    and an authenticator app;
    when she signs in, asks for an export of a project (confirming her password and a new
    code) and downloads its files;
    then the manifest names her project and counts the three girls, all exported; each
    file is the one the manifest describes (its SHA-256); the tables hold a row for each
    girl under a pseudonym, and no file carries a girl's name, date of birth, id or any
    free text written about her; and the downloads are in the access log.

    Exports leave the organisation: the re-authentication and the log entry are the
    point, and the files must be what the page offers. Without consent an export is
    empty, and an empty file proves nothing about what it leaves out."""
    world = site.world
    for tid in (world.girl, world.other_girl, world.handed_over):
        assert world.give_research_consent(tid) == "parent"
    # A girl's observation ends a whole number of censoring periods after her intake, so
    # the facts of today are exported only a period on: then her free text was there.
    world.clock.advance(days=CENSORING_PERIOD)
    world.approve_project("zonmw-e2e")  # (approved by every organisation; she is bound)
    page = site.window()
    sign_in(page, site, "researcher", shots)
    expect(page).to_have_url(re.compile(r"/app/research$"))
    fill(page, {"project": "zonmw-e2e", "format": "csv", "k": "5",
                "reauth_password": PASSWORD, "reauth_code": site.code("researcher")})
    shots(page, "export-asked")
    submit(page)
    # (three girls cannot be five alike: the page says the export is not fit to publish,
    # never "ready"; its files are still hers to inspect)
    expect(page.get_by_role("alert")).to_contain_text("niet geschikt om te publiceren")
    expect(page.locator("p.notice")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("zonmw-e2e")
    expect(page.locator("dl.facts").first).to_contain_text("Trajecten in de export")
    shots(page, "export")

    files = page.locator("table a[download]")
    names = [name.strip() for name in files.all_inner_texts()]
    assert "manifest.json" in names, names
    assert len(names) > 1, names
    downloaded: dict[str, Path] = {}
    for name in names:
        with page.expect_download() as started:
            files.get_by_text(name, exact=True).click()
        download = started.value
        assert download.suggested_filename == name
        downloaded[name] = shots.directory / name
        download.save_as(downloaded[name])

    manifest = json.loads(downloaded["manifest.json"].read_text())
    assert manifest["parameters"]["project"] == "zonmw-e2e"
    assert manifest["counts"]["trajectories_in_store"] == 3
    assert manifest["counts"]["trajectories_exported"] == 3
    for name, entry in manifest["files"].items():  # the files are the ones it describes
        assert hashlib.sha256(downloaded[name].read_bytes()).hexdigest() == entry["sha256"]
    with downloaded["trajectories.csv"].open(newline="") as table:
        girls = list(csv.DictReader(table))
    assert len(girls) == 3
    assert len({row["pseudonym"] for row in girls}) == 3
    assert manifest["files"]["events.csv"]["rows"] > len(girls)  # more than the intakes
    for path in downloaded.values():
        text = path.read_text(errors="replace")
        assert not [secret for secret in secrets_of_the_girls(site) if secret in text], path.name
    exports = [e for e in world.access() if e["action"] == "export"]
    assert {e["user_id"] for e in exports} == {"researcher"}
    assert len([e for e in exports if e["outcome"] == "ok"]) >= len(names)
