"""The quality page and the timeline in words people read (issue 17, review M7 and M6):
the per-girl matrix names each girl for a coordinator and leads from each "to do" to the
form that does it, its columns carry short names of the core elements, the
organisation's own elements stand apart; the quality officer sees no girl at all; the
timeline's axis reads month names and every mark is also written out below it."""

from __future__ import annotations

import html as html_text
import re

from tests.web_support import GIRL, HANDED_OVER_GIRL, Page, World, sqlite_only
from trajectory.protocol.evidence import ORGANISATION_LEVEL
from trajectory.web.i18n import Translator

_HEX = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b")


def _matrix(html: str) -> str:
    start = html.index('id="h-per-trajectory"')
    return html[start:html.index("</table>", start)]


def test_a_coordinator_sees_each_girl_by_name_and_each_to_do_leads_to_its_form(
    world: World,
) -> None:
    """Given her organisation's girls; when a coordinator opens the quality page; then
    each girl's row is headed by her name linked to her page (no hex id anywhere), each
    column by a short name with the element's full name beside it, the organisation's
    elements 1 and 9 are not per-girl columns, and a "to do" cell is a link to the form
    that records it."""
    with world.browser("coordinator") as b:
        html = b.get("/app/quality").text
        earlier = b.get("/app/quality", params={"axis": "happened", "day": "2026-02-01"}).text
    assert "/forms/" not in _matrix(earlier)  # an earlier day's to-do may be done since
    matrix = _matrix(html)
    assert f'<a href="/app/trajectories/{world.girl}">{GIRL}</a>' in matrix
    assert f">{HANDED_OVER_GIRL}</a>" in matrix
    assert not _HEX.findall(Page.of(html).all_text())
    header = matrix[matrix.index("<thead>"):matrix.index("</thead>")]
    assert '<abbr title="Veiligheid voorop">Veiligheid</abbr>' in header
    assert not re.search(r'<th scope="col"[^>]*>\s*\d+\s*</th>', header)
    for element in ORGANISATION_LEVEL:
        assert f'data-element="{element}"' not in matrix
    assert f'href="/app/trajectories/{world.girl}/forms/safety-analysis"' in matrix


def test_the_quality_officer_sees_totals_and_no_girl(world: World) -> None:
    """Given girls in care; when the quality officer opens the quality page; then she sees
    the totals, and neither a name nor an id of any girl."""
    with world.browser("quality") as b:
        html = b.get("/app/quality").text
    assert "Veiligheid voorop" in html
    assert 'id="h-per-trajectory"' not in html
    for secret in (GIRL, HANDED_OVER_GIRL, str(world.girl), str(world.girl)[:8]):
        assert secret not in html


def test_the_chart_names_each_element_whole_and_the_organisation_elements_apart(
    world: World,
) -> None:
    """The chart's labels are short names, never cut mid-word; elements 1 and 9 are the
    organisation's own box, not per-girl bars nor rows of the per-girl totals."""
    with world.browser("coordinator") as b:
        html = b.get("/app/quality").text
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', html)
    assert labels
    assert not any("…" in label for label in labels)
    assert "Vervolgstappen" in labels
    box = html[html.index('id="h-organisation-elements"'):html.index("</section>")]
    assert 'data-element="1"' in box
    assert 'data-element="9"' in box
    figures = html[html.index('<figure class="chart"'):html.index("</figure>")]
    assert "Professionals kennen" not in figures


def test_a_month_reads_as_a_short_month_name_in_both_languages() -> None:
    from datetime import date

    assert Translator("nl").month_short(date(2026, 5, 1)) == "mei '26"
    assert Translator("nl").month_short(date(2026, 3, 1)) == "mrt '26"
    assert Translator("en").month_short(date(2026, 5, 1)) == "May '26"


@sqlite_only
def test_the_timeline_reads_month_names_and_writes_out_every_mark(world: World) -> None:
    """Given the handed-over girl (a handover prepared and its meeting held); when her
    timeline is opened; then the axis reads month names ("jan '26"), not "1-2026", and
    below the drawing each mark and bar is written out with its day, the handover steps
    by name, readable without a mouse."""
    with world.browser("coordinator") as b:
        html = b.get(f"/app/trajectories/{world.handed_over}/timeline").text
    ticks = [html_text.unescape(tick) for tick in
             re.findall(r'<text class="tick-label"[^>]*>([^<]*)</text>', html)]
    assert ticks
    assert all(re.fullmatch(r"[a-z]{3} '\d\d", tick) for tick in ticks)
    listed = html[html.index('class="timeline-list"'):]
    listed = Page.of(listed[:listed.index("</dl>")]).all_text()
    assert "Overdracht" in listed
    assert "Overdracht voorbereid" in listed
    assert "Fase 1" in listed


def test_the_timeline_is_never_drawn_smaller_than_its_own_units() -> None:
    """On a phone the drawing keeps its width (its box scrolls, the page does not), so a
    label of 12 units is 12 px: the review read ~8 px labels at 390 px."""
    from pathlib import Path

    from trajectory.web import timeline

    css = (Path(timeline.__file__).parent / "static" / "style.css").read_text()
    rule = re.search(r"svg\.timeline \{[^}]*min-width: (\d+)px", css)
    assert rule is not None
    assert int(rule.group(1)) >= timeline.WIDTH
    assert re.search(r"\.lane-label, \.tick-label[^{]*\{[^}]*font-size: 12px", css)
