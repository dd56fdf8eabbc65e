"""The girl's dossier in a real browser: the first screen holds the essentials on a
laptop (1366x900) without scrolling; the first screen and every section pass axe and fit
a phone 360 px wide (the network contacts as stacked rows); the print view prints to a
PDF of several pages with no navigation, forms or tab bar, kept in the artifacts.

A coordinator opens a girl's page to decide what to do next: if the essentials are below
the fold, or the page needs a sideways scroll on her phone, the page is not doing its work.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, ViewportSize

from tests.builders import phase_2_facts, record_all
from tests.e2e.support import Shots, Site, sign_in
from tests.e2e.test_accessibility import at_both_widths, describe
from tests.web_support import GIRL
from trajectory.commands import ChangePermission, RegisterNetworkContact
from trajectory.web.dossier import SECTIONS

pytestmark = pytest.mark.e2e

LAPTOP = ViewportSize(width=1366, height=900)


@pytest.fixture(scope="module")
def coordinator(site: Site) -> Page:
    """Her coordinator, signed in at a laptop, with a girl who has some facts, contacts
    and a changed permission, and still has conditions missing for phase 2."""
    world = site.world
    actor = world.actor("coordinator")
    record_all(world.app, world.girl, phase_2_facts()[:3], actor)
    for contact in (RegisterNetworkContact(role="moeder", risk="safe"),
                    RegisterNetworkContact(role="vriendin van school", risk="risky"),
                    RegisterNetworkContact(role="vermoedelijke loverboy", risk="prohibited")):
        world.app.execute(world.girl, contact, actor)
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak"), actor)
    page = site.window(viewport=LAPTOP)
    sign_in(page, site, "coordinator")
    return page


def _below_the_fold(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["y"] + box["height"]


def test_the_first_screen_shows_the_essentials_without_scrolling(
    site: Site, coordinator: Page, shots: Shots
) -> None:
    """Given a girl with conditions missing for phase 2, at 1366x900;
    when her coordinator opens her page;
    then her name, phase, caps, what is due and the next step are all on the first
    screen, above the fold."""
    page = coordinator
    page.goto(site.url(f"/app/trajectories/{site.world.girl}"))
    shots(page, "first-screen-full")
    page.screenshot(path=shots.directory / "first-screen-1366x900.png")
    assert page.evaluate("window.scrollY") == 0
    assert GIRL in page.locator("main h1").inner_text()
    for selector in ("main h1", "p.standing", "table.caps", "#h-attention",
                     "ul.attention li", "#h-next", "section.next .blocked",
                     "section.next ul.criteria li a"):
        bottom = _below_the_fold(page, selector)
        assert bottom <= LAPTOP["height"], f"{selector} ends at {bottom} px"


@pytest.mark.parametrize("section", [s.slug for s in SECTIONS], ids=[
    s.slug or "first-screen" for s in SECTIONS])
def test_each_section_passes_axe_and_fits_a_phone(
    site: Site, coordinator: Page, shots: Shots, section: str
) -> None:
    page = coordinator
    path = f"/app/trajectories/{site.world.girl}" + (f"/{section}" if section else "")
    page.goto(site.url(path))
    laid = at_both_widths(page, shots, section or "first-screen")
    assert not laid.blocking, describe(laid.blocking)
    assert not laid.too_wide, f"{path} is {laid.phone_width} px wide on a phone"


def test_the_print_view_prints_every_section_on_its_own_pages_without_navigation(
    site: Site, coordinator: Page, shots: Shots
) -> None:
    """Given her print view;
    when it is printed (print media, Chromium's PDF);
    then no navigation, tab bar, menu or form shows, and the PDF has more than one page
    (a sheet for each section), kept in the artifacts."""
    page = coordinator
    page.goto(site.url(f"/app/trajectories/{site.world.girl}/print"))
    page.emulate_media(media="print")
    try:
        hidden = page.evaluate("""() => [...document.querySelectorAll(
                'header.top, nav, form, .tabs, .menu, .button, .axes')]
              .filter(e => getComputedStyle(e).display !== 'none').length""")
        assert hidden == 0
        sections = page.locator("section.page")
        assert sections.count() == 8  # the first screen, six sections, the history
        breaks = page.evaluate("""() => [...document.querySelectorAll('section.page')]
              .map(e => getComputedStyle(e).breakBefore)""")
        assert breaks[1:] == ["page"] * 7
        shots(page, "print-media")
        pdf = shots.directory / "print-view.pdf"
        page.pdf(path=pdf, format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages > 1, pages
