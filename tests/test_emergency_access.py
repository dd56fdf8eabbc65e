"""Break the glass (issue 18): a coordinator outside a girl's team finds her file closed
(404); with an emergency access, asked for with a reason, she reads it for exactly the
organisation's window, with a banner on every page of it, and every act meanwhile is
marked in the access log with the access; a read-only access refuses a write; the
organisation's setting lets her record; the privacy officer reviews each access once.

Over real HTTP: the API against a live server on both stores, the pages through the app
(`tests.web_support`) on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pyotp
import pytest

from tests.api_support import assert_problem
from tests.builders import intake
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.test_web_words import english_only_words, shown_text, untranslated
from tests.web_support import (
    GIRL,
    ORG_A,
    ORG_B,
    PASSWORD,
    Page,
    World,
    csrf_of,
    sqlite_only,
)
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.commands import AssignTeam
from trajectory.emergency import EmergencyAccesses, EmergencyAccessRefused
from trajectory.identity.credentials import Credentials
from trajectory.identity.teams import Teams

NAME = "Noor Verborgen"
BEA = "Bea Buitenhuis"
"""The coordinator of another team of the same organisation."""


# -- the API -------------------------------------------------------------------------------------


@dataclass
class Ward:
    """Anna's team holds the girl; Bea is a coordinator of another team of the same
    organisation; a coordinator of another organisation, an aftercare worker, the
    organisation's privacy officer and admin, and another organisation's privacy officer."""

    live: Live
    app: TrajectoryApplication
    clock: FakeClock
    tokens: dict[str, str]
    girl: UUID

    def client(self, who: str) -> httpx.Client:
        return self.live.client(self.tokens[who])

    def entries(self, who: str) -> list[dict[str, Any]]:
        return [e for e in self.live.services.access.for_trajectory(str(self.girl))
                if e["user_id"] == who]


PEOPLE = {
    "anna": ("coordinator", ORG_A, "Anna de Linde"),
    "bea": ("coordinator", ORG_A, BEA),
    "carla": ("coordinator", ORG_B, "Carla Noordkaap"),
    "fenna": ("aftercare", "Nazorg Westhoek", "Fenna Nazorg"),
    "pien": ("privacy", ORG_A, "Pien Privacy"),
    "pieter": ("privacy", ORG_B, "Pieter Privacy"),
    "sanne": ("admin", ORG_A, "Sanne Beheer"),
}


def place_in_teams(app: TrajectoryApplication, girl: UUID, *, responsible: str,
                   outsider: str, now: datetime) -> None:
    """The girl with the team "De Linde" (her coordinator's), the outsider in "Ambulant"."""
    teams = Teams(app.db)
    linde = teams.create(ORG_A, "De Linde", by="admin", now=now)
    ambulant = teams.create(ORG_A, "Ambulant", by="admin", now=now)
    teams.add_member(linde.team_id, responsible, by="admin", now=now)
    teams.add_member(ambulant.team_id, outsider, by="admin", now=now)
    app.execute(girl, AssignTeam(team=linde.team_id),
                Actor(user_id=responsible, role="coordinator", organisation=ORG_A))


@pytest.fixture
def ward(app: TrajectoryApplication, clock: FakeClock) -> Iterator[Ward]:
    with live_server(app) as live:
        tokens = {}
        for who, (role, org, shown) in PEOPLE.items():
            _, tokens[who] = live.services.users.add(
                name=who, role=role, organisation=org, now=clock(), user_id=who,
                display_name=shown)
        anna = Actor(user_id="anna", role="coordinator", organisation=ORG_A)
        identity = Identity(name=NAME, date_of_birth=datetime(2010, 5, 5).date(),
                            home_region="Zeeuws-Vlaanderen")
        girl = app.open_trajectory(intake(identity=identity), anna).trajectory_id
        place_in_teams(app, girl, responsible="anna", outsider="bea", now=clock())
        yield Ward(live, app, clock, tokens, girl)


def test_another_teams_coordinator_reads_by_emergency_access_for_exactly_the_window(
    ward: Ward,
) -> None:
    """Given a girl of Anna's team, and Bea, a coordinator of another team;
    when Bea opens her file, then asks for emergency access (a crisis) and reads it, and
    the clock passes the eight hours;
    then her file is 404 before, 201 with the window's end, readable to the last second
    of the window and 404 from its end; every act in it (the opening, each read) is
    marked in the access log with the access's id, and nothing outside it is."""
    tid = ward.girl
    with ward.client("bea") as bea:
        assert_problem(bea.get(f"/trajectories/{tid}"), 404)
        granted = bea.post(f"/trajectories/{tid}/emergency-access", json={"reason": "crisis"})
        assert granted.status_code == 201, granted.text
        body = granted.json()
        access_id = body["access_id"]
        assert not body["may_write"]
        assert datetime.fromisoformat(body["ends_at"]) == ward.clock() + timedelta(hours=8)
        assert bea.get(f"/trajectories/{tid}").status_code == 200
        assert bea.get(f"/trajectories/{tid}/events").status_code == 200
        ward.clock.advance(hours=8, seconds=-1)
        assert bea.get(f"/trajectories/{tid}").status_code == 200
        ward.clock.advance(seconds=1)
        assert_problem(bea.get(f"/trajectories/{tid}"), 404)

    entries = ward.entries("bea")
    inside = [e for e in entries if e["outcome"] == "ok"]
    outside = [e for e in entries if e["outcome"] != "ok"]
    assert [e["action"] for e in inside] == ["emergency-open", "read", "read", "read"]
    assert {e["emergency_access"] for e in inside} == {access_id}
    assert len(outside) == 2
    assert {e["emergency_access"] for e in outside} == {None}


def test_a_read_only_access_refuses_a_write_and_records_nothing(ward: Ward) -> None:
    """Given Bea's emergency access to read (the organisation's default);
    when she reports the girl as run away;
    then 409 `emergency-access-read-only`, the file's version is unchanged, and the
    refused attempt is marked with the access in the log."""
    tid = ward.girl
    version = ward.app.current_version(tid)
    with ward.client("bea") as bea:
        access_id = bea.post(f"/trajectories/{tid}/emergency-access",
                             json={"reason": "runaway-at-night"}).json()["access_id"]
        refused = bea.post(f"/trajectories/{tid}/runaways", json={"from_where": "groep"})
    assert assert_problem(refused, 409)["rule"] == "emergency-access-read-only"
    assert ward.app.current_version(tid) == version
    (attempt,) = [e for e in ward.entries("bea") if e["outcome"] == "refused"]
    assert attempt["emergency_access"] == access_id


def test_the_organisations_setting_lets_emergency_access_record(ward: Ward) -> None:
    """Given an organisation whose privacy officer allows emergency access to record;
    when Bea asks for write access and reports the girl as run away;
    then the report is recorded, and its entry in the log is marked with the access.
    Before the setting, asking to write was refused at the field `write`."""
    tid = ward.girl
    with ward.client("bea") as bea, ward.client("pien") as pien:
        refused = bea.post(f"/trajectories/{tid}/emergency-access",
                           json={"reason": "crisis", "write": True})
        assert assert_problem(refused, 422)["errors"][0]["field"] == "write"
        settings = pien.get("/audit/access-settings").json()
        assert settings["emergency_may_write"] is False
        assert settings["emergency_hours"] == 8
        changed = pien.put("/audit/access-settings",
                           json={**settings, "emergency_may_write": True, "emergency_hours": 4})
        assert changed.status_code == 200, changed.text
        granted = bea.post(f"/trajectories/{tid}/emergency-access",
                           json={"reason": "police-request", "write": True}).json()
        assert granted["may_write"] is True
        assert datetime.fromisoformat(granted["ends_at"]) == ward.clock() + timedelta(hours=4)
        recorded = bea.post(f"/trajectories/{tid}/runaways", json={"from_where": "groep"})
        assert recorded.status_code == 201, recorded.text
    (write,) = [e for e in ward.entries("bea") if e["action"] == "write"
                and e["outcome"] == "ok"]
    assert write["emergency_access"] == granted["access_id"]
    assert ward.app.get(tid).state.open_runaway is not None
    settings_changes = ward.app.db.fetchall(
        "SELECT user_id, outcome FROM access_log WHERE action = 'access-settings'")
    assert settings_changes == [{"user_id": "pien", "outcome": "ok"}]


def test_asking_is_refused_for_a_reason_not_given_needless_for_her_own_and_404_to_others(
    ward: Ward,
) -> None:
    """Given the girl of Anna's team;
    when Anna (her own), Bea without a reason's explanation or with an unknown reason, a
    coordinator of another organisation, an aftercare worker and the privacy officer ask
    for emergency access;
    then Anna gets 409 `emergency-access-needless`, Bea 422 naming `explanation` and
    `reason`, the other organisation 404, the others 403; and Bea's file stays closed."""
    tid = ward.girl
    url = f"/trajectories/{tid}/emergency-access"
    with ward.client("anna") as anna:
        assert assert_problem(anna.post(url, json={"reason": "crisis"}), 409)["rule"] == (
            "emergency-access-needless")
    with ward.client("bea") as bea:
        other = assert_problem(bea.post(url, json={"reason": "other"}), 422)
        assert [e["field"] for e in other["errors"]] == ["explanation"]
        unknown = assert_problem(bea.post(url, json={"reason": "boredom"}), 422)
        assert unknown["errors"][0]["field"] == "reason"
        assert_problem(bea.get(f"/trajectories/{tid}"), 404)
    with ward.client("carla") as carla:
        assert_problem(carla.post(url, json={"reason": "crisis"}), 404)
    for who in ("fenna", "pien", "sanne"):
        with ward.client(who) as someone:
            assert_problem(someone.post(url, json={"reason": "crisis"}), 403)
    assert EmergencyAccesses(ward.app.db).of_trajectory(str(tid)) == []


def test_ending_early_closes_her_file_at_once(ward: Ward) -> None:
    """Given Bea's emergency access; when she ends it after an hour;
    then her file answers 404 at once, ending it again is 404, and the end is logged
    with the access."""
    tid = ward.girl
    with ward.client("bea") as bea:
        access_id = bea.post(f"/trajectories/{tid}/emergency-access",
                             json={"reason": "crisis"}).json()["access_id"]
        ward.clock.advance(hours=1)
        ended = bea.post(f"/trajectories/{tid}/emergency-access/end")
        assert ended.status_code == 200, ended.text
        assert datetime.fromisoformat(ended.json()["ended_at"]) == ward.clock()
        assert_problem(bea.get(f"/trajectories/{tid}"), 404)
        assert_problem(bea.post(f"/trajectories/{tid}/emergency-access/end"), 404)
    (end,) = [e for e in ward.entries("bea") if e["action"] == "emergency-end"]
    assert end["emergency_access"] == access_id


def test_the_privacy_officer_reviews_each_access_once_and_never_her_own(ward: Ward) -> None:
    """Given Bea's emergency access, under which she read the file;
    when the privacy officer reads the review list and records "not justified" (first
    without a note), then records again; and another organisation's privacy officer looks;
    then the list names who (by her name), whom (with the girl's name), why, when and what
    was done; a review without its note is 422 at `note`, one with it 201, a second 409
    `review-recorded-already`; the unreviewed list is then empty; the other organisation
    sees none and finds the access 404; and at the store nobody reviews her own access."""
    tid = ward.girl
    with ward.client("bea") as bea:
        access_id = bea.post(f"/trajectories/{tid}/emergency-access",
                             json={"reason": "other", "explanation": "zus belt in paniek"}
                             ).json()["access_id"]
        bea.get(f"/trajectories/{tid}")
    with ward.client("pien") as pien:
        (item,) = pien.get("/audit/emergency-accesses", params={"unreviewed": "true"}).json()
        assert item["access_id"] == access_id
        assert item["who"] == BEA
        assert (item["trajectory_id"], item["girl"]) == (str(tid), NAME)
        assert (item["reason"], item["explanation"]) == ("other", "zus belt in paniek")
        assert [a["action"] for a in item["acts"]] == ["emergency-open", "read"]
        assert item["review_outcome"] is None
        review = f"/audit/emergency-accesses/{access_id}/review"
        bare = assert_problem(pien.post(review, json={"outcome": "not-justified"}), 422)
        assert bare["errors"][0]["field"] == "note"
        judged = pien.post(review, json={"outcome": "not-justified",
                                         "note": "haar eigen team was bereikbaar"})
        assert judged.status_code == 201, judged.text
        assert judged.json()["review_outcome"] == "not-justified"
        again = assert_problem(pien.post(review, json={"outcome": "justified"}), 409)
        assert again["rule"] == "review-recorded-already"
        assert pien.get("/audit/emergency-accesses", params={"unreviewed": "true"}).json() == []
        (done,) = pien.get("/audit/emergency-accesses").json()
        assert (done["review_outcome"], done["reviewed_by"]) == ("not-justified", "pien")
    with ward.client("pieter") as pieter:
        assert pieter.get("/audit/emergency-accesses").json() == []
        assert_problem(pieter.post(f"/audit/emergency-accesses/{access_id}/review",
                                   json={"outcome": "justified"}), 404)
    # nobody reviews her own (a privacy officer never holds one: the store refuses it too)
    accesses = EmergencyAccesses(ward.app.db)
    own = accesses.grant(organisation=ORG_A, user_id="bea", trajectory_id=str(tid),
                         reason="crisis", explanation="", write=False, now=ward.clock())
    with pytest.raises(EmergencyAccessRefused) as refused:
        accesses.review(own.access_id, outcome="justified", note="", by="bea",
                        now=ward.clock())
    assert refused.value.code == "review-own-access"
    reviews = ward.app.db.fetchall(
        "SELECT outcome FROM access_log WHERE action = 'emergency-review' ORDER BY entry_id")
    assert [r["outcome"] for r in reviews] == ["rejected", "ok", "refused"]


# -- the pages -----------------------------------------------------------------------------------


def add_person(world: World, who: str, role: str, organisation: str, display_name: str) -> None:
    """Someone the web tests' world does not have, with a password and a TOTP secret."""
    world.services.users.add(name=who, role=role, organisation=organisation,
                             now=world.clock(), user_id=who, display_name=display_name)
    assert world.app.keys is not None
    credentials = Credentials(world.app.db, world.app.keys)
    credentials.set_password(who, PASSWORD)
    world.secrets[who] = pyotp.random_base32()
    credentials.save_totp(who, world.secrets[who])


def outside_the_team(world: World) -> None:
    """The world's girl with the team of her coordinator; Bea, in another team, and the
    organisation's privacy officer."""
    add_person(world, "bea", "coordinator", ORG_A, BEA)
    place_in_teams(world.app, world.girl, responsible="coordinator", outsider="bea",
                   now=world.clock())


@pytest.fixture
def outside(world: World) -> World:
    outside_the_team(world)
    return world


def dutch_words_only(html: str) -> list[str]:
    return untranslated(shown_text(html), english_only_words())


BANNER = ("U heeft noodtoegang tot dit dossier tot 18:00 (reden: crisis). Alles wat u doet"
          " wordt gelogd en beoordeeld door de privacyfunctionaris.")
"""The clock stands at 10:00 in Amsterdam: eight hours on."""


@sqlite_only
def test_the_search_finds_her_outside_the_team_and_the_form_opens_her_file_with_a_banner(
    outside: World,
) -> None:
    """Given Bea, a coordinator of another team than the girl's;
    when she searches her name, asks for emergency access (first "anders" without an
    explanation, then a crisis), walks her file, tries to record, and ends the access;
    then the search lists the girl apart, by name, with "Noodtoegang vragen" and no link
    to her file; the form offers the four reasons in Dutch and no write access; the
    explanation is asked for at its field; her file opens with the banner on every page
    (overview, sections, a form); a record is refused with a Dutch sentence and nothing is
    recorded; after ending it her file is not found; every page is Dutch."""
    world = outside
    tid = world.girl
    version = world.version(tid)
    with world.browser("bea") as b:
        start = b.get("/app/caseload")
        found = b.post("/app/caseload", {"csrf_token": csrf_of(start.text), "q": "noor"})
        assert found.status_code == 200
        text = " ".join(shown_text(found.text))
        assert "Buiten uw teams" in text
        assert "1 gevonden voor uw zoekopdracht." in text
        assert GIRL in text
        assert "Noodtoegang vragen" in text
        assert f'href="/app/trajectories/{tid}"' not in found.text
        assert f'href="/app/trajectories/{tid}/emergency-access"' in found.text
        assert not dutch_words_only(found.text)
        assert b.get(f"/app/trajectories/{tid}").status_code == 404

        form = b.get(f"/app/trajectories/{tid}/emergency-access")
        assert form.status_code == 200
        labels = " ".join(Page.of(form.text).text)
        for word in ("Crisis", "Weggelopen in de nacht", "Verzoek van de politie", "Anders",
                     "De toegang duurt 8 uur"):
            assert word in labels, word
        assert 'name="write"' not in form.text
        assert not dutch_words_only(form.text)
        refused = b.post(f"/app/trajectories/{tid}/emergency-access",
                         {"csrf_token": csrf_of(form.text), "reason": "other",
                          "explanation": " "})
        assert refused.status_code == 422
        assert 'id="explanation-error"' in refused.text
        assert "Beschrijf bij de reden “anders” wat de noodsituatie is." in refused.text
        assert EmergencyAccesses(world.app.db).of_trajectory(str(tid)) == []

        opened = b.post(f"/app/trajectories/{tid}/emergency-access",
                        {"csrf_token": csrf_of(form.text), "reason": "crisis"},
                        follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/app/trajectories/{tid}"
        for path in ("", "/history", "/safety", "/forms/runaway"):
            shown = b.get(f"/app/trajectories/{tid}{path}")
            assert shown.status_code == 200, path
            said = " ".join(Page.of(shown.text).text)
            assert BANNER in said, path
            assert "Noodtoegang beëindigen" in said, path
            assert not dutch_words_only(shown.text), path

        # and, to read only, her pages offer nothing to record
        first = b.get(f"/app/trajectories/{tid}")
        assert f'href="/app/trajectories/{tid}/record' not in first.text
        assert f'href="/app/trajectories/{tid}/forms/' not in first.text
        page = b.get(f"/app/trajectories/{tid}/forms/runaway")
        record = b.post(f"/app/trajectories/{tid}/forms/runaway",
                        {"csrf_token": csrf_of(page.text), "from_where": "groep",
                         "expected_version": str(version)})
        assert record.status_code == 409
        assert "U heeft dit dossier met noodtoegang geopend om te lezen" in record.text
        assert world.version(tid) == version

        ended = b.post(f"/app/trajectories/{tid}/emergency-access/end",
                       {"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert ended.status_code == 303
        assert "Uw noodtoegang is beëindigd" in b.get(ended.headers["location"]).text
        assert b.get(f"/app/trajectories/{tid}").status_code == 404

    actions = [(e["action"], e["emergency_access"] is not None) for e in world.access(tid)
               if e["user_id"] == "bea" and e["outcome"] == "ok"]
    assert ("emergency-open", True) in actions
    assert ("emergency-end", True) in actions
    assert all(marked for action, marked in actions if action in ("read", "write"))


@sqlite_only
def test_the_privacy_officer_reviews_emergency_accesses_on_her_page(outside: World) -> None:
    """Given Bea's emergency access for a crisis, under which she read the girl's file;
    when the privacy officer signs in, finds it on her review list and records "niet
    gerechtvaardigd" without a note, then "gerechtvaardigd";
    then she lands on the list, which says who, whom, why and what was done in Dutch
    sentences without an id or a code; the note is asked for at its field; the review is
    recorded once, and the list shows it."""
    world = outside
    tid = world.girl
    with world.browser("bea") as b:
        form = b.get(f"/app/trajectories/{tid}/emergency-access")
        b.post(f"/app/trajectories/{tid}/emergency-access",
               {"csrf_token": csrf_of(form.text), "reason": "crisis"})
        b.get(f"/app/trajectories/{tid}/history")
    with world.browser() as b:
        landed = b.sign_in("privacy")
        assert landed.headers["location"] == "/app/privacy/emergency-accesses"
        listed = b.get("/app/privacy/emergency-accesses")
        text = " ".join(Page.of(listed.text).text)
        assert f"{BEA} opende het dossier van {GIRL}" in text
        assert "Crisis" in text
        assert "opende noodtoegang" in text
        assert "las haar dossier" in text
        assert not dutch_words_only(listed.text)
        assert not re.search(r"\b[0-9a-f]{32}\b", " ".join(shown_text(listed.text)))
        (access,) = EmergencyAccesses(world.app.db).of_trajectory(str(tid))
        action = f"/app/privacy/emergency-accesses/{access.access_id}/review"
        bare = b.post(action, {"csrf_token": csrf_of(listed.text), "outcome": "not-justified"})
        assert bare.status_code == 422
        assert "Schrijf op waarom de toegang niet gerechtvaardigd was." in bare.text
        assert 'id="note-1-error"' in bare.text
        done = b.post(action, {"csrf_token": csrf_of(listed.text), "outcome": "justified"})
        assert done.status_code == 200
        said = " ".join(Page.of(done.text).text)
        assert "De beoordeling is vastgelegd." in said
        assert "Beoordeeld door Petra Vos" in said
        assert "gerechtvaardigd" in said
        again = b.post(action, {"csrf_token": csrf_of(done.text), "outcome": "justified"})
        assert again.status_code == 409
    reviewed = EmergencyAccesses(world.app.db).get(access.access_id)
    assert reviewed is not None
    assert (reviewed.review_outcome, reviewed.reviewed_by) == ("justified", "privacy")


@sqlite_only
def test_the_access_settings_page_lets_emergency_access_record(outside: World) -> None:
    """Given the privacy officer's settings page;
    when she saves a number that is no number, then allows write access for 4 hours;
    then the first is refused at its field in Dutch, the second saved and logged, and
    Bea's form now offers write access and says 4 hours. The admin may open the settings
    (not the review list); a coordinator neither."""
    world = outside
    with world.browser("privacy") as b:
        page = b.get("/app/privacy/settings")
        assert page.status_code == 200
        assert not dutch_words_only(page.text)
        values = {"csrf_token": csrf_of(page.text), "emergency_hours": "veel",
                  "outside_team_threshold": "5", "emergency_threshold": "3",
                  "night_threshold": "5", "night_starts": "22", "night_ends": "6"}
        wrong = b.post("/app/privacy/settings", values)
        assert wrong.status_code == 422
        assert 'id="emergency_hours-error"' in wrong.text
        assert "Vul een heel getal in." in wrong.text
        saved = b.post("/app/privacy/settings",
                       {**values, "emergency_hours": "4", "emergency_may_write": "1"})
        assert "De instellingen zijn opgeslagen." in saved.text
    settings = EmergencyAccesses(world.app.db).settings(ORG_A)
    assert settings.emergency_may_write
    assert settings.emergency_hours == 4
    with world.browser("bea") as b:
        form = b.get(f"/app/trajectories/{world.girl}/emergency-access")
        assert 'name="write"' in form.text
        assert "De toegang duurt 4 uur" in " ".join(Page.of(form.text).text)
    logged = [e["outcome"] for e in world.access() if e["action"] == "access-settings"]
    assert logged == ["rejected", "ok"]
    with world.browser("admin") as b:  # her organisation's admin may set them too
        assert 'href="/app/privacy/settings"' in b.get("/app/admin").text
        assert b.get("/app/privacy/settings").status_code == 200
        assert b.get("/app/privacy/emergency-accesses").status_code == 403
    with world.browser("coordinator") as b:
        assert b.get("/app/privacy/settings").status_code == 403
