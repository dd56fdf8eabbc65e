"""The pages' words are complete: every fact, field, value, criterion, refusal, event and
core element has a Dutch word and an English one in the catalogues; every sentence the
code and the templates ask for is there; the .po files hold no fuzzy, empty or broken
entry; and a Dutch page shows neither an English word nor a raw code.

A missing Dutch word used to show English in the middle of a Dutch page, silently. Now a
missing word is a failing test that names it."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.builders import phase_2_facts, record_all
from tests.web_support import PEOPLE, Page, World, sqlite_only
from trajectory.commands import ReportRunaway
from trajectory.web import codes
from trajectory.web.forms import FORMS, GROUPS, INTAKE, group_title
from trajectory.web.i18n import (
    LANGS,
    LOCALES,
    Lang,
    Translator,
    catalogue,
    listening_for_misses,
    po_path,
)

ROOT = Path(__file__).parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None}
"""What `pybabel extract` looks for: gettext's own names, and `t(...)`, the pages'
translator (scripts/i18n-update passes the same)."""

Key = tuple[str | None, str]


def read(lang: Lang) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=LOCALES[lang])


def missing_words(keys: Iterable[Key], shown: Mapping[str, Iterable[str]]) -> list[str]:
    """The codes shown on the pages that a catalogue has no word for, as context/code."""
    present = set(keys)
    return sorted(f"{context}/{code}" for context, found in shown.items() for code in found
                  if (context, code) not in present)


def extracted() -> set[Key]:
    """What `pybabel extract -F babel.cfg -k t` finds in the code and the templates."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]
    found: set[Key] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        assert isinstance(message, str), message  # no plural forms (yet)
        found.add((context, message))
    return found


# -- the codes -------------------------------------------------------------------------------


@pytest.mark.parametrize("context", codes.CONTEXTS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_code_the_pages_show_has_a_word_in_both_languages(lang: Lang, context: str
                                                                 ) -> None:
    """Given the codes the pages turn into words (read from the Literals, the command
    Structs, the event classes, the protocol and every RuleRefused raised under src);
    when each is looked up in a language's catalogue under its context;
    then each has a word there."""
    shown = {context: codes.shown_codes()[context]}
    assert shown[context], f"no codes found for {context}: the scan itself is broken"
    missing = missing_words(catalogue(lang).keys, shown)
    assert not missing, f"{lang} lacks words for: {missing} (docs/words.md)"


def test_the_check_names_a_word_taken_out_of_a_catalogue() -> None:
    """Given the Dutch catalogue's keys, less the word for one value and one rule;
    when the completeness check runs over them;
    then it names exactly those two: the test above can fail."""
    keys = set(catalogue("nl").keys) - {("value", "in_care"), ("rule", "phase-skip")}
    assert missing_words(keys, codes.shown_codes()) == ["rule/phase-skip", "value/in_care"]


def test_the_scans_find_what_the_source_declares() -> None:
    """Given the source tree;
    when the codes are read from it;
    then the well-known ones are among them (a scan that finds nothing checks nothing)."""
    shown = codes.shown_codes()
    assert {"phase-permission-cap", "runaway-open", "reason-required",
            "erasure-needs-encryption"} <= shown[codes.RULE]
    assert {"identity.name", "package.safety_plan", "criterion", "occurred_on"} <= (
        shown[codes.FIELD])
    assert {"TrajectoryOpened", "EntryCorrected"} <= shown[codes.EVENT]
    assert {"in_care", "mark_in_error", "court-order", "audit-read"} <= shown[codes.VALUE]
    assert {"handover-acceptance", "no-open-runaway"} <= shown[codes.CRITERION]
    assert shown[codes.ELEMENT] == {str(n) for n in range(1, 16)}


def test_every_fact_has_a_title_in_both_languages() -> None:
    """Given every form the list of facts makes and the groups they are listed under;
    when each title is looked up in the catalogues;
    then Dutch has its own words and English its source words."""
    nl, en = Translator("nl"), Translator("en")
    for spec in (*FORMS, INTAKE):
        assert nl.has(codes.FACT, spec.english), spec.slug
        assert spec.title(nl).strip() not in ("", spec.english), spec.slug
        assert spec.title(en) == spec.english, spec.slug
    for group in GROUPS:
        assert group_title(nl, group) not in ("", GROUPS[group]), group
        assert group_title(en, group) == GROUPS[group], group


# -- the sentences ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_sentence_the_code_asks_for_is_in_the_catalogue(lang: Lang) -> None:
    """Given every msgid `pybabel extract` finds in the pages' Python and templates;
    when each is looked for in a language's catalogue;
    then it is there, with a translation."""
    asked = extracted()
    assert len(asked) > 150, "the extraction found too little: check babel.cfg"
    missing = sorted(f"{c or ''}|{m}" for c, m in asked - catalogue(lang).keys)
    assert not missing, f"{lang} lacks: {missing} (run scripts/i18n-update, docs/words.md)"


@pytest.mark.parametrize("lang", LANGS)
def test_the_po_file_has_no_fuzzy_empty_or_broken_entry(lang: Lang) -> None:
    """Given a language's .po file as people edit it;
    when it is read;
    then no entry is fuzzy (gettext would leave it out) or empty (gettext would show the
    English msgid), none is obsolete, and every python-format entry fills in the same
    placeholders as its msgid."""
    messages = read(lang)
    fuzzy = sorted(str(m.id) for m in messages if m.id and m.fuzzy)
    empty = sorted(str(m.id) for m in messages if m.id and not m.string)
    assert not fuzzy, fuzzy
    assert not empty, empty
    assert not messages.obsolete, list(messages.obsolete)
    broken = [(str(m.id), [str(e) for e in errors]) for m, errors in messages.check()]
    assert not broken, broken


def test_both_catalogues_carry_the_same_entries_and_codes_agree_on_placeholders() -> None:
    """A word in one language and not in the other is a gap in the other; a code's Dutch
    sentence that fills in `%(since)s` where the English fills in nothing would fail at
    run time."""
    nl, en = read("nl"), read("en")
    nl_keys = {(m.context, str(m.id)) for m in nl if m.id}
    en_keys = {(m.context, str(m.id)) for m in en if m.id}
    assert nl_keys == en_keys, sorted(map(str, nl_keys ^ en_keys))
    slots = re.compile(r"%\((\w+)\)s")
    for message in nl:
        if message.id and message.context:
            english = en.get(message.id, context=message.context)
            assert english is not None
            assert set(slots.findall(str(message.string))) == set(
                slots.findall(str(english.string))), (message.context, message.id)


SAME_IN_BOTH = frozenset({
    "Account", "Bytes", "CSV", "Caseload", "CoMensha", "EMDR", "Instrument", "Manifest",
    "Parameters", "Parquet", "Project", "Protocol", "Score", "Setting", "Status", "Training",
    "Trauma", "export", "internet", "scouting", "sport",
    "Team", "Team: %(name)s", "Teams", "crisis", "%(title)s · %(name)s",
})
"""Words Dutch borrowed from English, or names: the same on both pages, on purpose."""


def test_a_dutch_word_is_the_english_one_only_on_purpose() -> None:
    """Given both catalogues;
    when an entry reads the same in Dutch as in English;
    then it is a word Dutch shares with English (listed above): English pasted into the
    Dutch catalogue would otherwise read as a translation."""
    en = {(m.context, str(m.id)): str(m.string) for m in read("en") if m.id}
    same = sorted({str(m.string) for m in read("nl")
                   if m.id and en.get((m.context, str(m.id))) == str(m.string)})
    assert not set(same) - SAME_IN_BOTH, sorted(set(same) - SAME_IN_BOTH)


def test_english_plain_entries_read_as_their_msgid() -> None:
    """English is the source language: its catalogue gives each sentence as written in the
    code, so a changed msgid cannot keep an old English translation."""
    differ = [str(m.id) for m in read("en") if m.id and not m.context and m.string != m.id]
    assert not differ, differ


def test_the_catalogues_ship_with_the_package() -> None:
    """Given the package data pyproject declares;
    when a wheel is built from it;
    then it carries both .po files (compiled in memory when first used: no .mo to forget)."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["trajectory"]
    for lang in LANGS:
        shipped = po_path(lang).relative_to(ROOT / "src" / "trajectory").as_posix()
        assert any(fnmatch.fnmatch(shipped, pattern) for pattern in declared), shipped


# -- the pages -------------------------------------------------------------------------------

_CODE_LIKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:[A-Z][a-z]+){2,}[A-Z][a-z]+\b")
"""A snake_case code, or a CamelCase event name of three words or more."""
_FILE_NAME = re.compile(r"^[a-z][a-z_]*\.(?:csv|parquet|sav|dta|xes|jsonocel|json)$")
"""A file of an export, as the researcher downloads it (`follow_ups.csv`)."""


def english_only_words() -> set[str]:
    """Words that are English and never Dutch: a page in Dutch that shows one shows a
    gap. Short or shared words (Caseload, Protocol, CSV) are the same in both and left
    out."""
    nl = {(m.context, str(m.id)): str(m.string) for m in read("nl") if m.id}
    dutch = set(nl.values())
    return {
        str(m.string) for m in read("en")
        if m.id and str(m.string) not in dutch and len(str(m.string)) > 3
        and "%(" not in str(m.string)
    }


def untranslated(text_nodes: Iterable[str], english: set[str]) -> list[str]:
    """The pieces of a Dutch page that are an English word or a raw code."""
    found = []
    for node in text_nodes:
        text = node.strip().rstrip(":*").strip()
        if _FILE_NAME.match(text):  # the name of a file she downloads is a name, no word
            continue
        if text in english or _CODE_LIKE.search(text):
            found.append(text)
    return found


def test_the_page_check_catches_english_and_a_raw_code() -> None:
    english = english_only_words()
    assert untranslated(["Veiligheidsanalyse", "Zoeken"], english) == []
    assert untranslated(["Safety analysis", "in_care", "SafetyAnalysisRecorded"], english) == [
        "Safety analysis", "in_care", "SafetyAnalysisRecorded"]
    assert untranslated(["follow_ups.csv", "follow_ups, scores"], english) == [
        "follow_ups, scores"]


def shown_text(html: str) -> list[str]:
    """The visible text of a page, piece by piece, and what assistive technology reads
    (titles, aria-labels, placeholders)."""
    page = Page.of(html)
    said = [e.attrs[a] for e in page.elements for a in ("title", "aria-label", "placeholder")
            if e.attrs.get(a)]
    return [*page.text, *said]


@sqlite_only
def test_no_dutch_page_shows_an_english_word_or_a_raw_code(world: World) -> None:
    """Given a girl with the facts of phase 1 and an open runaway, a handed-over girl, an
    export and an access log;
    when every page and every form is opened in Dutch;
    then no piece of text on them is an English word or a code."""
    actor = world.actor("coordinator")
    record_all(world.app, world.girl, phase_2_facts(), actor)
    world.clock.advance(days=2)
    world.app.execute(world.girl, ReportRunaway(from_where="groep"), actor)
    world.give_research_consent(world.girl)
    world.approve_project("woorden")
    for number, who in enumerate(PEOPLE, start=1):  # people are named as people on a page
        world.services.users.set_display_name(who, f"Collega {number}")
    g, h = world.girl, world.handed_over
    pages = {
        "coordinator": ["/app/caseload", "/app/trajectories/new", f"/app/trajectories/{g}",
                        f"/app/trajectories/{h}", "/app/quality", "/app/account",
                        "/app/out-of-view", "/app/week", "/app/week?week=2",
                        f"/app/trajectories/{h}/handover-and-aftercare",
                        *[f"/app/trajectories/{g}/forms/{s.slug}" for s in FORMS
                          if "coordinator" in s.roles]],
        "aftercare": ["/app/handovers", f"/app/handovers/{h}", "/app/out-of-view",
                      "/app/week?week=2"],
        "researcher": ["/app/research", "/app/research/projects",
                       "/app/research/projects/woorden"],
        "admin": ["/app/admin", f"/app/admin?trajectory={g}", "/app/admin/users",
                  "/app/admin/exchange",
                  f"/app/admin/log?trajectory={str(g)[:8]}", "/app/research/projects",
                  "/app/research/projects/woorden"],
        "privacy": ["/app/privacy/access-report", f"/app/privacy/access-report?trajectory={g}",
                    f"/app/privacy/access-report/{g}", "/app/privacy/anomalies",
                    f"/app/admin/log?trajectory={str(g)[:8]}"],
    }
    english = english_only_words()
    shown: dict[str, list[str]] = {}
    current = [""]

    def missed(context: str, code: str) -> None:  # a code shown as itself
        shown.setdefault(current[0], []).append(f"no word for {context}/{code}")

    with listening_for_misses(missed):
        for who, paths in pages.items():
            with world.browser(who) as b:
                b.get("/app/account?lang=nl")
                if who == "researcher":
                    done = b.export("woorden")
                    paths = [*paths, done.headers["location"].partition("?")[0]]
                for path in paths:
                    current[0] = path
                    answer = b.get(path)
                    assert answer.status_code == 200, (path, answer.status_code)
                    found = untranslated(shown_text(answer.text), english)
                    if found:
                        shown.setdefault(path, []).extend(found)
    assert not shown, shown
