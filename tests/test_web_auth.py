"""Signing in to the web pages: a password and a TOTP code, never one of them alone;
sessions kept on the server, ended by time-outs and by signing out; CSRF on every form;
re-authentication before an export or an erasure; `users add --password --enrol-totp`."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import structlog
from litestar.testing import TestClient

from tests.conftest import MASTER_KEY, FakeClock
from tests.live import live_server
from tests.web_support import (
    GIRL,
    PASSWORD,
    Page,
    World,
    csrf_of,
    make_world,
    sqlite_only,
)
from trajectory.api.app import create_app
from trajectory.application import TrajectoryApplication
from trajectory.cli import main
from trajectory.commands import DecideDestructionRequest, RequestDestruction
from trajectory.composition.http import build_services
from trajectory.crypto import MasterKey
from trajectory.settings import Settings
from trajectory.web.sessions import session_hash


def _sessions(world: World) -> int:
    row = world.app.db.fetchone("SELECT COUNT(*) AS n FROM web_sessions")
    assert row is not None
    return int(row["n"])


def test_a_coordinator_signs_in_with_password_and_code_over_real_http(
    app: TrajectoryApplication, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(app, clock, monkeypatch)
    with live_server(app) as live, live.client(follow_redirects=False) as http:
        page = http.get("/app/login")
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "style-src 'self'" in page.headers["content-security-policy"]
        first = http.post(
            "/app/login",
            data={"csrf_token": csrf_of(page.text), "username": "coordinator",
                  "password": PASSWORD, "next": "/app/"},
        )
        assert first.status_code == 303
        assert first.headers["location"].startswith("/app/login/code")
        code_page = http.get(first.headers["location"])
        done = http.post(
            "/app/login/code",
            data={"csrf_token": csrf_of(code_page.text),
                  "code": pyotp.TOTP(world.secrets["coordinator"]).at(clock()),
                  "next": "/app/"},
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/app/caseload"
        caseload = http.get("/app/caseload")
        assert caseload.status_code == 200
        assert GIRL in caseload.text
    logins = [e for e in world.access() if e["action"] == "login"]
    assert [e["outcome"] for e in logins] == ["ok"]


def test_a_password_alone_opens_no_care_page(world: World) -> None:
    with world.browser() as b:
        assert b.password_step("coordinator").status_code == 303
        for path in ("/app/caseload", f"/app/trajectories/{world.girl}", "/app/quality",
                     f"/app/trajectories/{world.girl}/forms/safety-analysis"):
            answer = b.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/app/login?next=")
        version = world.version(world.girl)
        code_page = b.get("/app/login/code")
        refused = b.post(
            f"/app/trajectories/{world.girl}/forms/permission",
            {"csrf_token": csrf_of(code_page.text), "kind": "internet", "level": "supervised"},
            follow_redirects=False,
        )
        assert refused.status_code == 303
        assert world.version(world.girl) == version
    assert GIRL not in " ".join(str(e) for e in world.access())


def test_a_wrong_code_and_a_used_code_are_refused(world: World) -> None:
    with world.browser() as b:
        b.password_step("coordinator")
        page = b.get("/app/login/code")
        wrong = b.post("/app/login/code", {"csrf_token": csrf_of(page.text), "code": "000000"})
        assert wrong.status_code == 401
        assert "De code klopt niet" in wrong.text
        code = pyotp.TOTP(world.secrets["coordinator"]).at(world.clock())
        ok = b.post("/app/login/code", {"csrf_token": csrf_of(page.text), "code": code},
                    follow_redirects=False)
        assert ok.status_code == 303
    with world.browser() as again:  # the same code, seen over a shoulder, a second time
        again.password_step("coordinator")
        page = again.get("/app/login/code")
        replay = again.post("/app/login/code", {"csrf_token": csrf_of(page.text), "code": code})
        assert replay.status_code == 401
        assert again.get("/app/caseload", follow_redirects=False).status_code == 303


@sqlite_only
def test_a_wrong_password_is_refused_and_logged_without_a_session(world: World) -> None:
    with world.browser() as b:
        answer = b.password_step("coordinator", password="not the password at all")
        assert answer.status_code == 401
        assert "Gebruikersnaam of wachtwoord onjuist" in answer.text
        unknown = b.password_step("nobody", password="not the password at all")
        assert unknown.status_code == 401
        assert b.session_cookie() is None
    assert _sessions(world) == 0
    assert [e["outcome"] for e in world.access() if e["action"] == "login"] == ["denied"] * 2


@sqlite_only
def test_after_a_wrong_password_the_form_keeps_her_user_name_but_not_the_password(
    world: World,
) -> None:
    """Given the sign-in page;
    when she sends her user name with a wrong password;
    then the refusal shows the form again with her user name filled in and the cursor
    in the password field, and the password she typed appears nowhere in the page.

    Retyping a correct name after every typo in a password is a nuisance on a phone;
    sending a password back into a page is a leak (browser caches, screenshots)."""
    wrong = "niet het wachtwoord 9"
    with world.browser() as b:
        answer = b.password_step("coordinator", password=wrong)

    assert answer.status_code == 401
    page = Page.of(answer.text)
    [username] = page.find("input", id="username")
    [password] = page.find("input", id="password")
    assert username.attrs.get("value") == "coordinator"
    assert "autofocus" not in username.attrs
    assert "autofocus" in password.attrs
    assert password.attrs.get("value", "") == ""
    assert wrong not in answer.text


@sqlite_only
def test_an_account_without_a_second_factor_cannot_sign_in(world: World) -> None:
    world.app.db.fetchone("SELECT 1 AS one")
    with world.app.db.transaction() as tx:
        tx.execute("UPDATE users SET totp_secret = NULL WHERE user_id = 'coordinator'")
    with world.browser() as b:
        answer = b.password_step("coordinator")
        assert answer.status_code == 403
        assert "tweede factor" in answer.text
        assert b.session_cookie() is None
        assert b.get("/app/caseload", follow_redirects=False).status_code == 303


def test_every_step_up_gets_a_new_session_id(world: World) -> None:
    with world.browser() as b:
        planted = "a-session-id-an-attacker-knows"
        b.client.cookies.set("trj_session", planted, domain="testserver.local", path="/app")
        b.password_step("coordinator")
        half = b.session_cookie()
        assert half is not None
        assert half != planted
        page = b.get("/app/login/code")
        b.post("/app/login/code", {"csrf_token": csrf_of(page.text), "code": b.code("coordinator")})
        full = b.session_cookie()
        assert full not in (None, half, planted)
        rows = world.app.db.fetchall("SELECT session_hash, stage FROM web_sessions")
        assert rows == [{"session_hash": session_hash(full or ""), "stage": "full"}]


@sqlite_only
def test_the_session_cookie_is_http_only_strict_and_secure_behind_https(world: World) -> None:
    with world.browser() as b:
        answer = b.password_step("coordinator")
        cookie = answer.headers["set-cookie"]
        assert "trj_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert "Path=/app" in cookie
        assert "Secure" not in cookie.split("trj_presign")[0]  # plain http, setting "auto"
    with world.browser(base_url="https://testserver.local") as b:
        answer = b.password_step("coordinator")
        assert "Secure" in answer.headers["set-cookie"].split("trj_presign")[0]


def test_a_form_posted_without_the_token_is_refused_and_records_nothing(world: World) -> None:
    with world.browser("coordinator") as b:
        version = world.version(world.girl)
        writes = len(world.access(world.girl))
        path = f"/app/trajectories/{world.girl}/forms/permission"
        for token in (None, "", "forged-token"):
            data = {"kind": "internet", "level": "supervised", "reason": "test"}
            if token is not None:
                data["csrf_token"] = token
            answer = b.post(path, data)
            assert answer.status_code == 403
            assert "niets vastgelegd" in answer.text
        assert world.version(world.girl) == version
        assert not [e for e in world.access(world.girl)[writes:] if e["outcome"] == "ok"]
        # and with the page's own token it goes through
        done = b.submit(path, {"kind": "internet", "level": "supervised", "reason": "test"},
                        follow_redirects=False)
        assert done.status_code == 303
        assert world.version(world.girl) == version + 1


@sqlite_only
def test_the_sign_in_form_needs_its_own_token(world: World) -> None:
    with world.browser() as b:
        b.get("/app/login")
        answer = b.post("/app/login", {"username": "coordinator", "password": PASSWORD})
        assert answer.status_code == 403
        assert b.session_cookie() is None
    assert _sessions(world) == 0


def test_an_idle_session_times_out(world: World) -> None:
    with world.browser("coordinator") as b:
        world.clock.advance(minutes=14)
        assert b.get("/app/caseload").status_code == 200
        world.clock.advance(minutes=14)  # active 14 minutes ago: still alive
        assert b.get("/app/caseload").status_code == 200
        world.clock.advance(minutes=16)
        gone = b.get("/app/caseload", follow_redirects=False)
        assert gone.status_code == 303
        assert gone.headers["location"] == "/app/login?next=%2Fapp%2Fcaseload"
    assert _sessions(world) == 0


@sqlite_only
def test_a_busy_session_still_ends_after_eight_hours(world: World) -> None:
    with world.browser("coordinator") as b:
        for _ in range(47):  # a request every ten minutes, for 7 h 50
            world.clock.advance(minutes=10)
            assert b.get("/app/caseload", follow_redirects=False).status_code == 200
        world.clock.advance(minutes=11)
        assert b.get("/app/caseload", follow_redirects=False).status_code == 303


@sqlite_only
def test_a_half_session_lasts_five_minutes(world: World) -> None:
    with world.browser() as b:
        b.password_step("coordinator")
        page = b.get("/app/login/code")
        world.clock.advance(minutes=6)
        late = b.post("/app/login/code",
                      {"csrf_token": csrf_of(page.text), "code": b.code("coordinator")},
                      follow_redirects=False)
        assert late.status_code == 303
        assert late.headers["location"].startswith("/app/login?")


def test_signing_out_ends_the_session_on_the_server(world: World) -> None:
    with world.browser("coordinator") as b:
        cookie = b.session_cookie()
        page = b.get("/app/caseload")
        out = b.post("/app/logout", {"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
        assert _sessions(world) == 0
        b.client.cookies.set("trj_session", cookie or "", domain="testserver.local", path="/app")
        assert b.get("/app/caseload", follow_redirects=False).status_code == 303


def test_a_revoked_user_is_signed_out_at_once(world: World) -> None:
    with world.browser("coordinator") as b:
        world.services.users.revoke("coordinator", world.clock())
        assert b.get("/app/caseload", follow_redirects=False).status_code == 303


def test_an_export_needs_a_fresh_re_authentication(world: World, tmp_path: Path) -> None:
    world.approve_project("zonmw-3d")
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        assert page.status_code == 200
        assert 'name="reauth_password"' in page.text
        refused = b.post("/app/research/exports",
                         {"csrf_token": csrf_of(page.text), "project": "zonmw-3d"})
        assert refused.status_code == 401
        assert not any(e["action"] == "export" for e in world.access())
        done = b.export("zonmw-3d")
        assert done.status_code == 303, done.text
        manifest_page = b.get(done.headers["location"])
        assert manifest_page.status_code == 200
        assert "manifest.json" in manifest_page.text
        links = [e.attrs["href"] for e in Page.of(manifest_page.text).find("a")
                 if "/files/" in e.attrs.get("href", "")]
        assert links
        for link in links:
            got = b.get(link)
            assert got.status_code == 200
            assert got.headers["content-disposition"].startswith("attachment")
        manifest = b.get(next(link for link in links if link.endswith("manifest.json")))
        assert manifest.json()["parameters"]["project"] == "zonmw-3d"
        assert GIRL not in manifest.text
        # fresh for five minutes: a second export asks nothing more
        again = b.get("/app/research")
        assert 'name="reauth_password"' not in again.text
        world.clock.advance(minutes=6)
        assert 'name="reauth_password"' in b.get("/app/research").text
    assert any(e["action"] == "export" and e["outcome"] == "ok" for e in world.access())


def test_an_erasure_needs_a_fresh_re_authentication(world: World) -> None:
    with world.browser("admin") as b:
        page = b.get("/app/admin")
        form = {"csrf_token": csrf_of(page.text), "trajectory_id": str(world.girl),
                "reason": "verzoek toegewezen", "legal_ground": "request-granted"}
        refused = b.post("/app/admin/erasure", form)
        assert refused.status_code == 401
        assert world.app.db.fetchone(
            "SELECT 1 AS one FROM trajectory_index WHERE trajectory_id = ?", [str(world.girl)]
        )
        # (her request was granted: the ground holds; one admin proposes, a second approves)
        world.app.execute(world.girl, RequestDestruction(requested_by="girl"),
                          world.actor("coordinator"))
        world.app.execute(world.girl, DecideDestructionRequest(granted=True),
                          world.actor("coordinator"))
        proposed = b.post("/app/admin/erasure", {**form, "reauth_password": PASSWORD,
                                                 "reauth_code": b.code("admin")})
        assert proposed.status_code == 200
        assert "voorgesteld" in proposed.text
    with world.browser("admin-2") as second:
        page = second.get("/app/admin")
        pid = world.app.db.fetchall("SELECT proposal_id FROM erasure_proposals")[0]
        done = second.post(f"/app/admin/erasures/{pid['proposal_id']}/confirmation", {
            "csrf_token": csrf_of(page.text), "confirmation": str(world.girl)[:8],
            "reauth_password": PASSWORD, "reauth_code": second.code("admin-2")})
        assert done.status_code == 200
        assert "vernietigd" in done.text
    assert world.app.keys is not None
    assert world.app.keys.is_erased(world.girl)


@sqlite_only
def test_an_admin_cannot_erase_another_organisations_file(world: World) -> None:
    with world.browser("admin") as b:
        page = b.get("/app/admin")
        answer = b.post("/app/admin/erasure", {
            "csrf_token": csrf_of(page.text), "trajectory_id": str(world.other_girl),
            "reason": "x", "legal_ground": "other", "reauth_password": PASSWORD,
            "reauth_code": b.code("admin")})
        assert answer.status_code == 404
    assert world.app.keys is not None
    assert not world.app.keys.is_erased(world.other_girl)


def test_a_new_authenticator_app_is_linked_with_an_inline_qr_code(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/account/totp")
        assert page.status_code == 200
        assert '<svg role="img"' in page.text
        assert "style=" not in page.text
        secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page.text)
        assert secret is not None
        code = pyotp.TOTP(secret.group(1)).at(world.clock())
        done = b.post("/app/account/totp", {"csrf_token": csrf_of(page.text),
                                            "password": PASSWORD, "code": code,
                                            "current_code": b.code("coordinator")})
        assert done.status_code == 200
        assert "gekoppeld" in done.text
    world.secrets["coordinator"] = secret.group(1)
    world.clock.advance(seconds=30)
    with world.browser("coordinator") as b2:  # the new app's codes now sign her in
        assert b2.get("/app/caseload").status_code == 200


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """The command line configures logging to the captured streams: undo that after."""
    root = logging.getLogger()
    level = root.level
    yield
    structlog.reset_defaults()
    for handler in [h for h in root.handlers if h.get_name() == "trajectory-json"]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("cli_logging")
def test_users_add_sets_a_password_and_enrols_totp(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("een heel goed wachtwoord\n"))
    code = main(["users", "add", "--name", "anna", "--role", "coordinator", "--org", "org-a",
                 "--password-stdin", "--enrol-totp"])
    out = capsys.readouterr().out
    assert code == 0
    assert "password set" in out
    uri = re.search(r"otpauth://totp/\S+", out)
    secret = re.search(r"secret: ([A-Z2-7]+)", out)
    assert uri is not None
    assert secret is not None
    assert "▄" in out or "█" in out  # the QR code, for the terminal
    assert out.rstrip().splitlines()[-1].startswith("trj_")  # the token stays last
    short = main(["users", "add", "--name", "bea", "--role", "coordinator", "--org", "org-a",
                  "--password-stdin"])
    assert short == 2  # too short a password: refused, and no user added
    capsys.readouterr()
    assert main(["users", "sign-in", "anna", "--enrol-totp"]) == 0  # a new phone
    renewed = re.search(r"secret: ([A-Z2-7]+)", capsys.readouterr().out)
    assert renewed is not None
    assert renewed.group(1) != secret.group(1)
    assert main(["users", "sign-in", "nobody", "--enrol-totp"]) == 2
    application = TrajectoryApplication(
        Settings(database_url=database_url, master_key=MASTER_KEY), clock=clock
    )
    try:
        stored = application.db.fetchone(
            "SELECT password_hash, totp_secret FROM users WHERE name = 'anna'"
        )
        assert stored is not None
        assert str(stored["password_hash"]).startswith("$argon2id$")
        assert secret.group(1) not in str(stored["totp_secret"])
        assert application.db.fetchone("SELECT 1 AS one FROM users WHERE name = 'bea'") is None
        services = build_services(application)
        with TestClient(create_app(services)) as client:
            page = client.get("/app/login")
            first = client.post("/app/login", data={
                "csrf_token": csrf_of(page.text), "username": "anna",
                "password": "een heel goed wachtwoord", "next": "/app/"},
                follow_redirects=False)
            assert first.status_code == 303
            code_page = client.get(first.headers["location"])
            done = client.post("/app/login/code", data={
                "csrf_token": csrf_of(code_page.text),
                "code": pyotp.TOTP(renewed.group(1)).at(clock())},
                follow_redirects=False)
            assert done.status_code == 303
            assert client.get("/app/caseload").status_code == 200
    finally:
        application.close()


@sqlite_only
def test_guessing_codes_is_throttled_and_next_never_leaves_the_site(world: World) -> None:
    with world.browser() as b:
        page = b.get("/app/login")
        first = b.post("/app/login", {"csrf_token": csrf_of(page.text), "username": "coordinator",
                                      "password": PASSWORD, "next": "https://evil.example/"},
                       follow_redirects=False)
        assert first.headers["location"] == "/app/login/code?next=%2Fapp%2F"
        code_page = b.get("/app/login/code")
        totp = pyotp.TOTP(world.secrets["coordinator"])
        valid = {totp.at(world.clock(), counter_offset=o) for o in (-1, 0, 1)}
        guesses = [g for g in (f"{n:06d}" for n in range(20)) if g not in valid][:10]
        for guess in guesses:
            wrong = b.post("/app/login/code", {"csrf_token": csrf_of(code_page.text),
                                               "code": guess})
            assert wrong.status_code == 401
        right = b.post("/app/login/code", {"csrf_token": csrf_of(code_page.text),
                                           "code": b.code("coordinator")})
        assert right.status_code == 429
        assert b.get("/app/caseload", follow_redirects=False).status_code == 303


def test_a_store_made_before_the_web_pages_gains_their_columns(tmp_path: Path) -> None:
    """An existing SQLite store: the users table of before gets the sign-in columns."""
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
            " role TEXT NOT NULL, organisation TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
            " created_at TEXT NOT NULL, revoked_at TEXT)"
        )
        db.execute("INSERT INTO users VALUES ('u1', 'anna', 'coordinator', 'o', 'h', 't', NULL)")
    application = TrajectoryApplication(
        Settings(database_url=f"sqlite:///{path}", master_key=MASTER_KEY)
    )
    try:
        row = application.db.fetchone(
            "SELECT name, password_hash, totp_secret, totp_last_step FROM users"
        )
        assert row == {"name": "anna", "password_hash": None, "totp_secret": None,
                       "totp_last_step": None}
        assert application.db.fetchone("SELECT COUNT(*) AS n FROM web_sessions") == {"n": 0}
    finally:
        application.close()


def test_a_master_key_rotation_keeps_every_second_factor(world: World) -> None:
    assert world.app.keys is not None
    world.app.keys.rotate(MasterKey.generate(), world.clock())
    with world.browser("coordinator") as b:
        assert b.get("/app/caseload").status_code == 200
