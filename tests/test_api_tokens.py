"""API tokens expire, can be rotated and carry scopes; the irreversible acts (a research
export, an erasure) need a five-minute step-up token obtained with the password and a new
TOTP code, as the web pages ask, not the long-lived bearer token alone (review finding 10).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from tests.api_support import INTAKE, intake_named
from tests.conftest import FakeClock
from tests.live import Live, live_server
from tests.project_support import approved_project
from tests.step_up_support import PASSWORD, ask_step_up, code, enrol, stepped_up
from trajectory.api.throttle import FailureThrottle
from trajectory.application import TrajectoryApplication
from trajectory.demo import run_demo
from trajectory.identity.users import DEFAULT_TOKEN_DAYS, STEP_UP_MINUTES

PROBLEMS = "https://trajectory.example/problems/"
ERASE = {"reason": "request granted", "legal_ground": "request-granted"}


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app, throttle=FailureThrottle(limit=4, window=60)) as server:
        yield server


def store_sets(live: Live, statement: str, params: list[object]) -> None:
    with live.services.application.db.transaction() as tx:
        tx.execute(statement, params)


def is_problem(response: httpx.Response, status: int, rule: str) -> bool:
    return (
        response.status_code == status
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["type"] == PROBLEMS + rule
    )


# -- lifetimes -------------------------------------------------------------------------------


def test_a_token_expires_after_its_lifetime_with_a_problem_saying_so(
    live: Live, clock: FakeClock
) -> None:
    # given a coordinator's token, good the day it is issued and the day before it ends
    with live.client(live.token("anna", "coordinator", "org-a")) as http:
        assert http.get("/trajectories").status_code == 200
        clock.advance(days=DEFAULT_TOKEN_DAYS, seconds=-1)
        assert http.get("/trajectories").status_code == 200
        # when its lifetime has passed
        clock.advance(seconds=1)
        expired = http.get("/trajectories")
    # then it answers 401, saying it expired (not that it is unknown)
    assert is_problem(expired, 401, "token-expired"), expired.text
    assert "expired" in expired.json()["detail"]
    assert "bearer" in expired.headers["www-authenticate"].lower()


def test_an_expiry_set_in_the_store_is_followed_and_not_counted_as_a_guess(
    live: Live,
) -> None:
    token = live.token("anna", "coordinator", "org-a")
    store_sets(
        live,
        "UPDATE users SET token_expires_at = ? WHERE name = ?",
        ["2026-01-01T00:00:00+00:00", "anna"],
    )
    with live.client(token) as http:
        answers = [http.get("/trajectories") for _ in range(6)]
    # an expired token is genuine: told each time, never throttled as guessing
    assert [a.status_code for a in answers] == [401] * 6
    assert all(is_problem(a, 401, "token-expired") for a in answers)


def test_a_token_issued_before_lifetimes_expires_from_its_users_creation(
    live: Live, clock: FakeClock
) -> None:
    token = live.token("anna", "coordinator", "org-a")
    store_sets(
        live, "UPDATE users SET token_expires_at = NULL, token_scopes = NULL WHERE name = ?",
        ["anna"],
    )
    with live.client(token) as http:
        assert http.post("/trajectories", json=INTAKE).status_code == 201
        clock.advance(days=DEFAULT_TOKEN_DAYS)
        assert is_problem(http.get("/trajectories"), 401, "token-expired")


# -- scopes ------------------------------------------------------------------------------------


def test_a_token_without_the_scope_a_route_needs_is_refused_naming_it(live: Live) -> None:
    # given a coordinator's token narrowed to reading
    token = live.token("anna", "coordinator", "org-a")
    store_sets(live, "UPDATE users SET token_scopes = 'read' WHERE name = ?", ["anna"])
    with live.client(token) as http:
        assert http.get("/trajectories").status_code == 200
        # when it writes, then 403 naming the scope; nothing is recorded
        refused = http.post("/trajectories", json=INTAKE)
        assert is_problem(refused, 403, "scope-missing"), refused.text
        assert "write" in refused.json()["detail"]
        assert http.get("/trajectories").json()["items"] == []


def test_a_long_lived_token_may_not_export_or_erase_and_is_told_to_step_up(
    live: Live, app: TrajectoryApplication
) -> None:
    run_demo(app, count=2, seed=5)
    row = app.index()[0]
    victim = str(row["trajectory_id"])
    admin = live.client(live.token("beheer", "admin", row["organisation"]))
    researcher = live.client(live.token("rosa", "researcher", "uni-demo"))
    with admin, researcher:
        erase = admin.post(f"/trajectories/{victim}/erasure", json=ERASE)
        export = researcher.post("/research/exports", json={"project": "p1"})
        # not even when the store says the long-lived token may erase
        store_sets(live, "UPDATE users SET token_scopes = 'read write erase' WHERE name = ?",
                   ["beheer"])
        again = admin.post(f"/trajectories/{victim}/erasure", json=ERASE)
    assert is_problem(erase, 403, "step-up-required"), erase.text
    assert is_problem(export, 403, "step-up-required"), export.text
    assert "/auth/step-up" in erase.json()["detail"]
    assert is_problem(again, 403, "step-up-required"), again.text
    # and nothing was erased
    assert victim in [str(row["trajectory_id"]) for row in app.index()]


# -- step-up -----------------------------------------------------------------------------------


def court_order(tid: str) -> dict[str, str]:
    return {"trajectory_id": tid, "reason": "court order", "legal_ground": "court-order",
            "court_reference": "C/13/700001"}


def test_a_step_up_token_erases_for_five_minutes_and_does_nothing_else(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    coordinator = live.client(live.token("coord", "coordinator", "org-a"))
    admin = live.client(live.token("beheer", "admin", "org-a"))
    secret = enrol(live, "beheer")
    with coordinator, admin:
        first = coordinator.post("/trajectories", json=INTAKE).json()["id"]
        second = coordinator.post("/trajectories", json=intake_named("Tweede")).json()["id"]
        third = coordinator.post("/trajectories", json=intake_named("Derde")).json()["id"]
        # given an admin who stepped up with her password and a new code
        answer = ask_step_up(admin, secret, clock)
        assert answer.status_code == 200, answer.text
        assert answer.json()["scopes"] == ["erase"]
        assert answer.json()["token"].startswith("trjs_")
        with live.client(answer.json()["token"]) as sudo:
            # when she proposes erasures (the irreversible act's first half; a second admin
            # approves), then each is taken, also again within the five minutes
            for tid in (first, second):
                proposed = sudo.post("/admin/erasures", json=court_order(tid))
                assert proposed.status_code == 201, proposed.text
            # a step-up token does nothing but the sensitive act
            other = sudo.get("/retention")
            assert is_problem(other, 403, "scope-missing"), other.text
            # and it cannot extend itself
            assert ask_step_up(sudo, secret, clock).status_code == 403
            # after its five minutes it has expired
            clock.advance(minutes=STEP_UP_MINUTES)
            late = sudo.post("/admin/erasures", json=court_order(third))
            assert is_problem(late, 401, "token-expired"), late.text
            assert "step up again" in late.json()["detail"]
        # the long-lived token still reads what it may
        assert admin.get("/retention").status_code == 200
    assert third in [str(row["trajectory_id"]) for row in app.index()]
    steps = app.db.fetchall("SELECT outcome FROM access_log WHERE action = 'step-up'")
    assert [s["outcome"] for s in steps] == ["ok"]


def test_a_step_up_token_exports_for_a_researcher(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    run_demo(app, count=4, seed=3)
    token = live.token("rosa", "researcher", "uni-demo")
    approved_project(app, "p1", researcher="rosa")
    with live.client(token) as researcher:
        secret = enrol(live, "rosa")
        with stepped_up(live, researcher, secret, clock) as sudo:
            done = sudo.post("/research/exports", json={"project": "p1"})
    assert done.status_code == 200, done.text
    assert done.headers["content-type"] == "application/zip"


def test_step_up_refuses_a_wrong_password_or_code_and_throttles_the_guessing(
    live: Live, app: TrajectoryApplication, clock: FakeClock
) -> None:
    with live.client(live.token("beheer", "admin", "org-a")) as admin:
        secret = enrol(live, "beheer")
        # a wrong password, a wrong code: 401, nothing issued
        wrong_password = ask_step_up(admin, secret, clock, password="niet mijn wachtwoord")
        wrong_code = admin.post(
            "/auth/step-up", json={"password": PASSWORD, "totp": "000000"}
        )
        assert is_problem(wrong_password, 401, "step-up-refused"), wrong_password.text
        assert is_problem(wrong_code, 401, "step-up-refused"), wrong_code.text
        # a code used once is refused the second time
        used = code(secret, clock)
        clock.advance(seconds=-30)
        assert admin.post("/auth/step-up", json={"password": PASSWORD, "totp": used}).is_success
        replay = admin.post("/auth/step-up", json={"password": PASSWORD, "totp": used})
        assert is_problem(replay, 401, "step-up-refused")
        # when the guessing goes on, then the client is throttled, even with the right answer
        ask_step_up(admin, secret, clock, password="nog een poging")
        throttled = ask_step_up(admin, secret, clock)
        assert throttled.status_code == 429
        assert "retry-after" in throttled.headers
    assert len(app.db.fetchall("SELECT token_hash FROM step_up_tokens")) == 1
    outcomes = [r["outcome"] for r in app.db.fetchall(
        "SELECT outcome FROM access_log WHERE action = 'step-up' ORDER BY entry_id"
    )]
    assert outcomes == ["denied", "denied", "ok", "denied", "denied"]


def test_only_roles_with_sensitive_acts_step_up_and_only_when_enrolled(live: Live) -> None:
    coordinator = live.client(live.token("coord", "coordinator", "org-a"))
    admin = live.client(live.token("beheer", "admin", "org-a"))
    with coordinator, admin:
        body = {"password": "een lang genoeg wachtwoord 7", "totp": "123456"}
        assert coordinator.post("/auth/step-up", json=body).status_code == 403
        # an admin without a password and TOTP is told how to get them
        unenrolled = admin.post("/auth/step-up", json=body)
        assert is_problem(unenrolled, 403, "step-up-unavailable"), unenrolled.text
        assert "enrol-totp" in unenrolled.json()["detail"]
        missing = admin.post("/auth/step-up", json={"password": "x"})
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["field"] == "totp"


# -- rotation ----------------------------------------------------------------------------------


def test_rotating_a_token_ends_the_old_one_and_its_step_ups(
    live: Live, clock: FakeClock
) -> None:
    old = live.token("beheer", "admin", "org-a")
    secret = enrol(live, "beheer")
    with live.client(old) as admin:
        sudo = stepped_up(live, admin, secret, clock)
    clock.advance(days=30)
    info, new = live.services.users.rotate("beheer", clock())
    assert info.expires_at == clock() + timedelta(days=DEFAULT_TOKEN_DAYS)
    with live.client(old) as before, live.client(new) as after, sudo:
        assert before.get("/retention").status_code == 401
        assert after.get("/retention").status_code == 200
        assert sudo.get("/retention").status_code == 401


def test_step_up_guesses_from_many_addresses_are_throttled_per_account(
    live: Live, clock: FakeClock
) -> None:
    with live.client(live.token("beheer", "admin", "org-a")) as admin:
        secret = enrol(live, "beheer")
        user = live.services.users.find("beheer")
        assert user is not None
        # given failed step-ups for her account, counted from other addresses
        for _ in range(4):
            live.services.throttle.failed(f"step-up-user:{user.user_id}")
        # when she (or whoever holds her token) tries again, even with the right answer
        answer = ask_step_up(admin, secret, clock)
    # then the account waits, and no token was issued
    assert answer.status_code == 429
    assert "account" in answer.json()["detail"]
    assert live.services.application.db.fetchall("SELECT token_hash FROM step_up_tokens") == []
