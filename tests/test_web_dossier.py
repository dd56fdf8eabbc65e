"""The girl's page as a dossier: a first screen (who she is, where she stands, what is due,
the next actions), its sections each on their own address under a tab bar, the history
filtered by kind and period and paged, a print view, and the two time axes: the day
things happened, and what was known (recorded) by the end of a day."""

from __future__ import annotations

import re

import msgspec

from tests.builders import phase_2_facts, record_all
from tests.test_web_words import english_only_words, shown_text, untranslated
from tests.web_support import GIRL, Page, World, sqlite_only
from trajectory.commands import ChangePermission, CorrectEntry, ReportRunaway

SECTIONS = ("timeline", "permissions-and-network", "treatment", "school", "safety",
            "handover-and-aftercare", "history", "record")


def _text(html: str) -> str:
    return " ".join(Page.of(html).all_text().split())


def test_a_day_after_intake_as_it_happened_shows_her_state_that_day_though_typed_later(
    world: World,
) -> None:
    """H4: she was taken in on 5-1-2026, everything was typed in on 2-3-2026. Asked how
    things stood on 1-2-2026, the page shows her then (phase 1, the phone as it was
    changed on 20-1), not "not recorded yet"; the day before intake she was not in care."""
    # Given a permission change that happened on 20-1, typed in weeks later
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak",
                                                   occurred_on="2026-01-20"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        # When she asks how it stood on 1-2-2026, as it happened
        then = b.get(f"/app/trajectories/{world.girl}",
                     params={"axis": "happened", "day": "2026-02-01"})
        # Then she sees it, in phase 1 with the phone under supervision
        assert then.status_code == 200, then.text
        text = _text(then.text)
        assert "zoals het gebeurde op 1-2-2026" in text
        assert "Fase 1: stabilisatie" in text
        assert "telefoon onder toezicht onder toezicht" in text  # her level, the cap
        # and on 10-1 the phone was not changed yet
        before = b.get(f"/app/trajectories/{world.girl}/permissions-and-network",
                       params={"axis": "happened", "day": "2026-01-10"})
        assert before.status_code == 200
        assert "telefoon geen onder toezicht" in _text(before.text)
        # the day before intake: she was not in care yet
        earlier = b.get(f"/app/trajectories/{world.girl}",
                        params={"axis": "happened", "day": "2026-01-04"})
        assert earlier.status_code == 404
        assert "Op 4-1-2026 was zij nog niet in zorg." in earlier.text
        # As it was known on 1-2-2026: nothing was recorded then
        known = b.get(f"/app/trajectories/{world.girl}",
                      params={"axis": "known", "day": "2026-02-01"})
        assert known.status_code == 404
        assert "Op 1-2-2026 was dit dossier nog niet vastgelegd." in known.text


def test_both_time_axes_are_named_and_explained_on_every_section(world: World) -> None:
    with world.browser("coordinator") as b:
        for section in ("", *SECTIONS[:-1]):
            path = f"/app/trajectories/{world.girl}" + (f"/{section}" if section else "")
            text = _text(b.get(path).text)
            assert "Zoals het gebeurde op" in text, section
            assert "Zoals het bekend was op" in text, section
            assert "de dag waarop het gebeurde" in text, section
            assert "wat op die dag was vastgelegd" in text, section


@sqlite_only
def test_every_section_has_its_own_address_and_a_tab_bar_marking_it(world: World) -> None:
    with world.browser("coordinator") as b:
        for section in ("", *SECTIONS):
            path = f"/app/trajectories/{world.girl}" + (f"/{section}" if section else "")
            answer = b.get(path)
            assert answer.status_code == 200, (section, answer.text)
            tabs = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', answer.text, re.S)
            assert tabs is not None, section
            links = re.findall(r'<a href="([^"]+)"( aria-current="page")?', tabs.group(1))
            assert len(links) == len(SECTIONS) + 1
            current = [href for href, mark in links if mark]
            assert current == [path], section
        assert b.get(f"/app/trajectories/{world.girl}/nonsense").status_code == 404


@sqlite_only
def test_the_record_menu_sits_on_its_own_address_not_between_the_content(world: World) -> None:
    with world.browser("coordinator") as b:
        first = b.get(f"/app/trajectories/{world.girl}").text
        assert first.count("/forms/") < 15  # the next actions, not the forty-link menu
        menu = b.get(f"/app/trajectories/{world.girl}/record").text
        assert menu.count("/forms/") >= 35
        history = b.get(f"/app/trajectories/{world.girl}/history").text
        assert 'id="h-record"' not in history


@sqlite_only
def test_the_first_screen_says_who_she_is_where_she_stands_and_what_is_due(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        text = _text(b.get(f"/app/trajectories/{world.girl}").text)
    assert GIRL in text
    assert "Fase 1: stabilisatie" in text
    assert "Dagen in fase" in text
    assert "Maximum in deze fase" in text
    assert "veiligheidsanalyse" in text  # due
    assert "Volgende stappen" in text


@sqlite_only
def test_the_phase_button_says_what_is_missing_with_a_link_to_each_form(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}").text
    assert "Nog niet naar fase 2. Ontbrekende voorwaarden (6):" in _text(page)
    assert 'class="button" href="/app/trajectories/' not in page.split('id="h-next"')[1]
    block = page.split('id="h-next"')[1].split("</section>")[0]
    for slug in ("safety-analysis", "medical-assessment", "care-analysis", "treatment-plan",
                 "placement", "education"):
        assert f"/app/trajectories/{world.girl}/forms/{slug}" in block


@sqlite_only
def test_the_phase_button_shows_when_she_can_move_on(world: World) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    world.clock.advance(days=30)
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}").text
    block = page.split('id="h-next"')[1].split("</section>")[0]
    assert f'href="/app/trajectories/{world.girl}/forms/phase-transition"' in block
    assert "Naar fase 2" in block
    assert "Nog niet naar fase" not in block


@sqlite_only
def test_while_she_is_missing_the_phase_button_says_so_and_leads_to_the_return(
    world: World,
) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    world.clock.advance(days=30)
    world.app.execute(world.girl, ReportRunaway(from_where="de groep"), world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}").text
    block = page.split('id="h-next"')[1].split("</section>")[0]
    assert "Zij is weggelopen" in _text(block)
    assert f"/app/trajectories/{world.girl}/forms/runaway-return" in block
    assert "forms/phase-transition" not in block


@sqlite_only
def test_the_history_is_filtered_by_kind_and_period_and_paged_newest_first(
    world: World,
) -> None:
    coordinator = world.actor("coordinator")
    record_all(world.app, world.girl, phase_2_facts()[:1], coordinator)  # no. 2
    for i in range(30):
        world.app.execute(world.girl, ChangePermission(
            kind="phone", level="none" if i % 2 else "supervised", reason=f"r{i}",
            occurred_on=f"2026-02-{1 + i % 28:02d}"), coordinator)
    with world.browser("coordinator") as b:
        path = f"/app/trajectories/{world.girl}/history"
        first = b.get(path).text
        positions = [int(p) for p in re.findall(r'id="entry-(\d+)"', first)]
        assert positions == list(range(32, 7, -1))  # 25 a page, newest first
        assert 'href="' + path + '?page=2"' in first.replace("&amp;", "&")
        second = b.get(path, params={"page": "2"}).text
        assert [int(p) for p in re.findall(r'id="entry-(\d+)"', second)] == list(
            range(7, 0, -1))
        safety = b.get(path, params={"kind": "safety"}).text
        assert re.findall(r'id="entry-(\d+)"', safety) == ["2"]
        assert 'selected' in safety.split('value="safety"')[1][:20]
        period = b.get(path, params={"kind": "phasing", "from": "2026-02-03",
                                     "to": "2026-02-04"}).text
        days = re.findall(r"Gebeurd op (\d+-\d+-\d+)", _text(period))
        assert days
        assert set(days) <= {"3-2-2026", "4-2-2026"}
        assert "Veiligheidsanalyse" not in _text(period).split("Geschiedenis")[-1]
        # a correction on the first page of an entry on the second points to that page
        world.app.execute(world.girl, CorrectEntry(position=2, reason="ander instrument"),
                          coordinator)
        newest = b.get(path).text
        assert f'href="{path}?page=2#entry-2"' in newest


@sqlite_only
def test_a_correction_stays_beside_what_it_corrects_in_the_filtered_history(
    world: World,
) -> None:
    record_all(world.app, world.girl, phase_2_facts()[:1], world.actor("coordinator"))
    world.app.execute(world.girl, CorrectEntry(position=2, reason="instrument was SAVRY"),
                      world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}/history", params={"kind": "safety"})
    entry = page.text[page.text.index('id="entry-2"'):]
    entry = entry[: entry.index("</li>")]
    assert "Gecorrigeerd door nr. 3: instrument was SAVRY" in entry


@sqlite_only
def test_the_print_view_holds_every_section_each_on_its_own_page(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}/print")
    assert page.status_code == 200
    assert page.text.count('<section class="page"') == 7
    assert 'class="tabs' not in page.text
    assert "/forms/" not in page.text


@sqlite_only
def test_the_timeline_legend_names_each_phase_and_the_safety_marks(world: World) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}/timeline").text
    assert 'class="mark safety-analysis"' in page
    legend = page.split('class="legend"')[1].split("</ul>")[0]
    assert "swatch phase-1" in legend
    assert "swatch safety-analysis" in legend
    assert "swatch therapy" in legend


def _element_5(html: str, tid: object) -> str | None:
    """The status class of core element 5 in her row of the quality matrix (None: no row)."""
    at = html.find(f'href="/app/trajectories/{tid}"')
    if at < 0:
        return None
    row = html[at:html.index("</tr>", at)]
    cell = re.search(r'<td class="([^"]+)" data-element="5"', row)
    return cell.group(1) if cell else None


def test_the_quality_page_counts_by_either_axis_each_explained(world: World) -> None:
    """Given a safety analysis (core element 5) that happened on 1-3 and was typed in on
    4-3; when the quality page is asked about 2-3 on either axis; then by the day things
    happened it counts, by what was known on 2-3 it does not; and on 1-2 nothing about
    her had been recorded yet, though she was in care."""
    world.clock.advance(days=2)
    analysis = msgspec.structs.replace(phase_2_facts()[0], occurred_on="2026-03-01")
    record_all(world.app, world.girl, [analysis], world.actor("coordinator"))
    with world.browser("coordinator") as b:
        plain = _text(b.get("/app/quality").text)
        assert "Zoals het gebeurde op" in plain
        assert "Zoals het bekend was op" in plain
        assert "dag waarop het gebeurde" in plain
        assert "wat tot het eind van die dag was vastgelegd" in plain
        happened = b.get("/app/quality", params={"axis": "happened", "day": "2026-03-02"})
        known = b.get("/app/quality", params={"axis": "known", "day": "2026-03-02"})
        assert _element_5(happened.text, world.girl) == "st-evidenced"
        assert _element_5(known.text, world.girl) not in (None, "st-evidenced")
        old = b.get("/app/quality", params={"as_of": "2026-03-02"})  # an old link
        assert _element_5(old.text, world.girl) == "st-evidenced"
        then = b.get("/app/quality", params={"axis": "happened", "day": "2026-02-01"})
        assert _element_5(then.text, world.girl) is not None
        unknown = b.get("/app/quality", params={"axis": "known", "day": "2026-02-01"})
        assert _element_5(unknown.text, world.girl) is None


@sqlite_only
def test_no_section_of_her_dossier_shows_an_english_word_or_a_code(world: World) -> None:
    """Given a girl with the facts of phase 1 and an open runaway, and a handed-over girl;
    when every section of their dossiers (and the print view, and a day in the past on
    both axes) is opened in Dutch; then no piece of text is an English word or a code."""
    actor = world.actor("coordinator")
    record_all(world.app, world.girl, phase_2_facts(), actor)
    world.clock.advance(days=2)
    world.app.execute(world.girl, ReportRunaway(from_where="groep"), actor)
    english = english_only_words()
    paths = [
        path
        for base in (f"/app/trajectories/{world.girl}", f"/app/trajectories/{world.handed_over}")
        for path in (base, f"{base}/print", f"{base}?axis=happened&day=2026-02-01",
                     f"{base}/history?as_of=2026-03-02&kind=safety",
                     *[f"{base}/{section}" for section in SECTIONS])
    ]
    with world.browser("coordinator") as b:
        answers = {path: b.get(path) for path in paths}
    assert all(a.status_code == 200 for a in answers.values())
    shown = {path: untranslated(shown_text(a.text), english) for path, a in answers.items()}
    assert not {path: words for path, words in shown.items() if words}


@sqlite_only
def test_the_first_screen_shows_what_is_new_since_her_previous_visit(world: World) -> None:
    """Given a coordinator who read the girl's file yesterday, after which two facts were
    recorded; when she opens it today; then the first screen lists those two as new since
    her visit, each linking to its entry. Her first visit ever singles out nothing."""
    coordinator = world.actor("coordinator")
    with world.browser("coordinator") as b:
        first = b.get(f"/app/trajectories/{world.girl}").text
        assert "Nieuw sinds uw vorige bezoek" not in first
    world.clock.advance(hours=2)
    world.app.execute(world.girl, ChangePermission(kind="phone", level="supervised",
                                                   reason="afspraak"), coordinator)
    record_all(world.app, world.girl, phase_2_facts()[:1], coordinator)
    world.clock.advance(days=1)
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}").text
        again = b.get(f"/app/trajectories/{world.girl}").text  # the same day: still new
    text = _text(page)
    assert "Nieuw sinds uw vorige bezoek (2-3-2026 10:00)" in text
    news = page.split('class="news"')[1].split("</ul>")[0]
    assert "Veiligheidsanalyse" in news
    assert "Vrijheid gewijzigd" in news
    assert f'href="/app/trajectories/{world.girl}/history#entry-3"' in news
    assert "Nieuw sinds uw vorige bezoek (2-3-2026 10:00)" in _text(again)
