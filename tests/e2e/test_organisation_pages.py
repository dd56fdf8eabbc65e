"""The organisation's pages in the browser: the runaway register, the signals and the team
dashboard pass axe-core, fit a phone 360 px wide without scrolling sideways, and print:
on paper the charts lie whole on the page, without the menu, and the dashboard's print
view is kept as a PDF beside the screenshots.

A coordinator reads them with the girls' names, the quality officer as counts: both are
checked, each with runaways and signals recorded.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.support import Shots, Site, sign_in
from tests.e2e.test_accessibility import at_both_widths, describe
from tests.test_organisation_pages import runaways_and_signals

pytestmark = pytest.mark.e2e

PAGES = (
    ("runaways", "/app/register/runaways", "Weglopersregister"),
    ("signals", "/app/register/signals", "Signalen"),
    ("dashboard", "/app/dashboard", "Overzicht van het team"),
)


@pytest.fixture(scope="module")
def recorded(site: Site) -> Site:
    """The module's world with runaways and signals (`runaways_and_signals`)."""
    runaways_and_signals(site.world)
    return site


@pytest.mark.parametrize("who", ["coordinator", "quality"])
def test_the_organisation_pages_pass_axe_and_fit_a_phone(
    recorded: Site, who: str, shots: Shots
) -> None:
    """Given each page as the coordinator or the quality officer opens it from the menu;
    when axe-core checks it at desktop width, and what depends on the width again at
    360 px;
    then no violation is serious or critical, and the document is no wider than the
    phone (a chart keeps a readable size and scrolls in a box a keyboard can reach)."""
    page = recorded.window()
    sign_in(page, recorded, who)
    for name, path, heading in PAGES:
        page.goto(recorded.url("/app/"))
        page.locator(f'nav a[href="{path}"]').click()
        assert heading in page.locator("main h1").inner_text()
        laid = at_both_widths(page, shots, f"{who}-{name}")
        assert not laid.blocking, (name, describe(laid.blocking))
        assert not laid.too_wide, f"{name} is {laid.phone_width} px wide on a phone"


def test_the_dashboard_prints_its_charts_whole_without_the_menu(
    recorded: Site, shots: Shots
) -> None:
    """Given the coordinator's dashboard;
    when it is laid out for paper;
    then the menu is gone, every chart lies whole within the page's width (none scrolls),
    and each still carries its numbers; the print view is kept as a PDF."""
    page: Page = recorded.window()
    sign_in(page, recorded, "coordinator")
    page.goto(recorded.url("/app/dashboard"))
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 700, "height": 1000})  # about an A4 page's width
    assert not page.locator("nav").first.is_visible()
    charts = page.locator("figure.org-chart")
    assert charts.count() == 4
    for i in range(charts.count()):
        box = charts.nth(i)
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), i
        numbers = page.locator("table.chart-numbers").nth(i)
        assert numbers.is_visible(), i
    shots(page, "dashboard-print")
    pdf = shots.directory / "dashboard-print.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.stat().st_size > 0
