"""Break the glass in the browser: a coordinator searches a girl's name, finds her outside
her teams, asks for emergency access with a reason, reads her file under the banner and
ends it; the privacy officer signs in, finds it on her review list and records that it was
justified. Every page on the way passes axe-core and fits a phone 360 px wide.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.support import Shots, Site, sign_in
from tests.e2e.test_accessibility import at_both_widths, describe
from tests.test_emergency_access import BANNER, BEA, outside_the_team
from tests.web_support import GIRL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outside(site: Site) -> Site:
    """The module's world with the girl in her coordinator's team, Bea in another one and
    the organisation's privacy officer (`outside_the_team`)."""
    outside_the_team(site.world)
    return site


def checked(page: Page, shots: Shots, name: str) -> None:
    laid = at_both_widths(page, shots, name)
    assert not laid.blocking, (name, describe(laid.blocking))
    assert not laid.too_wide, f"{name} is {laid.phone_width} px wide on a phone"


def test_a_coordinator_breaks_the_glass_and_the_privacy_officer_reviews_it(
    outside: Site, shots: Shots
) -> None:
    """Given Bea, a coordinator of another team than the girl's;
    when she searches the girl's name, asks for emergency access for a crisis, reads her
    history under the banner and ends the access; and the privacy officer then signs in
    and records on her review list that the access was justified;
    then the search lists the girl apart with "Noodtoegang vragen", the banner names the
    end of the window and the reason on every page of her file, her file is closed again
    after ending it, and the review list says who opened whose file and what was done,
    and shows the review once recorded. No page has a serious or critical axe-core
    violation or scrolls sideways on a phone."""
    site = outside
    tid = site.world.girl
    page = site.window()
    sign_in(page, site, "bea", shots)
    page.goto(site.url("/app/caseload"))
    page.get_by_label("Zoek op naam", exact=True).fill("noor")
    with page.expect_navigation():
        page.get_by_role("button", name="Filteren").click()
    outside_list = page.locator("section.outside-teams")
    assert GIRL in outside_list.inner_text()
    checked(page, shots, "search-outside-her-teams")

    with page.expect_navigation():
        outside_list.get_by_role("link", name="Noodtoegang vragen").click()
    assert page.url.endswith(f"/app/trajectories/{tid}/emergency-access")
    assert "Noodtoegang vragen" in page.locator("main h1").inner_text()
    page.get_by_label("Crisis", exact=True).check()
    checked(page, shots, "emergency-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Dossier openen met noodtoegang").click()
    assert page.url.endswith(f"/app/trajectories/{tid}")
    banner = page.locator(".emergency-banner")
    assert " ".join(banner.inner_text().split()).startswith(BANNER)
    checked(page, shots, "her-file-under-the-banner")

    with page.expect_navigation():
        page.locator("nav.tabs").get_by_role("link", name="Geschiedenis").click()
    assert BANNER in " ".join(page.locator(".emergency-banner").inner_text().split())
    shots(page, "her-history-under-the-banner")

    with page.expect_navigation():
        page.get_by_role("button", name="Noodtoegang beëindigen").click()
    assert "Noodtoegang beëindigd" in page.locator("main h1").inner_text()
    checked(page, shots, "emergency-access-ended")
    closed = page.goto(site.url(f"/app/trajectories/{tid}"))
    assert closed is not None
    assert closed.status == 404

    officer = site.window()
    sign_in(officer, site, "privacy", shots)
    assert officer.url.endswith("/app/privacy/emergency-accesses")
    review = officer.locator("section.review").first
    assert f"{BEA} opende het dossier van {GIRL}" in review.inner_text()
    assert "las haar dossier" in review.inner_text()
    checked(officer, shots, "review-list")
    review.get_by_label("Gerechtvaardigd", exact=True).check()
    with officer.expect_navigation():
        review.get_by_role("button", name="Beoordeling vastleggen").click()
    assert "De beoordeling is vastgelegd." in officer.locator("main").inner_text()
    recorded = officer.locator("section.review").first.inner_text()
    assert "Beoordeeld door Petra Vos" in recorded
    assert ": gerechtvaardigd." in recorded
    checked(officer, shots, "review-recorded")
