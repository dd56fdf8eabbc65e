"""Every item that falls due links to the form that records it, on every page that lists
it (the caseload, this week, her page): an item without a link leaves the coordinator to
search the menu of forms for it, in the middle of her day (the CoMensha report was one,
seen in the browser walk of her day)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web_support import World
from trajectory.protocol import attention
from trajectory.web.forms import BY_SLUG, SATISFIED_BY


def test_the_comensha_report_due_links_to_its_form_on_every_page(world: World) -> None:
    """Given a girl whose registration with CoMensha was decided (by name), the report
    not yet sent;
    when her coordinator opens the caseload, this week and her page;
    then the item "send the CoMensha report" links to the form that records it."""
    h = world.handed_over
    form = f'href="/app/trajectories/{h}/forms/comensha-report"'
    with world.browser("coordinator") as b:
        for path in ("/app/caseload", "/app/week", f"/app/trajectories/{h}"):
            page = b.get(path)
            assert page.status_code == 200, path
            assert "CoMensha-melding versturen" in page.text, path
            assert form in page.text, path


def test_every_item_the_protocol_makes_due_has_a_form() -> None:
    """Given every kind of item the protocol's attention rules can make due;
    when each is looked up among the forms;
    then each has a form that records it (the pages link to it)."""
    source = Path(attention.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'_due\(\s*"([a-z0-9-]+)"', source))
    assert len(codes) >= 10, codes
    formless = sorted(c for c in codes if SATISFIED_BY.get(c) not in BY_SLUG)
    assert not formless, formless
