"""A duplicate intake is warned before it is saved (issue 17, part 5).

Seen in the review: "Sanne de Vries" taken in twice with the same birth date was accepted
without a word, and the two cards looked identical. The rule lives in the write path, so
the API, the pages, the CLI and the demo meet it alike; names stay encrypted: the match
is a keyed hash of the normalised name and birth date, kept in a table of its own.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.api_support import INTAKE, ORG_A, ORG_B, assert_problem
from tests.builders import intake, left_care
from tests.live import live_server
from tests.web_support import World
from trajectory.aggregates.events.intake import Identity
from trajectory.application import Actor, TrajectoryApplication
from trajectory.duplicates import PossibleDuplicateIntake, normalised_name
from trajectory.erasure import erase
from trajectory.views import opening_event
from trajectory.writing import WritePath

NAME = "Sanne de Vries"
BORN = date(2010, 3, 14)
COORDINATOR = Actor(user_id="coordinator", role="coordinator", organisation=ORG_A)
ADMIN = Actor(user_id="admin", role="admin", organisation=ORG_A)


def sanne(name: str = NAME) -> Any:
    return intake(identity=Identity(name=name, date_of_birth=BORN, home_region="Utrecht"))


def opened_reason(app: TrajectoryApplication, tid: UUID) -> str:
    return opening_event(app.events.get(tid, lte=1)).duplicate_reason  # type: ignore[arg-type]


# -- the API ----------------------------------------------------------------------------------


def test_the_api_answers_409_for_a_duplicate_and_201_with_a_reason(
    app: TrajectoryApplication,
) -> None:
    with live_server(app) as live:
        token = live.token("coordinator", "coordinator", ORG_A, user_id="coordinator")
        other_org = live.token("coordinator-b", "coordinator", ORG_B, user_id="coordinator-b")
        with live.client(token) as http, live.client(other_org) as theirs:
            # given a girl taken in by the organisation
            first = http.post("/trajectories", json=INTAKE)
            assert first.status_code == 201, first.text
            # when the same name (written otherwise) and birth date are taken in again
            again = {**INTAKE, "identity": {**INTAKE["identity"],
                                            "name": "  noor   VERBORGÉN "}}
            refused = http.post("/trajectories", json=again)
            # then it is refused with the rule, naming the field that lets it through
            body = assert_problem(refused, 409)
            assert body["rule"] == "possible-duplicate-intake"
            assert body["unmet"] == ["duplicate_reason"]
            assert len(app.index()) == 1
            # and with a reason it is recorded, the reason kept with the intake
            reason = "Een zus met dezelfde naam; andere BSN."
            accepted = http.post("/trajectories", json={**again, "duplicate_reason": reason})
            assert accepted.status_code == 201, accepted.text
            tid = UUID(accepted.json()["id"])
            assert opened_reason(app, tid) == reason
            # and another organisation's girl is no duplicate of hers
            assert theirs.post("/trajectories", json=INTAKE).status_code == 201


# -- the write path: who counts -----------------------------------------------------------------


def test_an_erased_girl_no_longer_matches(app: TrajectoryApplication) -> None:
    path = WritePath(app)
    # given a girl taken in and then erased
    first = path.open(COORDINATOR, sanne()).trajectory_id
    erase(app, first, by=ADMIN, reason="request granted", legal_ground="request-granted")
    # then her keyed hash is gone with her key
    assert app.db.fetchall("SELECT * FROM intake_fingerprints") == []
    # and taking in the same name and birth date is no duplicate
    path.open(COORDINATOR, sanne())


def test_a_closed_girl_does_not_match_and_one_in_care_does(app: TrajectoryApplication) -> None:
    path = WritePath(app)
    # given a girl who left care (closed)
    closed = path.open(COORDINATOR, sanne()).trajectory_id
    path.record(COORDINATOR, closed, left_care())
    # when she is taken in again: no warning (she is not in care)
    again = path.open(COORDINATOR, sanne("SANNE DE VRIES")).trajectory_id
    # and a third intake now meets the girl in care, and only her
    with pytest.raises(PossibleDuplicateIntake) as refused:
        path.open(COORDINATOR, sanne("Sanne  de  Vriës"))
    assert refused.value.matches == (str(again),)
    assert refused.value.code == "possible-duplicate-intake"


def test_the_table_holds_no_name(app: TrajectoryApplication, database_url: str) -> None:
    # given a girl taken in through the write path
    WritePath(app).open(COORDINATOR, sanne())
    rows = app.db.fetchall("SELECT * FROM intake_fingerprints")
    assert len(rows) == 1
    stored = " ".join(str(v) for v in rows[0].values())
    # then no column holds her name or birth date, nor a plain hash of them
    for secret in (NAME, normalised_name(NAME), BORN.isoformat()):
        assert secret.lower() not in stored.lower()
    import hashlib

    plain = hashlib.sha256(f"{normalised_name(NAME)}\x00{BORN.isoformat()}".encode()).hexdigest()
    assert plain not in stored
    # and the SQLite file's bytes do not hold the name anywhere (events are encrypted)
    if database_url.startswith("sqlite:///"):
        app.db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = Path(database_url.removeprefix("sqlite:///")).read_bytes()
        assert NAME.encode() not in raw
        assert normalised_name(NAME).encode() not in raw


def test_names_are_matched_normalised() -> None:
    assert normalised_name("  Zoë\tde  VRIES ") == normalised_name("zoe de vries")
    assert normalised_name("Ångström") == "angstrom"


# -- the pages --------------------------------------------------------------------------------

FORM = {
    "intake_date": "2026-02-20",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "politie",
    "legal_framework": "OTS",
    "identity.name": NAME,
    "identity.date_of_birth": BORN.isoformat(),
    "identity.home_region": "Zeeland",
}


def test_the_intake_form_warns_of_a_duplicate_and_saves_with_a_reason(world: World) -> None:
    with world.browser("coordinator") as b:
        # given a girl taken in through the form
        first = b.submit("/app/trajectories/new", FORM, follow_redirects=False)
        assert first.status_code == 303, first.text
        tid = first.headers["location"].split("/trajectories/")[1].split("?")[0]
        opened = len(world.app.index())
        # the form asks no reason until it has something to warn of
        assert 'name="duplicate_reason"' not in b.get("/app/trajectories/new").text
        # when the same name and birth date are sent again
        warned = b.submit("/app/trajectories/new", FORM, follow_redirects=False)
        # then the page warns in Dutch, links to her page, and asks for a reason
        assert warned.status_code == 409, warned.text
        assert "Mogelijk hetzelfde meisje" in warned.text
        assert "met deze naam en geboortedatum" in warned.text
        assert f'href="/app/trajectories/{tid}"' in warned.text
        assert 'name="duplicate_reason"' in warned.text
        assert "possible-duplicate-intake" not in re.sub(r'data-rule="[^"]*"', "", warned.text)
        assert len(world.app.index()) == opened
        # and an empty reason saves nothing: the reason is asked for at its field, and
        # the warning stands beside it
        empty = b.post("/app/trajectories/new", {**FORM, "duplicate_reason": "  ",
                                                 "csrf_token": _csrf(warned.text)})
        assert empty.status_code == 422, empty.text
        assert "f-duplicate-reason-error" in empty.text
        assert "Mogelijk hetzelfde meisje" in empty.text
        assert f'href="/app/trajectories/{tid}"' in empty.text
        assert len(world.app.index()) == opened
        # and with a reason, the intake is saved with it
        saved = b.post("/app/trajectories/new",
                       {**FORM, "duplicate_reason": "Tweeling, andere moeder",
                        "csrf_token": _csrf(warned.text)}, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        assert len(world.app.index()) == opened + 1


def _csrf(html: str) -> str:
    from tests.web_support import csrf_of

    return csrf_of(html)
