"""Every word on a Dutch page is Dutch and human, on the demo's own data.

`tests/test_web_words.py` checks the catalogues and a small world; this walks the pages of
`trajectory serve --demo` for every role, on the girls its stories write (runaways,
regressions with their automatic limits, corrections, handovers, aftercare), and fails on
what the review found on them (issue 17): a raw code, a hex id, an English word of the
app's own catalogue, a user's login id instead of her name, and any code the pages asked a
word for and the catalogue lacked (the Translator tells of each such miss)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import pyotp
import pytest

from tests.builders import intake, phase_2_facts, record_all
from tests.test_web_words import english_only_words, shown_text
from tests.web_support import PASSWORD, PEOPLE, Page, World, sqlite_only
from trajectory.aggregates.events.network import NetworkContactRegistered
from trajectory.aggregates.reasons import NOT_RECORDED
from trajectory.api.server import DEMO_USERS
from trajectory.application import Actor
from trajectory.commands import (
    AssessNetworkContactRisk,
    ChangePermission,
    RegisterNetworkContact,
    RestoreNetworkContact,
    TransitionPhase,
)
from trajectory.demo import ORGANISATIONS, approve_demo_study, run_demo
from trajectory.identity.credentials import Credentials
from trajectory.visibility import is_related
from trajectory.web import codes
from trajectory.web.forms import FORMS
from trajectory.web.i18n import Translator, listening_for_misses

DEMO_GIRLS = 18
"""Enough girls that the coordinator's organisation holds every kind of story (the demo
deals its stories out over six coordinators in three organisations)."""

_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_CAMEL = re.compile(r"\b[a-z]+(?:[A-Z][a-z0-9]+)+\b|\b(?:[A-Z][a-z]+){2,}\b")
_KEBAB = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b")
_HEX = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}\b|"
                  r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_FILE_NAME = re.compile(r"^[a-z][a-z_]*\.(?:csv|parquet|json)$")
NAMES = frozenset({*ORGANISATIONS, "demo-nazorg", "demo-research", "demo-inspectie",
                   "demo-study", "CoMensha"})
"""The demo's organisations, its research project and CoMensha (the national
coordination centre against human trafficking): names, written as their owners write
them (a research project's name is the researcher's own)."""
LOGIN_NAME_PAGES = ("/app/account", "/app/admin/users")
"""Where a login name is what the page is about: her own account, and the accounts an
administrator hands out."""
PSEUDONYM_PAGES = ("/app/admin/log",)
"""Pages that name a file by the first characters of its id, for people who never see a
girl's name: the access log, where the short id is the reference an administrator
searches by. (The quality page names girls to a coordinator and none to anyone else.)"""
USER_IDS = frozenset({user_id for user_id, *_ in DEMO_USERS} | {
    f"demo-coord-{n}" for n in range(1, 7)} | {f"demo-after-{n}" for n in range(1, 4)})
LOGIN_NAMES = frozenset(name for _, name, *_ in DEMO_USERS)
ENGLISH_MARKERS = frozenset({
    "the", "from", "and", "with", "assessed", "recorded", "regression", "risk", "phase",
    "not", "none", "unknown", "other", "default", "self", "harm", "agreements", "region",
})
"""Words that are English and never Dutch: a sentence the code writes in English (an
automatic fact's reason) holds one, and no catalogue lists it."""
_WORD = re.compile(r"[A-Za-z]+")
ENGLISH_HYPHENATED = frozenset({"follow-up"})
"""English words that are also a code (a form's slug): on an English page, a word."""


@dataclass(frozen=True)
class Finding:
    path: str
    what: str
    text: str


def known_codes() -> set[str]:
    """Every code the pages could leak: the catalogue's codes and the forms' slugs."""
    found = {c for shown in codes.shown_codes().values() for c in shown}
    return found | {spec.slug for spec in FORMS}


def findings(path: str, pieces: Iterable[str], english: set[str], known: set[str],
             markers: frozenset[str] = ENGLISH_MARKERS) -> list[Finding]:
    out: list[Finding] = []
    page_path = path.partition("?")[0]
    for piece in pieces:
        text = piece.strip().rstrip(":*").strip()
        if not text or _FILE_NAME.match(text) or text in NAMES:
            continue
        if text in english or text.partition(": ")[2] in english or any(
                w.lower() in markers for w in _WORD.findall(text)):
            out.append(Finding(path, "English", text))
        for pattern, what in ((_SNAKE, "code"), (_CAMEL, "code"), (_HEX, "hex id")):
            if what == "hex id" and page_path in PSEUDONYM_PAGES:
                continue
            out += [Finding(path, what, m.group(0)) for m in pattern.finditer(text)
                    if m.group(0) not in NAMES]
        for m in _KEBAB.finditer(text):
            word = m.group(0)
            if word in NAMES or (word in LOGIN_NAMES and page_path in LOGIN_NAME_PAGES):
                continue
            if word in USER_IDS or word in LOGIN_NAMES:
                out.append(Finding(path, "user id", word))
            elif word in known:
                out.append(Finding(path, "code", word))
    return out


def test_the_walk_finds_what_the_review_found() -> None:
    """The check itself: each kind of thing the review saw on the demo's pages is named."""
    english, known = english_only_words(), known_codes()
    seen = findings("/p", [
        "Contact: ec19d982e3464383a64030418fc5af8f", "Aanleiding: regression from phase 2 to 1",
        "demo-coord-1", "in_care", "Safety analysis", "safety-analysis", "PermissionsCapped",
        "Meisje 04 is in zorg", "demo-org-noord", "risico-inschatting", "follow_ups.csv",
    ], english, known)
    assert [(f.what, f.text) for f in seen] == [
        ("hex id", "ec19d982e3464383a64030418fc5af8f"),
        ("English", "Aanleiding: regression from phase 2 to 1"),
        ("user id", "demo-coord-1"), ("code", "in_care"), ("English", "Safety analysis"),
        ("code", "safety-analysis"), ("code", "PermissionsCapped"),
    ]


@pytest.fixture
def demo(world: World) -> World:
    """The demo's girls and people, as `serve --demo` makes them, in the test's world."""
    app = world.app
    run_demo(app, count=DEMO_GIRLS, progress=lambda done, total: None)
    assert app.keys is not None
    credentials = Credentials(app.db, app.keys)
    for user_id, name, role, organisation, display_name in DEMO_USERS:
        if world.services.users.by_id(user_id) is None:
            world.services.users.add(name=name, role=role, organisation=organisation,
                                     now=world.clock(), user_id=user_id,
                                     display_name=display_name)
        credentials.set_password(user_id, PASSWORD)
        world.secrets[name] = pyotp.random_base32()
        credentials.save_totp(user_id, world.secrets[name])
    for number, who in enumerate(PEOPLE, start=1):  # the test world's people, as people
        world.services.users.set_display_name(who, f"Collega {number}")
    approve_demo_study(app)
    return world


def _english_sentences(english: set[str]) -> set[str]:
    """English the code itself writes into a fact (an automatic one's reason)."""
    return english | {"not recorded"}


@sqlite_only
def test_every_demo_page_speaks_dutch_with_names_and_no_codes(demo: World) -> None:
    """Given the demo's girls (runaways, regressions and their automatic limits,
    corrections, handovers, aftercare) and its people;
    when each role opens each of her pages in Dutch (for the coordinator: the caseload,
    every girl of her organisation and every form of two of them);
    then no page shows a code, a hex id, an English word, a login id or a code the
    catalogue has no word for."""
    noord = _noord(demo)
    # the walk covers what the review found wrong: her girls' histories hold automatic
    # limits after a regression, corrections, contacts cut off, handovers
    kinds = {type(e).__name__ for g in noord for e in demo.app.stream(UUID(g))}
    assert {"PermissionsCapped", "PhaseRegressed", "EntryCorrected", "NetworkContactRestricted",
            "HandoverPrepared", "RunawayReported"} <= kinds, kinds
    walks: dict[str, list[str]] = {
        # each coordinator her own team's girls (every girl of the organisation is one's)
        "demo-coordinator": _coordinator_pages(_hers(demo, "demo-coord-1", noord)),
        "demo-coordinator-2": _coordinator_pages(_hers(demo, "demo-coord-2", noord)),
        "demo-aftercare": ["/app/handovers", "/app/out-of-view"],
        "demo-researcher": ["/app/research", "/app/research/projects",
                            "/app/research/projects/demo-study"],
        "demo-admin": ["/app/admin", "/app/admin/users", "/app/admin/teams",
                       f"/app/admin?trajectory={noord[0]}",
                       f"/app/admin/log?trajectory={noord[0]}", "/app/admin/log",
                       "/app/quality"],
        "demo-quality": ["/app/quality", "/app/organisation"],
        "demo-inspector": ["/app/inspection"],
        "demo-privacy": ["/app/privacy/emergency-accesses", "/app/privacy/settings"],
    }
    report = walk(demo, walks, "nl", _english_sentences(english_only_words()), ENGLISH_MARKERS)
    assert not report, "\n".join(f"{k}   ({v})" for k, v in sorted(report.items()))


@sqlite_only
def test_the_coordinators_demo_pages_in_english_show_words_not_codes(demo: World) -> None:
    """Given the demo; when the coordinator opens her girls' pages and forms in English
    (review L5); then no page shows a code, an id or a code without an English word."""
    walks = {"demo-coordinator": _coordinator_pages(_hers(demo, "demo-coord-1", _noord(demo)))}
    report = walk(demo, walks, "en", set(), frozenset())
    assert not report, "\n".join(f"{k}   ({v})" for k, v in sorted(report.items()))


def _noord(demo: World) -> list[str]:
    noord = [str(r["trajectory_id"]) for r in demo.app.index()
             if r["organisation"] == ORGANISATIONS[0]]
    assert len(noord) >= 4
    return noord


def _hers(demo: World, user_id: str, noord: list[str]) -> list[str]:
    """The girls of the organisation the coordinator sees: those of her team, and those
    she is responsible for (`trajectory.visibility`)."""
    who = Actor(user_id=user_id, role="coordinator", organisation=ORGANISATIONS[0])
    hers = [g for g in noord if is_related(demo.app.db, who, g)]
    assert len(hers) >= 2
    return hers


def _coordinator_pages(noord: list[str]) -> list[str]:
    """The caseload, every girl of her organisation and every form of two of them."""
    return [
        "/app/caseload", "/app/trajectories/new", "/app/quality", "/app/out-of-view",
        "/app/account", *[f"/app/trajectories/{g}" for g in noord],
        *[f"/app/trajectories/{g}/forms/{s.slug}" for g in noord[:2] for s in FORMS
          if "coordinator" in s.roles],
    ]


def walk(demo: World, walks: dict[str, list[str]], lang: str, english: set[str],
         markers: frozenset[str]) -> dict[str, str]:
    """Each person opens her pages in `lang`: what is wrong on them, with the first page
    it was seen on (the aftercare worker also opens each girl handed to her)."""
    known = known_codes() - (ENGLISH_HYPHENATED if lang == "en" else set())
    misses: list[tuple[str, str, str]] = []
    found: list[Finding] = []
    current = [""]

    def missed(context: str, code: str) -> None:
        misses.append((current[0], context, code))

    with listening_for_misses(missed):
        for who, paths in walks.items():
            with demo.browser(who) as b:
                b.get(f"/app/account?lang={lang}")
                if who == "demo-aftercare":  # every girl handed to her, the forms of one
                    listed = b.get("/app/handovers").text
                    handed = sorted(set(re.findall(r'href="/app/handovers/([^"?#/]+)"', listed)))
                    assert handed, "the demo hands no girl to its aftercare worker"
                    paths = [*paths, *[f"/app/handovers/{h}" for h in handed],
                             *[f"/app/trajectories/{handed[0]}/forms/{s.slug}" for s in FORMS
                               if "aftercare" in s.roles]]
                for path in paths:
                    current[0] = path
                    answer = b.get(path)
                    assert answer.status_code == 200, (who, path, answer.status_code)
                    found += findings(path, shown_text(answer.text), english, known, markers)
    report: dict[str, str] = {}
    for f in found:
        report.setdefault(f"{f.what}: {f.text}", f.path)
    for path, context, code in misses:
        report.setdefault(f"no word for {context}/{code}", path)
    return report


def test_a_translator_tells_of_a_code_it_has_no_word_for() -> None:
    """Given a listener; when a page asks a word for a known and an unknown code;
    then only the unknown one is told, and the page shows it as it is."""
    told: list[tuple[str, str]] = []
    t = Translator("nl")
    with listening_for_misses(lambda context, code: told.append((context, code))):
        assert t.value("in_care") == "in zorg"
        assert t.value("no_such_code") == "no_such_code"
    assert told == [("value", "no_such_code")]


# -- the review's findings, one by one (H5, H6) ------------------------------------------


def _contact(world: World, role: str) -> str:
    contacts = world.app.get(world.girl).state.contacts
    (found,) = (c.contact_id for c in contacts.values() if c.role == role)
    return found


def _history_text(world: World, girl: UUID | None = None) -> str:
    with world.browser("coordinator") as b:
        answer = b.get(f"/app/trajectories/{girl or world.girl}/history?lang=nl")
        assert answer.status_code == 200
        return " ".join(shown_text(answer.text))


@sqlite_only
def test_automatic_limits_and_reasons_read_as_dutch_sentences_with_contacts_by_role(
    world: World,
) -> None:
    """Given a girl in phase 2 with her phone at "limited", her mother at unsupervised
    contact and a friend at supervised contact;
    when she goes back to phase 1 (her phone and her mother are capped automatically) and
    her friend is then assessed as prohibited (her contact is cut off automatically);
    then her history says why and what changed in Dutch sentences, one per change, names
    her contacts by their role, and shows neither English nor an id."""
    coordinator = world.actor("coordinator")
    run = world.app.execute
    record_all(world.app, world.girl, phase_2_facts(), coordinator)
    for role in ("moeder", "vriendin"):
        run(world.girl, RegisterNetworkContact(role=role, risk="safe"), coordinator)
    run(world.girl, RestoreNetworkContact(contact_id=_contact(world, "vriendin"),
                                          level="supervised", reason="gaat goed"), coordinator)
    world.clock.advance(days=29)
    run(world.girl, TransitionPhase(to_phase=2, reason="stabiel"), coordinator)
    run(world.girl, ChangePermission(kind="phone", level="limited", reason="afspraak"),
        coordinator)
    run(world.girl, RestoreNetworkContact(contact_id=_contact(world, "moeder"),
                                          level="unsupervised", reason="veilig"), coordinator)
    world.clock.advance(days=3)
    run(world.girl, TransitionPhase(to_phase=1, reason="weggelopen geweest"), coordinator)
    run(world.girl, AssessNetworkContactRisk(contact_id=_contact(world, "vriendin"),
                                             risk="prohibited", reason="ronselt"), coordinator)

    text = _history_text(world)

    assert "terug van fase 2 naar fase 1" in text
    assert "Telefoon verlaagd van beperkt naar onder toezicht" in text
    assert "Contact met moeder verlaagd van zonder toezicht naar onder toezicht" in text
    assert "het risico van dit contact is ingeschat als verboden" in text
    assert "Contact vriendin" in text
    assert "Vrijheden Soort" not in text  # no label repeated per line
    found = findings("/girl", [text], _english_sentences(english_only_words()), known_codes())
    assert not found, found


@sqlite_only
def test_an_intake_without_instrument_and_the_protocol_read_in_dutch(world: World) -> None:
    """Given a girl taken in without a risk-assessment instrument under the default
    protocol; when her page is opened in Dutch; then the instrument reads "niet
    vastgelegd" and the protocol by its Dutch name, never "not recorded" or "default"."""
    girl = world.app.open_trajectory(intake(risk_assessment_instrument=NOT_RECORDED),
                                     world.actor("coordinator")).trajectory_id
    text = _history_text(world, girl)
    assert "Risicotaxatie-instrument niet vastgelegd" in text
    assert "standaardprotocol 2026.1" in text
    assert "default" not in text.split()
    assert "not recorded" not in text


@sqlite_only
def test_each_person_has_one_display_name_in_history_intake_and_access_log(
    world: World,
) -> None:
    """Given a coordinator whose display name is "Anna de Vries" (her login name is
    "coordinator");
    when she opens the girl she took in and the administrator reads the access log;
    then the history, the intake's own entry and the access log all name her "Anna de
    Vries", and none shows her login name or her user id."""
    world.services.users.set_display_name("coordinator", "Anna de Vries")
    text = _history_text(world)
    assert "door Anna de Vries" in text
    assert "Behandelcoördinator Anna de Vries" in text
    with world.browser("admin") as b:
        log = b.get(f"/app/admin/log?trajectory={world.girl}&lang=nl")
        assert log.status_code == 200
        shown = shown_text(log.text)
    assert "Anna de Vries" in shown
    assert "coordinator" not in shown
    assert "coordinator" not in text.split()


@sqlite_only
def test_the_english_pages_offer_english_words_not_codes_with_spaces(world: World) -> None:
    """Given the safety analysis form and the intake form in English (review L5);
    when they are opened;
    then their options read as English words ("self-harm", "agreements with parents"),
    not as codes with their underscores taken out."""
    with world.browser("coordinator") as b:
        safety = b.get(f"/app/trajectories/{world.girl}/forms/safety-analysis?lang=en").text
    for awkward in ("self harm", "parent agreements", "internet social media"):
        assert awkward not in safety


@sqlite_only
def test_the_access_log_is_filtered_by_the_name_it_shows(world: World) -> None:
    """Given a coordinator shown as "Anna de Vries" who read the girl's file, and a
    colleague who did too;
    when the administrator filters the log by "anna de vries" (the name the log shows,
    in any case) or by her login name;
    then only Anna's entries are listed."""
    world.services.users.set_display_name("coordinator", "Anna de Vries")
    world.services.users.set_display_name("admin-2", "Bea Bakker")
    with world.browser("coordinator") as b:
        assert b.get(f"/app/trajectories/{world.girl}").status_code == 200
    with world.browser("admin") as b:
        for wanted in ("anna de vries", "coordinator"):
            listed = b.get("/app/admin/log", params={"user": wanted}).text
            rows = listed.split('<tr class="entry">')[1:]
            assert rows, wanted
            assert all("Anna de Vries" in r for r in rows), wanted


@sqlite_only
def test_two_contacts_with_one_role_are_told_apart_by_the_entry_that_registered_each(
    world: World,
) -> None:
    """Given two friends registered one after the other;
    when the second one's contact is restored;
    then the history names her "vriendin (nr. N)", N the entry that registered her, and
    never by her id."""
    coordinator = world.actor("coordinator")
    for note in ("van school", "uit de buurt"):
        world.app.execute(world.girl, RegisterNetworkContact(role="vriendin", risk="safe",
                                                             note=note), coordinator)
    *_, second = (e for e in world.app.stream(world.girl)
                  if isinstance(e, NetworkContactRegistered))
    world.app.execute(world.girl, RestoreNetworkContact(
        contact_id=second.contact_id, level="supervised", reason="gaat goed"), coordinator)
    text = _history_text(world)
    assert f"Contact vriendin (nr. {second.originator_version})" in text
    assert second.contact_id not in text


@sqlite_only
def test_the_admin_gives_a_new_user_the_full_name_every_page_shows(world: World) -> None:
    """Given the admin on her users page;
    when she adds "fwit" with the full name "Fenna de Wit", and Fenna opens a girl's file;
    then the users list shows both names, and the access log and the girl's history name
    her "Fenna de Wit" (review H6)."""
    with world.browser("admin") as b:
        added = b.submit("/app/admin/users", {"name": "fwit", "role": "coordinator",
                                              "display_name": "Fenna  de Wit"})
        assert added.status_code == 200, added.text
        cells = Page.of(b.get("/app/admin/users").text).text
    assert "Fenna de Wit" in cells
    assert "fwit" in cells
    fenna = world.services.users.find("fwit")
    assert fenna is not None
    assert fenna.shown_name == "Fenna de Wit"
    world.app.execute(world.girl, RegisterNetworkContact(role="tante", risk="safe"),
                      Actor(user_id=fenna.user_id, role="coordinator",
                            organisation=fenna.organisation))
    assert "door Fenna de Wit" in _history_text(world)
