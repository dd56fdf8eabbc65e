"""What the browser tests share: finding Debian's Chromium, the live app with the web tests'
world of people and trajectories (`tests.web_support`) on a real SQLite file, signing in
through the pages as a person does, filling in a form, and a screenshot of every step.

Screenshots go to `artifacts/e2e/<test>/<NN>-<step>.png` under the repository, where CI
leaves them for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize

from tests.conftest import MASTER_KEY, FakeClock, all_protocols
from tests.live import live_server
from tests.web_support import PASSWORD, World, make_world
from trajectory.application import TrajectoryApplication
from trajectory.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
REQUIRE_BROWSER = os.environ.get("TRAJECTORY_REQUIRE_BROWSER") == "1"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # as root (CI) Chromium's sandbox does not start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium phones home, and the closed network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Date inputs follow the page's lang="nl" (day-month-year), as in a Dutch browser:
    # without it they follow the browser's own language, which for a browser installed
    # without its translations is US English (mm/dd/yyyy), whatever the context's locale.
    "--enable-blink-features=LangAttributeAwareFormControlUI",
]
LOCALE = "nl-NL"
TIMEZONE = "Europe/Amsterdam"
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=360, height=780)


def chromium_path() -> str | None:
    """The browser to drive: TRAJECTORY_CHROMIUM when set (a path or a command name),
    else `chromium` on the PATH (Debian's package puts it in /usr/bin)."""
    wanted = os.environ.get("TRAJECTORY_CHROMIUM") or "chromium"
    return shutil.which(wanted)


def missing_browser(reason: str) -> NoReturn:
    """Skip the browser tests, or fail them when the browser is required (CI)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"a browser is required (TRAJECTORY_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


# -- the live app ------------------------------------------------------------------------------


@contextmanager
def running_site(browser: Browser, directory: Path) -> Iterator[Site]:
    """The web tests' world (people with a password and a TOTP secret, three girls) in an
    SQLite file of its own, served over real HTTP on a free port."""
    clock = FakeClock()
    settings = Settings(
        database_url=f"sqlite:///{directory / 'trajectory.sqlite'}",
        snapshot_interval=10,
        master_key=MASTER_KEY,
    )
    app = TrajectoryApplication(settings, clock=clock, protocols=all_protocols())
    try:
        with pytest.MonkeyPatch.context() as patches:
            world = make_world(app, clock, patches, directory / "exports")
            with live_server(app) as live:
                site = Site(world=world, base_url=live.base_url, browser=browser)
                try:
                    yield site
                finally:
                    site.close()
    finally:
        app.close()


@dataclass
class Site:
    """The live app, seen from a browser: new windows, and the people who sign in."""

    world: World
    base_url: str
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def window(
        self, viewport: ViewportSize = DESKTOP, storage_state: Any = None
    ) -> Page:
        """A new browser window of its own (cookies and all), in Dutch and on Dutch time,
        as at a care home: the screenshots show what a coordinator sees."""
        context = self.browser.new_context(
            viewport=viewport, locale=LOCALE, timezone_id=TIMEZONE, storage_state=storage_state
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def code(self, who: str) -> str:
        """The code her authenticator app shows now; the clock then moves on a step (a
        code is good once)."""
        value = pyotp.TOTP(self.world.secrets[who]).at(self.world.clock())
        self.world.clock.advance(seconds=30)
        return value

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


# -- what a person does ------------------------------------------------------------------------


def submit(page: Page) -> None:
    """Press the form's button and wait for the page that answers it."""
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").last.click()


def password_step(page: Page, site: Site, who: str, shots: Shots | None = None) -> None:
    page.goto(site.url("/app/login"))
    page.get_by_label("Gebruikersnaam", exact=True).fill(who)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    if shots is not None:
        shots(page, "sign-in")
    submit(page)


def sign_in(page: Page, site: Site, who: str, shots: Shots | None = None) -> None:
    """The password, then the code from her authenticator app: she lands on her home page."""
    password_step(page, site, who, shots)
    assert "/app/login/code" in page.url, page.url
    page.get_by_label("Code uit de authenticator-app", exact=True).fill(site.code(who))
    if shots is not None:
        shots(page, "code")
    submit(page)
    assert "/app/login" not in page.url, page.url


Value = str | bool | list[str]


def fill(page: Page, values: Mapping[str, Value]) -> None:
    """Fill in the form on the page: a text for an input, a select's option value, a
    checkbox's state, or the values of a group of checkboxes to tick."""
    form = page.locator("main form[method=post]").last
    for name, value in values.items():
        if isinstance(value, list):
            for item in value:
                form.locator(f'input[name="{name}"][value="{item}"]').check()
            continue
        control = form.locator(f'[name="{name}"]')
        if isinstance(value, bool):
            control.set_checked(value)
        elif control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


# -- screenshots -------------------------------------------------------------------------------


_EMPTIED: set[Path] = set()


class Shots:
    """Numbered full-page screenshots of one test's steps, for CI to keep. A test's folder
    is emptied once a run; the cases of a parametrised test share their function's folder
    and number on from each other."""

    def __init__(self, directory: Path) -> None:
        if directory not in _EMPTIED:
            shutil.rmtree(directory, ignore_errors=True)
            _EMPTIED.add(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory

    @classmethod
    def of(cls, test_name: str) -> Shots:
        return cls(ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-"))

    def __call__(
        self, page: Page, step: str, part: Locator | None = None, number: int | None = None
    ) -> Path:
        """The whole page, or only a part of it (the timeline, say); numbered on from the
        last, or as given."""
        number = number or len(list(self.directory.glob("*.png"))) + 1
        path = self.directory / f"{number:02d}-{step}.png"
        if part is None:
            page.screenshot(path=path, full_page=True)
        else:
            part.screenshot(path=path)
        return path


# -- reading a printed PDF ---------------------------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(<<.*?>>)\s*(?:stream\r?\n(.*?)\r?\nendstream)?\s*endobj",
                     re.S)
_REF = re.compile(rb"/(\w+)\s+(\d+) 0 R")
_SHOW = re.compile(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj|\[(.*?)\]\s*TJ|(ET)", re.S)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _unicode_map(cmap: bytes) -> dict[int, str]:
    """A font's ToUnicode map: each glyph code to its text (`bfchar` and `bfrange`)."""
    found: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, first in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            for n, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                found[code] = chr(int(first, 16) + n)
    return found


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF that Chromium printed (Skia's: Flate streams, fonts
    with a ToUnicode map, text shown as hex glyph codes), one line a text block. Enough to
    read what a printout says, without a PDF library."""
    objects: dict[int, tuple[bytes, bytes]] = {}
    for number, head, stream in _OBJECT.findall(data):
        if stream and b"/FlateDecode" in head:
            stream = zlib.decompress(stream)
        objects[int(number)] = (head, stream)
    maps: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", head)
        if to_unicode:
            maps[number] = _unicode_map(objects[int(to_unicode.group(1))][1])
    pages = []
    for head, _ in objects.values():
        if not re.search(rb"/Type\s*/Page(?!s)", head):
            continue
        fonts_at = re.search(rb"/Font\s*<<(.*?)>>", head, re.S)
        fonts = {name: maps.get(int(ref), {})
                 for name, ref in _REF.findall(fonts_at.group(1) if fonts_at else b"")}
        contents = re.search(rb"/Contents\s+(?:\[(.*?)\]|(\d+) 0 R)", head, re.S)
        refs = re.findall(rb"(\d+) 0 R", contents.group(1)) if contents and contents.group(1) \
            else [contents.group(2)] if contents else []
        text, font = [], {}
        for ref in refs:
            for name, shown, shown_list, end in _SHOW.findall(objects[int(ref)][1]):
                if name:
                    font = fonts.get(name, {})
                elif end:
                    text.append("\n")
                else:
                    for run in [shown] if shown else _HEX.findall(shown_list):
                        codes = bytes.fromhex(run.decode())
                        text.extend(font.get(int.from_bytes(codes[i:i + 2]), "?")
                                    for i in range(0, len(codes), 2))
        pages.append(re.sub(r"\n+", "\n", "".join(text)))
    return pages
