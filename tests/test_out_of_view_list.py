"""No girl out of view: the organisation-wide list, its read model, `GET /out-of-view`, the
counts in the quality figures, and the flags of the other lists, on SQLite and on
PostgreSQL.

The situations are recorded as facts with the fields the contract defines (a closure with
a destination and an argued `without_handover`, contacts with an outcome); the day is
moved by the test's clock, never by a new fact, to show that the stored windows answer
every later day.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pyotp
import pytest

from tests.builders import AFTERCARE, COORDINATOR, OTHER_COORDINATOR, open_trajectory, record_all
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.projection_support import contents, rows_of
from tests.test_web_words import english_only_words, shown_text, untranslated
from tests.web_support import (
    GIRL,
    HANDED_OVER_GIRL,
    ORG_A,
    OTHER_GIRL,
    PASSWORD,
    PEOPLE,
    World,
    sqlite_only,
)
from trajectory.aggregates.events.handover import HandoverPackage, WithoutHandover
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import (
    AcceptHandover,
    CloseTrajectory,
    DecideComenshaRegistration,
    HoldHandoverMeeting,
    PrepareHandover,
    RecordAftercareContact,
    StartAftercare,
)
from trajectory.erasure import erase
from trajectory.identity.credentials import Credentials
from trajectory.projections import ProjectionRunner, setup_projections
from trajectory.projections.caseload import caseload
from trajectory.projections.handovers import handovers_for
from trajectory.projections.out_of_view import REASONS, out_of_view_counts, out_of_view_list
from trajectory.protocol.out_of_view import OutOfViewReason
from trajectory.web.i18n import Translator
from trajectory.web.out_of_view_page import reason_sentence

ORG = COORDINATOR.organisation


def today(clock: FakeClock) -> date:
    return amsterdam_date(clock())


def package(every_days: int | None = None) -> HandoverPackage:
    return HandoverPackage(
        sexual_development="age-appropriate",
        loverboy_problem="suspected loverboy victim",
        safety_plan="no contact with the prohibited contacts",
        agreements="contact as agreed",
        aftercare_plan="visits",
        contact_every_days=every_days,
    )


def left_without_handover(app: TrajectoryApplication, tid: UUID) -> None:
    """Care ended without a warm handover, argued: she refused every handover."""
    app.execute(
        tid,
        CloseTrajectory(
            reason="own_decision",
            destination="unknown",
            without_handover=WithoutHandover(
                reason="she_refused", argument="she left and refused every meeting"
            ),
        ),
        COORDINATOR,
    )


def handover_met(app: TrajectoryApplication, tid: UUID, every_days: int | None = None) -> None:
    """A warm handover meeting held with the aftercare worker; not yet accepted."""
    record_all(
        app,
        tid,
        [
            DecideComenshaRegistration(decision="registered_by_name", consent_by="parent"),
            PrepareHandover(
                receiving_organisation=AFTERCARE.organisation,
                receiving_worker=AFTERCARE.user_id,
                package=package(every_days),
            ),
            HoldHandoverMeeting(
                girl_present=True, sending_worker_present=True, receiving_worker_present=True
            ),
        ],
    )


def in_aftercare(app: TrajectoryApplication, tid: UUID, every_days: int | None = None) -> None:
    handover_met(app, tid, every_days)
    record_all(
        app,
        tid,
        [AcceptHandover(), StartAftercare(plan="visits", destination="independent")],
        AFTERCARE,
    )


def contact(app: TrajectoryApplication, tid: UUID, *, reached: bool) -> None:
    app.execute(
        tid,
        RecordAftercareContact(channel="phone", outcome="reached" if reached else "not_reached"),
        AFTERCARE,
    )


class Girls:
    """One girl for every reason, one in view, and one of another organisation."""

    def __init__(self, app: TrajectoryApplication):
        self.left = open_trajectory(app)
        left_without_handover(app, self.left)
        self.weekly = open_trajectory(app)
        in_aftercare(app, self.weekly, every_days=7)
        self.waiting = open_trajectory(app)
        handover_met(app, self.waiting)
        self.unreached = open_trajectory(app)
        in_aftercare(app, self.unreached)
        for _ in range(3):
            contact(app, self.unreached, reached=False)
        self.in_view = open_trajectory(app)
        in_aftercare(app, self.in_view)
        contact(app, self.in_view, reached=True)
        self.elsewhere = open_trajectory(app, OTHER_COORDINATOR)
        left_without_handover_elsewhere = CloseTrajectory(
            reason="moved_away",
            destination="unknown",
            without_handover=WithoutHandover(reason="moved_out_of_reach", argument="moved"),
        )
        app.execute(self.elsewhere, left_without_handover_elsewhere, OTHER_COORDINATOR)


def listed(app: TrajectoryApplication, day: date, **kw: Any) -> set[tuple[UUID, str, date]]:
    return {
        (i.trajectory_id, i.reason, i.since)
        for i in out_of_view_list(app.db, ORG, day, seen_by=None, **kw).items
    }


@pytest.fixture
def runner(app: TrajectoryApplication) -> ProjectionRunner:
    return setup_projections(app)


# -- the read model ----------------------------------------------------------------------------


def test_every_reason_is_on_the_organisations_list_with_since_and_days(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    # given a girl for every reason, recorded today
    g = Girls(app)
    day0 = today(clock)
    runner.catch_up()
    # then today the girl who left without a handover and the one not reached three times
    # are out of view, since the day it happened
    assert listed(app, day0) == {
        (g.left, "left-without-handover", day0),
        (g.unreached, "contact-attempts-failed", day0),
    }
    # when 15 days pass without any new fact
    later = day0 + timedelta(days=15)
    out = out_of_view_list(app.db, ORG, later, seen_by=None)
    # then the weekly contact is overdue since day 8, the acceptance since day 15
    assert {(i.trajectory_id, i.reason, i.since, i.days) for i in out.items} == {
        (g.left, "left-without-handover", day0, 15),
        (g.unreached, "contact-attempts-failed", day0, 15),
        (g.weekly, "aftercare-contact-overdue", day0 + timedelta(days=8), 7),
        (g.waiting, "handover-not-accepted", day0 + timedelta(days=15), 0),
    }
    assert out.girls == 4
    # the longest out of view first
    assert [i.since for i in out.items] == sorted(i.since for i in out.items)
    # and the receiving worker is named where there is one
    workers = {i.trajectory_id: i.receiving_worker for i in out.items}
    assert workers[g.weekly] == AFTERCARE.user_id
    assert workers[g.left] is None
    # and nobody of another organisation is on it, nor on theirs one of ours
    assert g.elsewhere not in {i.trajectory_id for i in out.items}
    theirs = out_of_view_list(app.db, OTHER_COORDINATOR.organisation, later, seen_by=None)
    assert {i.trajectory_id for i in theirs.items} == {g.elsewhere}


def test_the_aftercare_worker_sees_the_girls_handed_over_to_her_from_another_organisation(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    g = Girls(app)
    runner.catch_up()
    later = today(clock) + timedelta(days=15)
    # the worker is of another organisation: she sees her own girls out of view
    hers = out_of_view_list(app.db, AFTERCARE.organisation, later, seen_by=None,
                            worker=AFTERCARE.user_id)
    assert {i.trajectory_id for i in hers.items} == {g.weekly, g.waiting, g.unreached}


def test_a_contact_that_reaches_her_takes_her_off_the_list(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    g = Girls(app)
    clock.advance(days=15)
    runner.catch_up()
    before = out_of_view_list(app.db, ORG, today(clock), seen_by=None)
    assert {i.trajectory_id for i in before.items} >= {
        g.weekly,
        g.unreached,
    }
    # when the aftercare worker reaches both
    contact(app, g.weekly, reached=True)
    contact(app, g.unreached, reached=True)
    runner.catch_up()
    # then both are in view again, and the weekly contact is due a week from now
    now = {i.trajectory_id for i in out_of_view_list(app.db, ORG, today(clock), seen_by=None).items}
    assert not now & {g.weekly, g.unreached}
    week = today(clock) + timedelta(days=8)
    assert (g.weekly, "aftercare-contact-overdue", week) in listed(app, week)


def test_the_caseload_and_the_aftercare_list_agree_with_the_list_on_every_day(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    Girls(app)
    runner.catch_up()
    for days in (0, 7, 8, 14, 15, 29, 60):
        day = today(clock) + timedelta(days=days)
        on_list = {i.trajectory_id for i in out_of_view_list(app.db, ORG, day, seen_by=None).items}
        page = caseload(app.db, ORG, day, seen_by=None, limit=500)
        flagged = {i.id for i in page.items if i.out_of_view}
        assert flagged == on_list, days
        hers = handovers_for(app.db, AFTERCARE.user_id, day)
        assert {i.id for i in hers.items if i.out_of_view} == (
            on_list & {i.id for i in hers.items}
        ), days
        assert hers.out_of_view == len(on_list & {i.id for i in hers.items})


def test_the_counts_by_reason(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    Girls(app)
    runner.catch_up()
    counts = out_of_view_counts(app.db, ORG, today(clock) + timedelta(days=15))
    assert counts.girls == 4
    assert counts.by_reason == {
        "aftercare-contact-overdue": 1,
        "contact-attempts-failed": 1,
        "left-without-handover": 1,
        "handover-not-accepted": 1,
    }
    assert out_of_view_counts(app.db, "org-nobody", today(clock)).girls == 0


def test_a_rebuild_gives_the_rows_the_runner_wrote_on_the_way(
    app: TrajectoryApplication, clock: FakeClock
) -> None:
    # given the facts followed in small pages, the clock moving between them
    small = setup_projections(app, page_size=3)
    g = Girls(app)
    small.catch_up()
    clock.advance(days=10)
    contact(app, g.weekly, reached=False)
    contact(app, g.unreached, reached=True)
    small.catch_up()
    followed = contents(app, small)
    assert followed["out_of_view"]
    # when the read model is rebuilt from the log
    small.rebuild("out_of_view")
    # then it holds the same rows
    assert contents(app, small) == followed


def test_erasure_deletes_her_rows(
    app: TrajectoryApplication, clock: FakeClock, runner: ProjectionRunner
) -> None:
    g = Girls(app)
    runner.catch_up()
    assert rows_of(app, runner, str(g.left))["out_of_view"] == 1
    erase(app, g.left, by=COORDINATOR, reason="request", legal_ground="request-granted")
    assert rows_of(app, runner, str(g.left))["out_of_view"] == 0
    assert g.left not in {
        i.trajectory_id for i in out_of_view_list(app.db, ORG, today(clock), seen_by=None).items
    }


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def test_get_out_of_view_lists_the_organisations_girls_for_coordinators_and_aftercare(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    coordinator = live.token("coord", "coordinator", ORG, user_id=COORDINATOR.user_id)
    aftercare = live.token("after", "aftercare", AFTERCARE.organisation, user_id=AFTERCARE.user_id)
    g = Girls(app)
    clock.advance(days=15)
    day = today(clock)
    with live.client(coordinator) as http:
        answer = http.get("/out-of-view")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["today"] == day.isoformat()
    items = {(i["trajectory_id"], i["reason"]): i for i in body["items"]}
    assert set(items) == {
        (str(g.left), "left-without-handover"),
        (str(g.unreached), "contact-attempts-failed"),
        (str(g.weekly), "aftercare-contact-overdue"),
        (str(g.waiting), "handover-not-accepted"),
    }
    weekly = items[(str(g.weekly), "aftercare-contact-overdue")]
    assert weekly["since"] == (day - timedelta(days=7)).isoformat()
    assert weekly["days"] == 7
    assert weekly["receiving_worker"] == AFTERCARE.user_id
    with live.client(aftercare) as http:
        hers = http.get("/out-of-view")
    assert hers.status_code == 200
    assert {i["trajectory_id"] for i in hers.json()["items"]} == {
        str(g.weekly), str(g.waiting), str(g.unreached)
    }


@pytest.mark.parametrize("role", ["researcher", "admin"])
def test_get_out_of_view_is_refused_to_other_roles(live: Live, role: str) -> None:
    with live.client(live.token(role, role, ORG)) as http:
        answer = http.get("/out-of-view")
    assert answer.status_code == 403


def test_get_out_of_view_is_logged_naming_every_girl_it_showed(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    token = live.token("coord", "coordinator", ORG, user_id=COORDINATOR.user_id)
    g = Girls(app)
    clock.advance(days=15)
    before = len(live.services.access.for_trajectory(str(g.left)))
    with live.client(token) as http:
        shown = {i["trajectory_id"] for i in http.get("/out-of-view").json()["items"]}
    assert len(shown) == 4
    # one entry naming the four girls, on each girl's own log
    mine = live.services.access.for_trajectory(str(g.left))
    assert len(mine) == before + 1
    entry = mine[-1]
    assert (entry["action"], entry["outcome"], entry["trajectory_id"]) == ("search", "ok", None)
    assert set(entry["shown"]) == shown
    assert live.services.access.for_trajectory(str(g.weekly))[-1]["entry_id"] == entry[
        "entry_id"
    ]
    # and the girl in view was not shown, nor logged
    assert str(g.in_view) not in shown


def test_the_quality_figures_count_the_girls_out_of_view_by_reason(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    coordinator = live.token("coord", "coordinator", ORG, user_id=COORDINATOR.user_id)
    admin = live.token("admin", "admin", ORG)
    Girls(app)
    clock.advance(days=15)
    for token in (coordinator, admin):
        with live.client(token) as http:
            answer = http.get("/quality/out-of-view")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["girls"] == 4
        assert body["by_reason"] == {
            "aftercare-contact-overdue": 1,
            "contact-attempts-failed": 1,
            "left-without-handover": 1,
            "handover-not-accepted": 1,
        }
    with live.client(live.token("after", "aftercare", ORG)) as http:
        assert http.get("/quality/out-of-view").status_code == 403


# -- the page ----------------------------------------------------------------------------------


def _lost_two(world: World) -> None:
    """Her coordinator closes `girl` without a handover (argued); the handover of
    `handed_over` (meeting held today) goes unaccepted for 15 days."""
    world.app.execute(
        world.girl,
        CloseTrajectory(
            reason="own_decision",
            destination="unknown",
            without_handover=WithoutHandover(reason="she_refused", argument="zij weigerde"),
        ),
        world.actor("coordinator"),
    )
    world.clock.advance(days=15)


def _add_person(world: World, name: str, role: str, organisation: str) -> None:
    """One more person who can sign in to the pages, as the world makes its people."""
    world.services.users.add(
        name=name, role=role, organisation=organisation, now=world.clock(), user_id=name
    )
    assert world.app.keys is not None
    credentials = Credentials(world.app.db, world.app.keys)
    credentials.set_password(name, PASSWORD)
    world.secrets[name] = pyotp.random_base32()
    credentials.save_totp(name, world.secrets[name])


@sqlite_only
def test_the_coordinator_sees_every_girl_out_of_view_by_name_with_why_in_dutch(
    world: World,
) -> None:
    _lost_two(world)
    with world.browser("coordinator") as b:
        page = b.get("/app/out-of-view")
    assert page.status_code == 200, page.text
    text = page.text
    # her name, as the caseload shows it, linked to her page (the name never in a link)
    assert f'<a href="/app/trajectories/{world.girl}">{GIRL}</a>' in text
    assert f'<a href="/app/trajectories/{world.handed_over}">{HANDED_OVER_GIRL}</a>' in text
    assert GIRL.split()[0] not in "".join(re.findall(r'href="([^"]*)"', text))
    # why and how long, in Dutch sentences
    assert "zonder warme overdracht uit zorg vertrokken (15 dagen geleden)" in text
    assert "Haar overdracht is niet op tijd aanvaard: te laat sinds" in text
    assert "te laat sinds 17-3-2026 (vandaag)" in text  # 14 days allowed: late on the 15th
    # the receiving worker by name, not by id; no codes on the page
    assert "Ontvangende hulpverlener" in text
    assert "left-without-handover" not in text
    assert "handover-not-accepted" not in text
    # and the menu counts them
    assert re.search(r'Uit beeld <span class="nav-count">2</span>', text)
    # one access-log entry naming both girls
    listing = world.access(world.girl)[-1]
    assert (listing["user_id"], listing["action"], listing["trajectory_id"]) == (
        "coordinator", "search", None
    )
    assert set(listing["shown"]) == {str(world.girl), str(world.handed_over)}


@sqlite_only
def test_an_aftercare_worker_sees_her_girls_by_name_and_the_organisations_without(
    world: World,
) -> None:
    _lost_two(world)
    # given an aftercare worker of the girls' own organisation
    _add_person(world, "aftercare-a", "aftercare", ORG_A)
    # the receiving worker sees her girl by name, linked to the handover page
    with world.browser("aftercare") as b:
        hers = b.get("/app/out-of-view").text
    assert f'<a href="/app/handovers/{world.handed_over}">{HANDED_OVER_GIRL}</a>' in hers
    assert GIRL not in hers
    # a colleague of the organisation learns that two girls are out of view and why,
    # whom to turn to, but not their names: their files are not hers
    with world.browser("aftercare-a") as b:
        org = b.get("/app/out-of-view").text
    assert org.count("Een meisje van uw organisatie") == 2
    assert GIRL not in org
    assert HANDED_OVER_GIRL not in org
    assert f"/app/handovers/{world.handed_over}" not in org
    assert "Coördinator" in org
    assert re.search(r'Uit beeld <span class="nav-count">2</span>', org)


@sqlite_only
def test_nobody_out_of_view_says_so_and_other_roles_may_not_open_the_page(
    world: World,
) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/out-of-view")
    assert "Vandaag is geen meisje uit beeld." in page.text
    assert 'Uit beeld <span class="nav-count">' not in page.text  # (this week has its own)
    for who in ("researcher", "admin"):
        with world.browser(who) as b:
            assert b.get("/app/out-of-view").status_code == 403


@sqlite_only
def test_the_quality_page_counts_the_girls_out_of_view_by_reason(world: World) -> None:
    _lost_two(world)
    for who in ("coordinator", "admin"):
        with world.browser(who) as b:
            text = b.get("/app/quality").text
        assert f"Vandaag zijn 2 meisjes van {ORG_A} uit beeld." in text
        assert re.search(
            r"<th scope=\"row\">Uit zorg vertrokken zonder overdracht</th><td>1</td>", text
        )
        assert re.search(
            r"<th scope=\"row\">Overdracht niet op tijd aanvaard</th><td>1</td>", text
        )
        assert re.search(r"<th scope=\"row\">Nazorgcontact te laat</th><td>0</td>", text)


@sqlite_only
def test_the_pages_with_girls_out_of_view_show_no_english_word_or_code(world: World) -> None:
    _lost_two(world)
    english = english_only_words()
    for who, path in (("coordinator", "/app/out-of-view"), ("coordinator", "/app/quality"),
                      ("aftercare", "/app/out-of-view"), ("admin", "/app/quality")):
        with world.browser(who) as b:
            answer = b.get(path)
        assert answer.status_code == 200
        # (the world's people are named after their roles: a name is no English word)
        found = [w for w in untranslated(shown_text(answer.text), english) if w not in PEOPLE]
        assert found == [], (who, path)


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_reads_as_a_sentence_in_both_languages(reason: OutOfViewReason) -> None:
    since = date(2026, 3, 2)
    for lang in ("nl", "en"):
        t = Translator(lang)
        for days in (0, 1, 12):
            sentence = reason_sentence(t, reason, since, days)
            assert t.date(since) in sentence
            assert "%(" not in sentence
            assert reason not in sentence
            if days:
                assert f"{days} " in sentence
    nl = Translator("nl")
    assert "1 dag" in reason_sentence(nl, reason, since, 1)
    assert "12 dagen" in reason_sentence(nl, reason, since, 12)
    assert "vandaag" in reason_sentence(nl, reason, since, 0)


@sqlite_only
def test_the_caseload_page_marks_the_girls_out_of_view(world: World) -> None:
    _lost_two(world)
    with world.browser("coordinator") as b:
        text = b.get("/app/caseload").text
    cards = {
        name: card
        for card in text.split('<li class="card')[1:]
        for name in (GIRL, HANDED_OVER_GIRL, OTHER_GIRL)
        if name in card
    }
    assert "Uit beeld</p>" in cards[GIRL]
    assert "Uit beeld</p>" in cards[HANDED_OVER_GIRL]
