"""Fixtures of the browser tests: one Chromium for all of them (closed before the rest of
the suite runs), one live app per test module, and a folder of screenshots per test.

Without a browser the tests skip, unless TRAJECTORY_REQUIRE_BROWSER=1 (as in CI), when
they fail: `scripts/ensure-browser` installs Debian's chromium.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Error, sync_playwright

from tests.e2e.support import (
    CHROMIUM_ARGS,
    Shots,
    Site,
    chromium_path,
    missing_browser,
    running_site,
)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        missing_browser("no browser: neither TRAJECTORY_CHROMIUM nor chromium on the PATH"
                        " (scripts/ensure-browser installs Debian's)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except Error as e:
            pytest.fail(f"chromium at {path} did not start: {e}")
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def site(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The live app for one test module; its tests touch different girls, or only read."""
    with running_site(browser, tmp_path_factory.mktemp("site")) as live:
        yield live


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    """artifacts/e2e/<test function>/<NN>-<step>.png"""
    return Shots.of(request.node.originalname)
