"""The aftercare worker's day (issue 14) in a real browser, each step kept as a screenshot:
she signs in, finds the girl in her list by name, reads how to reach her, records a
contact that did not reach her and one that did (the out-of-view warning stays, then
clears), and prints the handover package (a PDF with the girl's short id)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.support import Shots, Site, sign_in
from tests.web_support import HANDED_OVER_GIRL
from trajectory.application import Actor
from trajectory.commands import AcceptHandover, RecordAftercareContactDetails, StartAftercare

pytestmark = pytest.mark.e2e

PHONE = "06-12345678"
WARNING = "Zij dreigt uit beeld te raken"


def record_contact(page: Page, outcome: str, channel: str, note: str) -> None:
    form = page.locator("form", has=page.locator('input[name="outcome"]'))
    form.locator(f'input[name="outcome"][value="{outcome}"]').check()
    form.locator('select[name="channel"]').select_option(channel)
    form.locator('textarea[name="note"]').fill(note)
    with page.expect_navigation():
        form.get_by_role("button", name="Contact vastleggen").click()


def test_the_aftercare_worker_finds_reaches_and_keeps_her_in_view(
    site: Site, shots: Shots, tmp_path: Path
) -> None:
    """Given a girl handed over to the aftercare worker, her coordinator having recorded
    how to reach her, in aftercare for 29 days without contact (weekly agreed is not
    needed: the protocol's four weeks have passed);
    when the worker signs in and works through her day;
    then she finds the girl by name, reads her phone number, sees the warning stay after
    an unanswered message and clear after a visit, and prints the package."""
    world = site.world
    tid = world.handed_over
    coordinator = world.actor("coordinator")
    worker = Actor(user_id="aftercare", role="aftercare", organisation="Nazorg Westhoek")
    world.app.execute(tid, RecordAftercareContactDetails(
        phone=PHONE, address="Dorpsstraat 1, Sluis", school_or_work="ROC Zeeland, mbo 2",
    ), coordinator)
    world.app.execute(tid, AcceptHandover(), worker)
    world.app.execute(
        tid, StartAftercare(plan="wekelijks bezoek", destination="independent"), worker
    )
    world.clock.advance(days=29)

    page = site.window()
    sign_in(page, site, "aftercare", shots)
    expect(page).to_have_url(re.compile(r"/app/handovers$"))
    # she finds the girl by name (with her age), not by a code
    card = page.locator("li.card", has_text=HANDED_OVER_GIRL)
    expect(card).to_contain_text("jaar")
    expect(card).to_contain_text("Uit beeld")
    shots(page, "list")
    card.get_by_role("link", name=HANDED_OVER_GIRL).click()

    # she reads how to reach her, and why she is out of view
    expect(page.get_by_role("heading", level=1)).to_have_text(HANDED_OVER_GIRL)
    expect(page.locator(f'a[href="tel:{PHONE}"]')).to_be_visible()
    expect(page.locator("dl.reach")).to_contain_text("ROC Zeeland")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(WARNING)
    expect(alert).to_contain_text("Geen contact heeft haar bereikt")
    shots(page, "out-of-view")

    # an unanswered message does not bring her back into view
    record_contact(page, "not_reached", "message", "app gestuurd, geen antwoord")
    expect(page.get_by_role("alert")).to_contain_text(WARNING)
    expect(page.locator("table.contacts")).to_contain_text("niet bereikt")
    shots(page, "not-reached")

    # a visit that reaches her does
    record_contact(page, "reached", "visit", "thuis gesproken, het gaat redelijk")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("table.contacts")).to_contain_text("thuis gesproken")
    shots(page, "reached")

    # she prints the handover package
    with page.expect_download() as download:
        page.get_by_role("link", name="Overdrachtspakket afdrukken (pdf)").click()
    pdf = tmp_path / "overdracht.pdf"
    download.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert str(tid)[:8].encode() in data
    assert download.value.suggested_filename == f"overdracht-{str(tid)[:8]}.pdf"

    state = world.app.get(tid).state
    assert state.has("aftercare-contact")
    assert state.has("aftercare-contact-failed")
    prints = [e for e in world.access(tid) if e["action"] == "print-handover"]
    assert [e["user_id"] for e in prints] == ["aftercare"]
