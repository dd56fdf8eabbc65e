"""The treatment coordinator's day (issue 17) in a real browser, each step kept as a
screenshot: she signs in, finds the most urgent girl at the top of her caseload, reads
where she stands on a first screen that fits a laptop, follows each missing condition
from the phase part to its form and records it, moves her on a phase, sees her week, and
prints the girl's file (a PDF of the print view, kept in the artifacts). The pages of the
walk pass axe and fit a phone. Besides: an intake of a girl already in care is warned
before anything is recorded, and the administrator finds the reads of a girl's file in
the access log by her name.

A coordinator's pages are for doing the work: what a test cannot do through the pages,
with the pages' own words and links, a coordinator cannot do either.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.builders import intake, phase_2_facts, record_all
from tests.e2e.support import Shots, Site, Value, fill, pdf_pages, sign_in, submit
from tests.e2e.test_accessibility import at_both_widths, describe
from tests.test_web_words import english_only_words, shown_text, untranslated
from tests.web_support import DISPLAY_NAMES, GIRL, ORG_A
from trajectory.aggregates.events.intake import Identity
from trajectory.clock import amsterdam_date
from trajectory.commands import ReportRunaway
from trajectory.views import opening_event
from trajectory.web.i18n import Translator
from trajectory.writing import WritePath

pytestmark = pytest.mark.e2e

LAPTOP = ViewportSize(width=1366, height=900)
DUTCH = Translator("nl")

RECORDED: dict[str, dict[str, Value]] = {
    # What she fills in on each form the phase part sends her to (the form's own fields).
    "runaway-return": {"ending": "returned", "returned_at": "14:30",
                       "note": "zelf teruggekomen, gesprek gevoerd"},
    "safety-analysis": {"instrument": "gestructureerd interview", "physical_safety": "concerns",
                        "experienced_safety": "unsafe", "risks": ["runaway"],
                        "runaway_risk": "high", "measures": ["runaway_agreements"],
                        "police_involved": True},
    "medical-assessment": {"needs": ["sti_test"], "provider": "Centrum Seksueel Geweld"},
    "care-analysis": {"disciplines": "psycholoog\nmaatschappelijk werker",
                      "strengths": "sportief, goede band met oma"},
    "treatment-plan": {"goals": "stabiliseren\nveilig netwerk opbouwen"},
    "placement": {"kind": "homogeneous_group", "region": "Utrecht"},
    "education": {"school": "De Brug", "level": "vmbo"},
    "phase-transition": {"reason": "Stabiel, alle voorwaarden voor fase 2 vervuld."},
}
PHASE_2 = {"safety-analysis", "medical-assessment", "care-analysis", "treatment-plan",
           "placement", "education"}
NAVIGATION = ("header.top nav a", "header.top .tools button", "a.skip", "p.crumbs a",
              "p.no-print a")
"""Where the page's navigation words are, which a printout must not carry."""
DAY = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})")


def _day(text: str) -> date:
    found = DAY.search(text)
    assert found is not None, text
    d, m, y = (int(g) for g in found.groups())
    return date(y, m, d)


def _bottom(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"] + box["height"]


class Checks:
    """What axe-core, a phone's width and the words check (no English, no code on a Dutch
    page) find on the walk's pages, gathered as she goes so that one page's fault does not
    hide the rest of her day."""

    def __init__(self, shots: Shots) -> None:
        self.shots = shots
        self.problems: list[str] = []
        self.checked: list[str] = []
        self.english = english_only_words()

    def words(self, name: str, pieces: list[str]) -> None:
        if found := untranslated(pieces, self.english):
            self.problems.append(f"{name} is not in Dutch words: {found}")

    def __call__(self, page: Page, name: str) -> None:
        self.words(name, shown_text(page.content()))
        laid = at_both_widths(page, self.shots, name)
        if laid.blocking:
            self.problems.append(f"{name}: {describe(laid.blocking)}")
        if laid.too_wide:
            self.problems.append(f"{name} is {laid.phone_width} px wide on a phone: {page.url}")
        self.checked.append(name)


def _record(page: Page, slug: str) -> None:
    """She is on the form `slug`: she fills it in and saves; her page says it was recorded."""
    expect(page).to_have_url(re.compile(rf"/forms/{slug}(\?|$)"))
    fill(page, RECORDED[slug])
    submit(page)
    expect(page.locator("main h1")).to_have_text(f"Traject van {GIRL}")
    expect(page.locator("p.notice[role=status]")).to_contain_text("Vastgelegd")


def _attention(page: Page) -> list[tuple[str, date, bool]]:
    """Her page's "what is due": each item's words, due day and whether it is late."""
    items = []
    for li in page.locator("#h-attention ~ ul.attention > li").all():
        text = li.inner_text()
        items.append((text.split(" — ")[0].strip(), _day(text), "te laat" in text))
    return items


def test_the_coordinator_moves_the_most_urgent_girl_on_and_prints_her_file(
    site: Site, shots: Shots
) -> None:
    """Given her caseload: a girl who ran away three days ago (with overdue items), a
    girl ready for phase 2 and a girl handed over;
    when the coordinator works through her day at a laptop (1366x900);
    then the girl who ran away is on top; her first screen shows her name, phase, caps,
    what is due and the next step without scrolling; the phase part says what is
    missing and links each to its form; once all is recorded the button to phase 2
    shows and moves her on; the week lists her items by day as her page does; her print
    view prints to a PDF with her name and no navigation. Caseload, first screen, a form
    and the week pass axe and fit a phone 360 px wide."""
    world = site.world
    coordinator = world.actor("coordinator")
    today = amsterdam_date(world.clock())
    world.app.execute(world.girl, ReportRunaway(
        from_where="de groep", missing_since="21:00",
        occurred_on=(today - timedelta(days=3)).isoformat()), coordinator)
    ready = world.app.open_trajectory(intake(identity=Identity(
        name="Eva Klaar", date_of_birth=date(2010, 9, 9), home_region="Utrecht")),
        coordinator).trajectory_id
    record_all(world.app, ready, phase_2_facts(), coordinator)
    check = Checks(shots)

    page = site.window(viewport=LAPTOP)
    sign_in(page, site, "coordinator", shots)
    expect(page).to_have_url(re.compile(r"/app/caseload$"))

    # the girl who ran away is on top, and says so
    cards = page.locator("ul.cards > li.card")
    assert cards.count() >= 3
    top = cards.first
    expect(top.get_by_role("heading", level=2)).to_have_text(GIRL)
    expect(top).to_contain_text("Weggelopen op")
    expect(top).to_have_class(re.compile(r"\balarm\b"))
    shots(page, "caseload")
    check(page, "caseload")
    top.get_by_role("link", name=GIRL).click()

    # her first screen: the essentials above the fold of a laptop
    expect(page.locator("main h1")).to_have_text(f"Traject van {GIRL}")
    assert page.evaluate("window.scrollY") == 0
    expect(page.locator("p.standing")).to_contain_text("Fase 1")
    expect(page.locator("section.next .blocked")).to_contain_text("weggelopen")
    for selector in ("main h1", "p.badge.alarm", "p.standing", "table.caps",
                     "#h-attention", "#h-attention ~ ul.attention li", "#h-next",
                     "section.next .blocked", "section.next a[href*='/forms/runaway-return']"):
        bottom = _bottom(page, selector)
        assert bottom <= LAPTOP["height"], f"{selector} ends at {bottom} px"
    shots(page, "first-screen")
    page.screenshot(path=shots.directory / "first-screen-1366x900.png")
    check(page, "first-screen")

    # she is back: the phase part sends her to record the return
    page.locator("section.next").get_by_role("link", name="Terugkeer na weglopen").click()
    shots(page, "form-runaway-return")
    check(page, "form")
    _record(page, "runaway-return")
    expect(page.locator("p.badge.alarm")).to_have_count(0)

    # each missing condition, from the phase part to its form and back
    recorded: list[str] = []
    missing = page.locator("section.next ul.criteria li")
    while missing.count():
        count = missing.count()
        expect(page.locator("section.next .blocked")).to_contain_text(
            f"Nog niet naar fase 2. Ontbrekende voorwaarden ({count})")
        for selector in ("section.next .blocked", "section.next ul.criteria li a"):
            assert _bottom(page, selector) <= LAPTOP["height"], selector
        first = missing.first.get_by_role("link")
        criterion = missing.first.get_attribute("data-criterion")
        href = first.get_attribute("href") or ""
        slug = href.rsplit("/forms/", 1)[-1]
        assert slug in PHASE_2, (criterion, href)
        assert slug not in recorded, (criterion, href)
        first.click()
        _record(page, slug)
        recorded.append(slug)
        assert page.locator(f'section.next li[data-criterion="{criterion}"]').count() == 0
        assert len(recorded) <= len(PHASE_2)
    assert set(recorded) == PHASE_2
    shots(page, "conditions-met")

    # the button shows, and moves her on
    button = page.locator("section.next").get_by_role("link", name="Naar fase 2")
    expect(button).to_be_visible()
    assert _bottom(page, "section.next a.button") <= LAPTOP["height"]
    button.click()
    shots(page, "phase-transition")
    _record(page, "phase-transition")
    expect(page.locator("p.standing")).to_contain_text("Fase 2")
    assert world.app.get(world.girl).state.phase == 2
    due = _attention(page)
    shots(page, "phase-2")

    # her week: the overdue items first, then each day's; the same as her page says
    page.locator("header.top nav").get_by_role("link", name="Deze week").click()
    expect(page.locator("main h1")).to_have_text("Deze week")
    overdue = page.locator("section.day.overdue li", has=page.get_by_role("link", name=GIRL))
    assert sorted(li.inner_text().split(" — ")[0].strip() for li in overdue.all()) == sorted(
        what for what, _, late in due if late)
    unlinked = [li.inner_text() for li in page.locator("section.day li").all()
                if not li.locator("a[href*='/forms/']").count()]
    assert not unlinked, f"due items without their form: {unlinked}"
    shots(page, "week")
    check(page, "week")
    upcoming = sorted((when, what) for what, when, late in due if not late)
    assert upcoming, due
    when, what = upcoming[0]
    for _ in range((when - today).days // 7):
        with page.expect_navigation():
            page.get_by_role("link", name="Volgende week").click()
    day = page.locator("section.day", has=page.locator("h2", has_text=DUTCH.date(when)))
    expect(day.locator("h2")).to_have_text(re.compile(rf"\b{re.escape(DUTCH.date(when))}$"))
    expect(day.locator("li", has=page.get_by_role("link", name=GIRL))).to_contain_text(what)
    shots(page, "week-of-her-next-item")

    # her print view, printed
    day.get_by_role("link", name=GIRL).first.click()
    expect(page.locator("main h1")).to_have_text(f"Traject van {GIRL}")
    page.get_by_role("link", name="Afdrukweergave").click()
    expect(page).to_have_url(re.compile(r"/print$"))
    navigation = {re.sub(r"\s+\d+$", "", text.strip())  # (without a menu entry's count)
                  for selector in NAVIGATION
                  for text in page.locator(selector).all_inner_texts() if text.strip()}
    assert {"Caseload", "Deze week", "Afmelden"} <= navigation, navigation
    pdf = shots.directory / f"dossier-{str(world.girl)[:8]}.pdf"
    page.emulate_media(media="print")
    try:
        shots(page, "print-view")
        page.pdf(path=pdf, format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    sheets = pdf_pages(data)
    assert len(sheets) == len(re.findall(rb"/Type\s*/Page(?!s)", data)) > 1
    text = " ".join(" ".join(sheets).split())
    assert f"Traject van {GIRL}" in " ".join(sheets[0].split())
    assert "Fase 2: verwerking" in text
    printed_nav = sorted(word for word in navigation if word in text)
    assert not printed_nav, printed_nav
    check.words("the printout", [line for sheet in sheets for line in sheet.splitlines()])

    assert check.checked == ["caseload", "first-screen", "form", "week"]
    assert not check.problems, "\n".join(check.problems)


def test_a_second_intake_of_a_girl_in_care_is_warned_before_it_is_recorded(
    site: Site, shots: Shots
) -> None:
    """Given a girl in care, taken in through the intake;
    when the coordinator fills in the intake form with the same name and birth date;
    then the page warns, in a sentence, with a link to the girl in care, and nothing is
    recorded; only when she gives a reason and saves again is the intake recorded, with
    her reason."""
    world = site.world
    name, born = "Sanne de Wit", date(2009, 5, 6)
    first = WritePath(world.app).open(world.actor("coordinator"), intake(identity=Identity(
        name=name, date_of_birth=born, home_region="Utrecht"))).trajectory_id
    before = len(world.app.index(ORG_A))

    page = site.window(viewport=LAPTOP)
    sign_in(page, site, "coordinator")
    page.locator("header.top nav").get_by_role("link", name="Nieuwe aanmelding").click()
    expect(page.locator("main h1")).to_have_text("Aanmelding")
    fill(page, {"intake_date": (amsterdam_date(world.clock())).isoformat(),
                "victim_status": "suspected", "risk_profiles": ["traumatised"],
                "setting": "residential", "referral_source": "politie",
                "legal_framework": "ots", "identity.name": name,
                "identity.date_of_birth": born.isoformat(), "identity.home_region": "Utrecht"})
    shots(page, "intake")
    submit(page)

    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("Mogelijk hetzelfde meisje")
    expect(warning).to_contain_text(
        "Er is in uw organisatie al een meisje met deze naam en geboortedatum in zorg.")
    other = warning.get_by_role("link", name=f"Haar pagina openen: {name}")
    expect(other).to_have_attribute("href", f"/app/trajectories/{first}")
    reason = page.get_by_label("Reden om toch aan te melden")
    expect(reason).to_be_visible()
    expect(page.locator('main input[name="identity.name"]')).to_have_value(name)
    assert len(world.app.index(ORG_A)) == before
    shots(page, "warned")

    # with a reason, saved again, the intake is recorded
    reason.fill("Andere moeder, geboren in hetzelfde ziekenhuis: niet hetzelfde meisje.")
    submit(page)
    expect(page.locator("main h1")).to_have_text(f"Traject van {name}")
    expect(page.locator("p.notice[role=status]")).to_contain_text("Vastgelegd")
    shots(page, "recorded")
    match = re.search(r"/trajectories/([0-9a-f-]{36})", page.url)
    assert match is not None, page.url
    assert match.group(1) != str(first)
    assert len(world.app.index(ORG_A)) == before + 1
    opened = opening_event(world.app.events.get(UUID(match.group(1)), lte=1))  # type: ignore[arg-type]
    assert opened.duplicate_reason.startswith("Andere moeder")


def test_the_admin_finds_the_reads_of_a_girls_file_by_her_name(
    site: Site, shots: Shots
) -> None:
    """Given a girl whose file her coordinator read today, a few minutes apart;
    when the administrator opens the access log and searches by the girl's name (and
    today);
    then she sees those reads, newest first, under the coordinator's display name."""
    world = site.world
    name = "Fenna Gelezen"
    tid = world.app.open_trajectory(intake(identity=Identity(
        name=name, date_of_birth=date(2010, 2, 2), home_region="Utrecht")),
        world.actor("coordinator")).trajectory_id
    reader = site.window(viewport=LAPTOP)
    sign_in(reader, site, "coordinator")
    for path in ("", "/safety", "/history"):
        reader.goto(site.url(f"/app/trajectories/{tid}{path}"))
        expect(reader.locator("main h1")).to_have_text(f"Traject van {name}")
        world.clock.advance(minutes=7)

    page = site.window(viewport=LAPTOP)
    sign_in(page, site, "admin", shots)
    page.goto(site.url("/app/admin"))
    page.get_by_role("link", name="Toegangslogboek").first.click()
    expect(page.locator("main h1")).to_have_text("Toegangslogboek")
    page.get_by_label("Naam van het meisje").fill(name)
    page.get_by_label("Vanaf", exact=True).fill(amsterdam_date(world.clock()).isoformat())
    with page.expect_navigation():
        page.locator("main form.filters button[type=submit]").click()
    shots(page, "found-by-name")

    reads = [e for e in world.access(tid)
             if e["user_id"] == "coordinator" and e["action"] == "read"]
    assert len(reads) == 3
    expected = [DUTCH.moment(e["at"]) for e in reversed(reads)]
    rows: list[dict[str, Any]] = []
    heads = [h.strip() for h in page.locator("table thead th").all_inner_texts()]
    column = {head: n for n, head in enumerate(heads)}
    for row in page.locator("table tr.entry").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        rows.append({"when": cells[column["Wanneer"]], "who": cells[column["Gebruiker"]],
                     "action": cells[column["Handeling"]],
                     "about": cells[column["Traject"]]})
    read = [r for r in rows
            if r["who"] == DISPLAY_NAMES["coordinator"] and r["action"] == DUTCH.value("read")]
    assert [r["when"] for r in read] == expected, rows
    assert {r["about"] for r in read} == {str(tid)[:8]}
    assert "coordinator" not in {r["who"] for r in rows}
    moments = [datetime.strptime(r["when"], "%d-%m-%Y %H:%M:%S") for r in rows]
    assert moments == sorted(moments, reverse=True)
