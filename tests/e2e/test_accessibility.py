"""Every page, as the person who uses it reaches it, checked in the browser: axe-core finds
no serious or critical violation, and the page fits a phone 360 px wide without scrolling
sideways. Each page is kept as a screenshot, at desktop and at phone width, with what
axe-core found beside it.

The pages: sign-in (also after a wrong password), the TOTP step, the account and a new
TOTP enrolment, the caseload, the trajectory page (now and as of a day), the intake and
every fact form (also refused, and with a field that does not fit), the handovers and a
handover, the quality page, the research page and an export, the admin page and its
access log, the error pages, and the research page in English (the windows are Dutch).

Care workers use these pages on whatever they have, a phone included, and some with a
screen reader or a keyboard only: a page that fails them is a page they cannot use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.builders import handover_package, intake, record_all
from tests.e2e.support import (
    DESKTOP,
    PHONE,
    Shots,
    Site,
    Value,
    fill,
    password_step,
    sign_in,
    submit,
)
from tests.web_support import GIRL, PASSWORD
from trajectory.aggregates.events.handover import WithoutHandover
from trajectory.aggregates.events.intake import Identity
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    ChangePermission,
    CloseTrajectory,
    DecideComenshaRegistration,
    HoldHandoverMeeting,
    PrepareHandover,
)
from trajectory.web.forms import FORMS, INTAKE, Context, fields_of
from trajectory.web.i18n import Translator

pytestmark = pytest.mark.e2e

DUTCH = Translator("nl")

BLOCKING = ("serious", "critical")
NARROW_RULES = ["scrollable-region-focusable", "target-size"]
"""The rules whose outcome changes with the width: a box that scrolls sideways only on a
phone must be reachable by keyboard there, and a control must stay big enough to tap."""
AXE = Axe()
"""axe-core as the axe-playwright-python package bundles it; all its rules but the
experimental ones (WCAG 2.0-2.2 A and AA, and best practices)."""

Reach = Callable[[Page, Site], None]


@dataclass(frozen=True)
class Shown:
    """One page, as a person gets there: who is signed in (None: nobody; "half:<who>":
    after her password, before her code), how she gets there, and its heading."""

    name: str
    who: str | None
    reach: Reach
    heading: str


def at(path: str | Callable[[Site], str]) -> Reach:
    def go(page: Page, site: Site) -> None:
        page.goto(site.url(path if isinstance(path, str) else path(site)))

    return go


def girl(suffix: str = "") -> Callable[[Site], str]:
    return lambda site: f"/app/trajectories/{site.world.girl}{suffix}"


def handed_over(prefix: str, suffix: str = "") -> Callable[[Site], str]:
    return lambda site: f"{prefix}{site.world.handed_over}{suffix}"


def sent(path: Callable[[Site], str], values: dict[str, Value]) -> Reach:
    """The form at `path`, filled in and sent: the page that answers it."""

    def go(page: Page, site: Site) -> None:
        page.goto(site.url(path(site)))
        fill(page, values)
        submit(page)

    return go


def wrong_password(page: Page, site: Site) -> None:
    page.goto(site.url("/app/login"))
    fill(page, {"username": "coordinator", "password": "niet het wachtwoord"})
    submit(page)


def code_step(page: Page, site: Site) -> None:
    password_step(page, site, "coordinator")


def an_export(page: Page, site: Site) -> None:
    """The researcher's export page, after an export (her password and a code are asked
    again unless she confirmed them a moment ago)."""
    site.world.approve_project("toegankelijk")  # (every export needs an approved project)
    page.goto(site.url("/app/research"))
    values: dict[str, Value] = {"project": "toegankelijk", "format": "csv", "k": "5"}
    if page.locator("#reauth_password").count():
        values |= {"reauth_password": PASSWORD, "reauth_code": site.code("researcher")}
    fill(page, values)
    submit(page)


def girls_out_of_view(page: Page, site: Site) -> None:
    """The out-of-view list with girls on it (made once for the module): one who left
    care without a handover, and one handed over to the aftercare worker whose handover
    was not accepted in time (the meeting back-dated: the clock cannot move, sessions
    would expire)."""
    world = site.world
    if not getattr(site, "out_of_view_made", False):
        coordinator = world.actor("coordinator")
        today = amsterdam_date(world.clock())
        left = world.app.open_trajectory(
            intake(identity=Identity(name="Mila Zoek", date_of_birth=date(2009, 2, 3),
                                     home_region="Utrecht")), coordinator).trajectory_id
        world.app.execute(left, CloseTrajectory(
            reason="own_decision", destination="unknown",
            without_handover=WithoutHandover(reason="she_refused", argument="weigerde")),
            coordinator)
        late = world.app.open_trajectory(
            intake(identity=Identity(name="Iris Wacht", date_of_birth=date(2009, 6, 7),
                                     home_region="Utrecht")), coordinator).trajectory_id
        record_all(world.app, late, [
            DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
            PrepareHandover(receiving_organisation="Nazorg Westhoek",
                            receiving_worker="aftercare", package=handover_package(),
                            occurred_on=(today - timedelta(days=21)).isoformat()),
            HoldHandoverMeeting(girl_present=True, sending_worker_present=True,
                                receiving_worker_present=True,
                                occurred_on=(today - timedelta(days=20)).isoformat()),
        ], coordinator)
        site.out_of_view_made = True  # type: ignore[attr-defined]
    page.goto(site.url("/app/out-of-view"))


def _form(slug: str) -> Shown:
    spec = next(s for s in FORMS if s.slug == slug)
    if "coordinator" in spec.roles:
        return Shown(f"form-{slug}", "coordinator", at(girl(f"/forms/{slug}")), spec.title(DUTCH))
    return Shown(f"form-{slug}", "aftercare",
                 at(handed_over("/app/trajectories/", f"/forms/{slug}")), spec.title(DUTCH))


PAGES: list[Shown] = [
    Shown("sign-in", None, at("/app/login"), "Aanmelden"),
    Shown("sign-in-failed", None, wrong_password, "Aanmelden"),
    Shown("totp-step", "half:coordinator", code_step, "Tweede stap: code"),
    Shown("account", "coordinator", at("/app/account"), "Uw account"),
    Shown("totp-enrolment", "coordinator", at("/app/account/totp"), "Uw account"),
    Shown("caseload", "coordinator", at("/app/caseload"), "Caseload"),
    Shown("caseload-filtered", "coordinator",
          at("/app/caseload?phase=1&status=in_care&overdue=1"), "Caseload"),
    Shown("week", "coordinator", at("/app/week"), "Deze week"),
    Shown("week-organisation", "coordinator", at("/app/week?week=2&scope=organisation"),
          "Deze week"),
    Shown("trajectory", "coordinator", at(girl()), f"Traject van {GIRL}"),
    Shown("trajectory-handed-over", "coordinator",
          at(handed_over("/app/trajectories/")), "Traject van Sara Overdracht"),
    Shown("trajectory-as-of", "coordinator", at(girl("?as_of=2026-03-02")),
          f"Traject van {GIRL}"),
    Shown("trajectory-timeline", "coordinator",
          at(handed_over("/app/trajectories/", "/timeline")), "Traject van Sara Overdracht"),
    Shown("intake", "coordinator", at("/app/trajectories/new"), "Aanmelding"),
    *[_form(spec.slug) for spec in FORMS],
    # (a level above the phase's cap is no longer offered: a return with no runaway open)
    Shown("form-refused", "coordinator",
          sent(girl("/forms/runaway-return"), {"ending": "returned"}),
          next(s for s in FORMS if s.slug == "runaway-return").title(DUTCH)),
    Shown("form-marked-fields", "coordinator",
          sent(girl("/forms/safety-analysis"), {}), "Veiligheidsanalyse"),
    Shown("form-unmet-criteria", "coordinator",
          sent(girl("/forms/phase-transition"), {"reason": "stabiel"}), "Faseovergang"),
    Shown("form-invalid", "coordinator",
          sent(girl("/forms/medical-assessment"), {"provider": ""}), "Medische beoordeling"),
    Shown("quality", "coordinator", at("/app/quality"), "Kernelementen"),
    Shown("quality-admin", "admin", at("/app/quality"), "Kernelementen"),
    Shown("handovers", "aftercare", at("/app/handovers"), "Overdrachten aan u"),
    Shown("handover", "aftercare", at(handed_over("/app/handovers/")), "Overdracht"),
    Shown("week-aftercare", "aftercare", at("/app/week?week=2"), "Deze week"),
    Shown("research", "researcher", at("/app/research"), "Onderzoeksexport"),
    Shown("research-wrong-code", "researcher",
          sent(lambda site: "/app/research", {"project": "toegankelijk",
                                              "reauth_password": "niet het wachtwoord",
                                              "reauth_code": "000000"}),
          "Onderzoeksexport"),
    Shown("export", "researcher", an_export, "Manifest"),
    Shown("projects", "researcher", at("/app/research/projects"), "Onderzoeksprojecten"),
    Shown("projects-admin", "admin", at("/app/research/projects"), "Onderzoeksprojecten"),
    Shown("project-admin", "admin", at("/app/research/projects/toegankelijk"),
          "Onderzoeksproject toegankelijk"),
    Shown("admin", "admin", at("/app/admin"), "Beheer"),
    Shown("admin-access-log", "admin", at(lambda s: f"/app/admin?trajectory={s.world.girl}"),
          "Beheer"),
    Shown("admin-users", "admin", at("/app/admin/users"), "Gebruikers van uw organisatie"),
    Shown("admin-log", "admin", at(lambda s: f"/app/admin/log?trajectory={s.world.girl}"),
          "Toegangslogboek"),
    # the privacy officer's pages (issue 18): a girl's access report, the signals, the log
    Shown("privacy-report-search", "privacy",
          at(f"/app/privacy/access-report?name={GIRL.split()[0]}"), "Inzageoverzicht"),
    Shown("privacy-report", "privacy",
          at(lambda s: f"/app/privacy/access-report/{s.world.girl}"),
          "Wie heeft dit dossier ingezien"),
    Shown("privacy-signals", "privacy", at("/app/privacy/anomalies"), "Opvallende inzage"),
    Shown("privacy-log", "privacy", at(lambda s: f"/app/admin/log?trajectory={s.world.girl}"),
          "Toegangslogboek"),
    Shown("out-of-view", "coordinator", girls_out_of_view, "Uit beeld"),
    Shown("out-of-view-aftercare", "aftercare", girls_out_of_view, "Uit beeld"),
    Shown("quality-out-of-view", "coordinator", at("/app/quality"), "Kernelementen"),
    Shown("not-found", "coordinator",
          at("/app/trajectories/00000000-0000-4000-8000-000000000000"), "Niet gevonden."),
    Shown("forbidden", "researcher", at("/app/caseload"), "U hebt geen toegang"),
    Shown("unknown-page", None, at("/app/no/such/page"), "Niet gevonden."),
    # Last: the English choice is remembered in the researcher's window from here on.
    Shown("research-in-english", "researcher", at("/app/research?lang=en"),
          "Research export"),
]


class People:
    """One signed-in window per person for the whole module; a fresh window for whoever
    is not (fully) signed in."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.windows: dict[str, Page] = {}

    def window(self, who: str | None) -> Page:
        if who is None or who.startswith("half:"):
            return self.site.window()
        if who not in self.windows:
            self.windows[who] = self.site.window()
            sign_in(self.windows[who], self.site, who)
        return self.windows[who]

    def open(self, shown: Shown) -> Page:
        page = self.window(shown.who)
        shown.reach(page, self.site)
        heading = page.locator("main h1")
        assert shown.heading in heading.inner_text(), (shown.name, page.url)
        return page


@pytest.fixture(scope="module")
def people(site: Site) -> People:
    """The module's app a day on, with one more fact, so that 'as of' yesterday differs
    from today."""
    world = site.world
    world.clock.advance(days=1)
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak"),
                      world.actor("coordinator"))
    return People(site)


def violations(page: Page, rules: list[str] | None = None) -> list[dict[str, Any]]:
    """What axe-core finds on the page as it is laid out now: all its rules, or these."""
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": rules}
    results: dict[str, Any] = AXE.run(page, options=options).response
    found: list[dict[str, Any]] = results["violations"]
    return found


@dataclass(frozen=True)
class LaidOut:
    """What axe-core found on a page at its window's width and, for what depends on the
    width, at a phone's 360 px; and how wide the document was on the phone."""

    found: list[dict[str, Any]]
    phone_width: int
    screenshot: Path

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [v for v in self.found if v["impact"] in BLOCKING]

    @property
    def too_wide(self) -> bool:
        return self.phone_width > PHONE["width"]


def at_both_widths(page: Page, shots: Shots, name: str, number: int | None = None) -> LaidOut:
    """axe-core on the page as it is laid out now, a screenshot, then the same at a phone's
    width (only the rules that depend on it) with its own screenshot; the window is put
    back as it was. The lesser violations are kept beside the screenshot, for a person to
    weigh."""
    viewport = page.viewport_size or DESKTOP
    found = violations(page)
    taken = shots(page, name, number=number)
    page.set_viewport_size(PHONE)
    try:
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        narrow = violations(page, NARROW_RULES)
        shots(page, f"{name}-360px", number=number)
    finally:
        page.set_viewport_size(viewport)
    taken.with_suffix(".axe.json").write_text(json.dumps(found + narrow, indent=1))
    return LaidOut(found=found + narrow, phone_width=width, screenshot=taken)


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}; at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in found
    )


@pytest.mark.parametrize("shown", PAGES, ids=[p.name for p in PAGES])
def test_every_page_passes_axe_and_fits_a_phone(people: People, shown: Shown, shots: Shots) -> None:
    """Given the page as its user reaches it, at desktop width;
    when axe-core checks it in the browser (contrast as rendered, names and labels,
    landmarks, ARIA), and again, for what depends on the width, with the window narrowed
    to a phone's 360 px;
    then no violation is serious or critical, and nothing sticks out sideways: the
    document is no wider than the screen (wide tables and the timeline scroll in a box
    of their own, which a keyboard can reach). The lesser violations are kept beside the
    screenshot, for a person to weigh.

    One window does both, so that each page is reached (and each form sent) once."""
    page = people.open(shown)
    laid = at_both_widths(page, shots, shown.name, number=PAGES.index(shown) + 1)
    assert not laid.blocking, describe(laid.blocking)
    assert not laid.too_wide, f"{shown.name} is {laid.phone_width} px wide on a phone: {page.url}"


def test_the_qr_code_for_a_new_authenticator_app_is_drawn_whole(people: People) -> None:
    """Given a coordinator linking a new authenticator app;
    when the page with its QR code is laid out, on a desktop and on a phone;
    then the code lies wholly inside its frame, the frame is square, and it is big
    enough to scan.

    A QR code cut off at its edge does not scan (it was, when the stylesheet narrowed an
    SVG drawn at a fixed size), and then she cannot link her app at all."""
    page = people.window("coordinator")
    page.goto(people.site.url("/app/account/totp"))
    try:
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            frame = page.locator("figure.qr svg").bounding_box()
            code = page.locator("figure.qr svg path.qrline").bounding_box()
            assert frame is not None
            assert code is not None
            assert code["x"] >= frame["x"] - 0.5, viewport
            assert code["y"] >= frame["y"] - 0.5, viewport
            assert code["x"] + code["width"] <= frame["x"] + frame["width"] + 0.5, viewport
            assert code["y"] + code["height"] <= frame["y"] + frame["height"] + 0.5, viewport
            assert abs(frame["width"] - frame["height"]) <= 2, viewport
            assert frame["width"] >= 150, viewport
    finally:
        page.set_viewport_size(DESKTOP)


def test_every_form_label_and_group_is_in_dutch_on_a_dutch_page() -> None:
    """Given every form (the intake too), once in Dutch and once in English;
    when their labels and the legends of their groups are set side by side;
    then only the words that are the same in both languages are the same.

    A label that falls back to the English field name sits on a page marked lang="nl":
    a screen reader reads it with Dutch sounds, and a coordinator reads English in the
    middle of a Dutch form (the intake's "Identity" was one, found in a screenshot)."""
    same_in_both = {"Instrument", "Setting", "Team"}
    nl, en = Translator("nl"), Translator("en")
    untranslated = []
    for spec in (*FORMS, INTAKE):
        dutch, english = fields_of(spec, nl, Context()), fields_of(spec, en, Context())
        for a, b in zip(dutch, english, strict=True):
            for said, other in ((a.label, b.label), (a.group, b.group)):
                if said and said == other and said not in same_in_both:
                    untranslated.append(f"{spec.slug}: {said}")
    assert not untranslated, sorted(set(untranslated))


def test_a_date_is_typed_day_first_on_a_dutch_page(people: People) -> None:
    """Given a coordinator's window in the Dutch locale, on Amsterdam time, at the intake;
    when she types 02032026 into the date of intake, as she would write 2-3-2026;
    then the field holds 2 March 2026, not 3 February, and the window's own clock and
    calendar are Dutch.

    A date field in the American order (mm/dd/yyyy) in a Dutch form turns the 2nd of
    March into the 3rd of February without a word, and the screenshots showed it so."""
    page = people.window("coordinator")
    page.goto(people.site.url("/app/trajectories/new"))
    field = page.locator('main input[name="intake_date"]')
    field.click()
    page.keyboard.type("02032026")
    assert field.input_value() == "2026-03-02"
    resolved = page.evaluate("Intl.DateTimeFormat().resolvedOptions()")
    assert (resolved["locale"], resolved["timeZone"]) == ("nl-NL", "Europe/Amsterdam")
