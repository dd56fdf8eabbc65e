"""Every page, for every role: inputs labelled, nothing loaded from outside the server, no
inline styles (the pages' CSP forbids them), the language chosen and remembered; the
quality page as a table and a chart; the words of both languages; the timeline."""

from __future__ import annotations

import re
import typing
from datetime import date
from pathlib import Path

import pytest

from tests.builders import phase_2_facts, record_all
from tests.web_support import Page, World, sqlite_only
from trajectory.aggregates import vocabulary
from trajectory.aggregates.errors import PermissionAboveCap, RuleRefused
from trajectory.commands import ChangePermission, EndRunaway, ReportRunaway, TransitionPhase
from trajectory.protocol import default_protocol
from trajectory.web import timeline
from trajectory.web.i18n import Translator, catalogue, choose_language
from trajectory.web.organisation_pages import ORGANISATION_FORMS
from trajectory.web.refusals import explain

STATIC = Path(__file__).parent.parent / "src" / "trajectory" / "web" / "static"


def _pages(world: World) -> dict[str, list[str]]:
    g, h = world.girl, world.handed_over
    return {
        "coordinator": [
            "/app/caseload", "/app/caseload?q=noor&phase=1&status=in_care&overdue=1",
            "/app/trajectories/new", f"/app/trajectories/{g}", f"/app/trajectories/{h}",
            f"/app/trajectories/{g}?as_of=2026-03-02", "/app/quality", "/app/account",
            "/app/account/totp",
        ],
        "aftercare": ["/app/handovers", f"/app/handovers/{h}",
                      f"/app/trajectories/{h}/forms/aftercare-contact"],
        "researcher": ["/app/research"],
        "admin": ["/app/admin", f"/app/admin?trajectory={g}", "/app/quality",
                  "/app/organisation"],
        "quality": ["/app/organisation", "/app/quality",
                    *(f"/app/organisation/forms/{spec.slug}" for spec in ORGANISATION_FORMS)],
        "inspector": ["/app/inspection", "/app/inspection?as_of=2026-01-31"],
    }


@pytest.mark.parametrize("lang", ["nl", "en"])
@sqlite_only
def test_every_page_is_labelled_self_contained_and_in_the_chosen_language(
    world: World, lang: str
) -> None:
    world.clock.advance(days=1)  # so that "as of" the day of intake lies in the past
    with world.browser() as anonymous:
        pages = {"": [anonymous.get(f"/app/login?lang={lang}")]}
        assert anonymous.get("/app/login").text.startswith("<!doctype html>")
    for who, paths in _pages(world).items():
        with world.browser(who) as b:
            b.get(f"/app/account?lang={lang}")  # chosen once, remembered in a cookie
            pages[who] = [b.get(path) for path in paths]
    for who, answers in pages.items():
        for answer in answers:
            where = (who, str(answer.url))
            assert answer.status_code == 200, where
            csp = answer.headers["content-security-policy"]
            assert "default-src 'none'" in csp, where
            assert "unsafe-inline" not in csp, where
            assert answer.headers["cache-control"] == "no-store", where
            page = Page.of(answer.text)
            assert not page.unlabelled(), (where, page.unlabelled())
            assert not page.external_urls(), (where, page.external_urls())
            assert not [e for e in page.elements if "style" in e.attrs], where
            assert not page.find("script"), where
            assert f'<html lang="{lang}">' in answer.text, where
            assert page.find("meta", name="viewport"), where
            assert page.find("main", id="main"), where
            assert page.find("a", **{"class": "skip"}), where
            ids = [e.attrs["id"] for e in page.elements if e.attrs.get("id")]
            assert len(ids) == len(set(ids)), (where, "ids must be unique")


@sqlite_only
def test_the_stylesheet_is_our_own_and_shows_focus_and_fits_a_phone(world: World) -> None:
    with world.browser() as b:
        answer = b.get("/app/static/style.css")
        assert answer.status_code == 200
        css = answer.text
    assert ":focus-visible" in css
    assert "@media (max-width: 40rem)" in css
    assert "@import" not in css
    assert not re.search(r"url\(", css)
    assert css == (STATIC / "style.css").read_text()


def test_the_quality_page_shows_the_matrix_as_a_table_and_a_chart(world: World) -> None:
    record_all(world.app, world.girl, phase_2_facts(), world.actor("coordinator"))
    with world.browser("coordinator") as b:
        page = b.get("/app/quality")
        assert page.status_code == 200
        parsed = Page.of(page.text)
        rows = [e for e in parsed.find("th", scope="row")]
        assert len(rows) >= 15 + 2  # 15 elements, and one row per trajectory
        assert "Veiligheid voorop" in page.text
        assert page.text.count('class="st-evidenced"') >= 1  # the chart's bars
        assert 'role="img"' in page.text
        earlier = b.get("/app/quality", params={"as_of": "2026-01-01"})
        assert earlier.status_code == 200
    with world.browser("admin") as admin:  # totals only, never per trajectory
        page = admin.get("/app/quality")
        assert page.status_code == 200
        assert str(world.girl) not in page.text


@sqlite_only
def test_error_pages_are_pages_in_the_users_language(world: World) -> None:
    with world.browser("coordinator") as b:
        missing = b.get("/app/trajectories/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404
        assert "Niet gevonden." in missing.text
        assert missing.headers["content-type"].startswith("text/html")
        english = b.get("/app/research?lang=en")
        assert english.status_code == 403
        assert "You may not open this page." in english.text


@sqlite_only
def test_the_api_keeps_its_strict_policy_beside_the_pages(world: World) -> None:
    with world.browser() as b:
        health = b.get("/health")
        assert health.status_code == 200
        assert health.headers["content-security-policy"].startswith("default-src 'none'; frame")
        # (no page in the API's schema; `/approvals` of a research project is no page)
        paths = b.get("/schema/openapi.json").json()["paths"]
        assert not [p for p in paths if p == "/app" or p.startswith("/app/")]


def test_both_languages_have_the_same_words_and_every_code_a_dutch_one() -> None:
    assert catalogue("nl").keys == catalogue("en").keys
    codes: set[str] = set()
    for name in dir(vocabulary):
        value = getattr(vocabulary, name)
        if typing.get_origin(value) is typing.Literal:
            codes |= {str(v) for v in typing.get_args(value)}
    missing = sorted(c for c in codes if not Translator("nl").has("value", c))
    assert not missing, missing
    assert choose_language(None, None, "en-GB,en;q=0.9") == "en"
    assert choose_language(None, "en", "nl") == "en"
    assert choose_language("nl", "en", "en") == "nl"
    assert choose_language(None, None, "de-DE") == "nl"


def test_a_refusal_reads_as_a_sentence_built_from_its_details() -> None:
    protocol = default_protocol()
    from tests.builders import COORDINATOR, intake
    from trajectory.aggregates.trajectory import Meta, Trajectory

    meta = Meta(recorded_by="c", occurred_on=date(2026, 1, 5), today=date(2026, 1, 5))
    t = Trajectory.open(meta=meta, protocol=protocol, organisation="o", coordinator="c",
                        referral_source="p", legal_framework="ots", setting="residential",
                        victim_status="suspected", risk_profiles=["traumatised"],
                        risk_assessment_instrument="r", risk_assessment_result="",
                        identity=intake().identity)
    del COORDINATOR
    refusal = PermissionAboveCap("in phase 1 phone is allowed at most 'supervised'")
    for kind, nl in (("phone", "In fase 1 is telefoongebruik alleen onder toezicht toegestaan"),
                     ("contact_with_boys", "In fase 1 is contact met jongens niet toegestaan"),
                     ("leave", "In fase 1 is verlof alleen begeleid toegestaan")):
        command = ChangePermission(kind=kind, level="free")
        said = explain(Translator("nl"), refusal, command, t.state, protocol)
        assert said.sentence.startswith(nl), said.sentence
    skip = explain(Translator("nl"), RuleRefused("x", code="phase-skip"),
                   TransitionPhase(to_phase=3), t.state, protocol)
    assert skip.sentence == "Fasen gaan één voor één: vanuit fase 1 is de volgende fase 2."
    unknown = explain(Translator("en"), RuleRefused("a new rule", code="brand-new"), None,
                      None, None)
    assert unknown.sentence == "The protocol does not allow this."
    assert unknown.detail == "a new rule"


@sqlite_only
def test_the_timeline_draws_phases_runaways_and_an_open_runaway(world: World) -> None:
    actor = world.actor("coordinator")
    record_all(world.app, world.girl, phase_2_facts(), actor)
    for days, command in (
        (3, TransitionPhase(to_phase=2, reason="stabiel")),
        (3, ReportRunaway(from_where="groep")),
        (2, EndRunaway(ending="returned")),
        (5, ReportRunaway(from_where="school")),
    ):
        world.clock.advance(days=days)
        world.app.execute(world.girl, command, actor)
    world.clock.advance(days=5)
    drawn = timeline.build(Translator("nl"), world.app.stream(world.girl), date(2026, 3, 20))
    phases = drawn.lanes[0].bars
    assert [b.text for b in phases] == ["1", "2"]
    assert phases[0].x < phases[1].x
    runaways = drawn.lanes[1].bars
    assert len(runaways) == 2
    assert runaways[-1].css == "runaway open"
    assert runaways[-1].x + runaways[-1].width == pytest.approx(drawn.today_x, abs=0.5)
    assert drawn.start == date(2026, 1, 5)
    assert drawn.ticks


@sqlite_only
def test_an_unknown_page_is_a_page_too(world: World) -> None:
    with world.browser() as b:
        answer = b.get("/app/no/such/page")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "Niet gevonden." in answer.text
        assert b.get("/app/static/style.css").status_code == 200


MANIFEST_NAMES = ("trajectories_in_store", "trajectories_exported", "left_out_no_consent",
                  "left_out_erased", "left_out_observed_under_4_weeks", "events_exported",
                  "observation_end", "protocols", "root")


@sqlite_only
def test_the_export_page_names_its_counts_in_words_not_field_names(world: World) -> None:
    """Given an export of the three girls, two of whom gave research consent;
    when the researcher opens its page, in Dutch and then in English;
    then each count and parameter reads as words of that language (with its number),
    the day observation ended is written as people here write a day, none of the
    manifest's own field names shows, and the list of exports says how many girls of
    how many are in each.

    The page is where a researcher, and the coordinator she shows it to, check who was
    left out and why; `left_out_no_consent` is a field name, not a sentence."""
    world.give_research_consent(world.girl)
    world.give_research_consent(world.handed_over)
    world.approve_project("woorden")
    with world.browser("researcher") as b:
        done = b.export("woorden")
        assert done.status_code == 303, done.text
        page = done.headers["location"].partition("?")[0]
        dutch = Page.of(b.get(page).text).all_text()
        english = Page.of(b.get(page + "?lang=en").text).all_text()
        listed = Page.of(b.get("/app/research?lang=nl").text).all_text()

    assert "2 van de 3 trajecten" in listed
    assert "Trajecten in de opslag 3" in dutch
    assert "Weggelaten: geen toestemming voor onderzoek 1" in dutch
    assert "Einde van de observatie 2-3-2026" in dutch
    assert "Trajectories in the store 3" in english
    assert "Left out: no research consent 1" in english
    assert "End of observation 2 Mar 2026" in english
    for text in (dutch, english):
        shown = set(re.findall(r"[a-z0-9_]+", text))
        assert not shown & set(MANIFEST_NAMES), shown & set(MANIFEST_NAMES)


def test_a_logged_moment_reads_on_amsterdam_time_and_a_manifest_day_as_a_day() -> None:
    """Given a moment as the access log stores it (UTC, RFC 3339) and a day as a manifest
    writes it (ISO);
    when a page shows them, in Dutch and in English;
    then the moment is on the clock of the care home (an hour on in winter, two in
    summer) and the day is written as people write one; text that is neither stays.

    An administrator holds the log against what a coordinator tells her ("at ten this
    morning"): in UTC every entry is an hour or two off."""
    nl, en = Translator("nl"), Translator("en")
    assert nl.moment("2026-03-03T09:00:30+00:00") == "3-3-2026 10:00:30"
    assert nl.moment("2026-07-01T22:15:00Z") == "2-7-2026 00:15:00"
    assert en.moment("2026-03-03T09:00:30+00:00") == "3 Mar 2026 10:00:30"
    assert nl.date("2026-03-02") == "2-3-2026"
    assert en.date("2026-03-02") == "2 Mar 2026"
    assert nl.date("not a day") == "not a day"
    assert nl.moment("not a moment") == "not a moment"
