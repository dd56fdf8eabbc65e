"""What the security review of December 2026 found in the web sign-in and sessions, each
reproduced with the review's own requests: an empty form that passed the CSRF check, a
foreign Origin that was never looked at, password guessing per address only and not at
all inside a session, a second factor re-bound without the current code, sessions that
outlived a credential change, failed attempts missing from the access log, and a cookie
never marked Secure behind the TLS proxy."""

from __future__ import annotations

import logging
import re

import httpx
import msgspec
import pyotp
import pytest
import structlog

from tests.conftest import MASTER_KEY
from tests.live import Live, live_server
from tests.web_support import PASSWORD, Browser, World, csrf_of, sqlite_only
from trajectory.cli import main
from trajectory.identity.credentials import Credentials
from trajectory.settings import Settings, SettingsError
from trajectory.web.sessions import session_hash

FOREIGN = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


# -- CSRF: an empty body, a foreign origin -------------------------------------------------------


def test_an_empty_form_without_token_from_a_foreign_origin_accepts_no_handover(
    world: World,
) -> None:
    tid = world.handed_over
    version = world.version(tid)
    with world.browser("aftercare") as b:
        answer = b.client.post(f"/app/trajectories/{tid}/forms/handover-acceptance",
                               content=b"", headers=FOREIGN)
        assert answer.status_code == 403
        assert "niets vastgelegd" in answer.text
        started = b.client.post(f"/app/trajectories/{tid}/forms/aftercare-start",
                                content=b"", headers=FOREIGN)
        assert started.status_code == 403
    assert world.version(tid) == version


@sqlite_only
def test_an_empty_sign_out_from_a_foreign_origin_leaves_the_session(world: World) -> None:
    with world.browser("coordinator") as b:
        answer = b.client.post("/app/logout", content=b"", headers=FOREIGN,
                               follow_redirects=False)
        assert answer.status_code == 403
        assert b.get("/app/caseload", follow_redirects=False).status_code == 200


@sqlite_only
def test_a_form_with_its_token_but_from_another_origin_is_refused(world: World) -> None:
    path = f"/app/trajectories/{world.girl}/forms/signal"
    version = world.version(world.girl)
    with world.browser("coordinator") as b:
        token = csrf_of(b.get(path).text)
        form = {"csrf_token": token, "kind": "loverboy", "note": "x"}
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/page"},
            {"Sec-Fetch-Site": "same-site"},
        ):
            answer = b.post(path, form, headers=headers)
            assert answer.status_code == 403, headers
        assert world.version(world.girl) == version
        # the same form from the page itself goes through
        same = b.post(path, form, headers={"Origin": "http://testserver.local",
                                           "Sec-Fetch-Site": "same-origin"},
                      follow_redirects=False)
        assert same.status_code == 303, same.text
        # as a browser posts it under our no-referrer policy: Origin null, and the
        # Sec-Fetch-Site no page can set saying it is our own
        own = b.post(path, form, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
                     follow_redirects=False)
        assert own.status_code == 303, own.text
    assert world.version(world.girl) == version + 2


@sqlite_only
def test_an_empty_sign_in_form_is_refused_like_a_wrong_token(world: World) -> None:
    with world.browser() as b:
        b.get("/app/login")
        answer = b.client.post("/app/login", content=b"", follow_redirects=False)
        assert answer.status_code == 403


# -- password guessing: per account, and inside a session ---------------------------------------

WRONG = "not the password at all"


def _from(live: Live, address: str) -> httpx.Client:
    """A browser at another client address (the loopback network has many)."""
    return httpx.Client(base_url=live.base_url, follow_redirects=False, timeout=30,
                        transport=httpx.HTTPTransport(local_address=address))


def _password_step(http: httpx.Client, who: str, password: str) -> httpx.Response:
    page = http.get("/app/login")
    return http.post("/app/login", data={"csrf_token": csrf_of(page.text), "username": who,
                                         "password": password, "next": "/app/"})


@sqlite_only
def test_guessing_one_accounts_password_from_many_addresses_is_limited(world: World) -> None:
    with live_server(world.app) as live:
        answers = []
        for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            with _from(live, address) as http:
                answers += [_password_step(http, "coordinator", WRONG).status_code
                            for _ in range(4)]
        assert answers == [401] * 10 + [429] * 2
        with _from(live, "127.0.0.5") as fresh:
            assert _password_step(fresh, "coordinator", PASSWORD).status_code == 429
            # another account is not held up by it
            assert _password_step(fresh, "admin", PASSWORD).status_code == 303


@sqlite_only
def test_a_failed_sign_in_is_logged_against_the_account_it_tried(world: World) -> None:
    with world.browser() as b:
        assert b.password_step("coordinator", password=WRONG).status_code == 401
        assert b.password_step("nobody", password=WRONG).status_code == 401
    denied = [e for e in world.access() if e["action"] == "login"]
    assert [(e["user_id"], e["outcome"]) for e in denied] == [
        ("coordinator", "denied"), (None, "denied")]


def _enrolment(b: Browser) -> tuple[str, str]:
    """The new-authenticator page: its CSRF token and the new secret it shows."""
    page = b.get("/app/account/totp")
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", page.text)
    assert secret is not None
    return csrf_of(page.text), secret.group(1)


def _stored_secret(world: World, who: str) -> str:
    row = world.app.db.fetchone("SELECT totp_secret FROM users WHERE user_id = ?", [who])
    assert row is not None
    return str(row["totp_secret"])


@sqlite_only
def test_guessing_the_password_at_the_totp_enrolment_is_throttled_and_logged(
    world: World,
) -> None:
    before = _stored_secret(world, "coordinator")
    with world.browser("coordinator") as b:
        token, secret = _enrolment(b)
        logged = len(world.access())
        answers = [
            b.post("/app/account/totp", {
                "csrf_token": token, "password": WRONG, "current_code": b.code("coordinator"),
                "code": pyotp.TOTP(secret).at(world.clock())}).status_code
            for _ in range(10)
        ]
        assert answers == [401] * 10
        right = b.post("/app/account/totp", {
            "csrf_token": token, "password": PASSWORD, "current_code": b.code("coordinator"),
            "code": pyotp.TOTP(secret).at(world.clock())})
        assert right.status_code == 429
    assert _stored_secret(world, "coordinator") == before
    failed = [e for e in world.access()[logged:] if e["outcome"] == "denied"]
    assert len(failed) == 10
    assert {(e["user_id"], e["action"]) for e in failed} == {("coordinator", "login")}


@sqlite_only
def test_guessing_the_password_at_an_export_is_throttled_and_logged(world: World) -> None:
    with world.browser("researcher") as b:
        page = b.get("/app/research")
        logged = len(world.access())
        form = {"csrf_token": csrf_of(page.text), "project": "zonmw-3d", "format": "csv",
                "k": "5"}
        answers = [
            b.post("/app/research/exports", {**form, "reauth_password": WRONG,
                                             "reauth_code": b.code("researcher")},
                   follow_redirects=False).status_code
            for _ in range(10)
        ]
        assert answers == [401] * 10
        assert b.export("zonmw-3d").status_code == 429
    failed = [e for e in world.access()[logged:] if e["outcome"] == "denied"]
    assert len(failed) == 10
    assert {e["user_id"] for e in failed} == {"researcher"}
    assert not any(e["action"] == "export" and e["outcome"] == "ok" for e in world.access())


# -- the second factor and the other sessions ---------------------------------------------------


@sqlite_only
def test_a_new_authenticator_app_needs_the_current_code(world: World) -> None:
    before = _stored_secret(world, "coordinator")
    with world.browser("coordinator") as b:
        token, secret = _enrolment(b)
        without = b.post("/app/account/totp", {"csrf_token": token, "password": PASSWORD,
                                               "code": pyotp.TOTP(secret).at(world.clock())})
        assert without.status_code == 401
        assert _stored_secret(world, "coordinator") == before
        wrong = b.post("/app/account/totp", {"csrf_token": token, "password": PASSWORD,
                                             "current_code": "000000",
                                             "code": pyotp.TOTP(secret).at(world.clock())})
        assert wrong.status_code == 401
        assert _stored_secret(world, "coordinator") == before
        done = b.post("/app/account/totp", {"csrf_token": token, "password": PASSWORD,
                                            "current_code": b.code("coordinator"),
                                            "code": pyotp.TOTP(secret).at(world.clock())})
        assert done.status_code == 200
        assert "gekoppeld" in done.text
    assert _stored_secret(world, "coordinator") != before


def _signed_in_elsewhere(world: World, who: str) -> str:
    """Sign in at another browser (one test client at a time) and keep its session."""
    with world.browser(who) as b:
        cookie = b.session_cookie()
    assert cookie is not None
    return cookie


def _still_signed_in(world: World, cookie: str, path: str = "/app/account") -> bool:
    with world.browser(cookies={"trj_session": cookie}) as b:
        return b.get(path, follow_redirects=False).status_code == 200


@sqlite_only
def test_a_new_second_factor_ends_every_other_session_of_hers(world: World) -> None:
    first = _signed_in_elsewhere(world, "coordinator")
    someone_else = _signed_in_elsewhere(world, "admin")
    with world.browser("coordinator") as second:
        token, secret = _enrolment(second)
        done = second.post("/app/account/totp", {
            "csrf_token": token, "password": PASSWORD, "current_code": second.code("coordinator"),
            "code": pyotp.TOTP(secret).at(world.clock())})
        assert done.status_code == 200
        assert second.get("/app/caseload", follow_redirects=False).status_code == 200
        kept = second.session_cookie()
    assert not _still_signed_in(world, first)
    assert _still_signed_in(world, someone_else)
    assert kept is not None
    assert _still_signed_in(world, kept)


@sqlite_only
def test_a_new_password_ends_every_session_of_hers(world: World) -> None:
    hers = _signed_in_elsewhere(world, "coordinator")
    assert _still_signed_in(world, hers)
    Credentials(world.app.db, world.app.keys).set_password("coordinator",
                                                           "een heel ander wachtwoord")
    assert not _still_signed_in(world, hers)


@sqlite_only
def test_she_sees_her_sessions_and_ends_another_one(world: World) -> None:
    elsewhere = _signed_in_elsewhere(world, "coordinator")
    with world.browser("coordinator") as here:
        page = here.get("/app/account/sessions")
        assert page.status_code == 200
        assert "Deze sessie" in page.text
        forms = re.findall(r'name="session" value="([^"]+)"', page.text)
        assert forms == [session_hash(elsewhere)]  # this one is ended by signing out
        ended = here.post("/app/account/sessions", {"csrf_token": csrf_of(page.text),
                                                    "session": forms[0]})
        assert ended.status_code == 200
        assert "beëindigd" in ended.text
        assert here.get("/app/caseload", follow_redirects=False).status_code == 200
    assert not _still_signed_in(world, elsewhere)


@sqlite_only
def test_a_session_of_someone_else_cannot_be_ended_from_her_page(world: World) -> None:
    theirs = _signed_in_elsewhere(world, "coordinator")
    with world.browser("admin") as admin:
        page = admin.get("/app/account/sessions")
        answer = admin.post("/app/account/sessions", {"csrf_token": csrf_of(page.text),
                                                      "session": session_hash(theirs)})
        assert answer.status_code == 404
    assert _still_signed_in(world, theirs)


# -- behind the TLS proxy: Secure cookies, HSTS, the client's own address ------------------------


def _behind_proxy(world: World, monkeypatch: pytest.MonkeyPatch, proxies: str) -> None:
    settings = msgspec.structs.replace(world.app.settings, trusted_proxies=proxies)
    monkeypatch.setattr(world.app, "settings", settings)


def _cookies(answer: httpx.Response) -> list[str]:
    return answer.headers.get_list("set-cookie")


@sqlite_only
def test_behind_a_trusted_tls_proxy_the_cookies_are_secure_and_hsts_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _behind_proxy(world, monkeypatch, "127.0.0.1, 10.0.0.0/8")
    with live_server(world.app) as live:
        with _from(live, "127.0.0.1") as proxy:
            page = proxy.get("/app/login", headers={"X-Forwarded-Proto": "https"})
            assert all("Secure" in c for c in _cookies(page))
            assert page.headers["strict-transport-security"].startswith("max-age=")
            # (a Secure cookie is not sent back over the test's plain HTTP: by hand)
            token = csrf_of(page.text)
            signed = proxy.post("/app/login", headers={"X-Forwarded-Proto": "https",
                                                       "Cookie": f"trj_presign={token}"},
                                data={"csrf_token": token, "username": "coordinator",
                                      "password": PASSWORD, "next": "/app/"})
            assert signed.status_code == 303
            assert all("Secure" in c for c in _cookies(signed) if "trj_session=" in c)
            rfc = proxy.get("/app/login", headers={"Forwarded": "for=192.0.2.7;proto=https"})
            assert all("Secure" in c for c in _cookies(rfc))
            plain = proxy.get("/app/login")
            assert not any("Secure" in c for c in _cookies(plain))
            assert "strict-transport-security" not in plain.headers
        # the same headers from anyone else are not believed
        with _from(live, "127.0.0.2") as stranger:
            page = stranger.get("/app/login", headers={"X-Forwarded-Proto": "https"})
            assert not any("Secure" in c for c in _cookies(page))
            assert "strict-transport-security" not in page.headers


@sqlite_only
def test_behind_a_trusted_proxy_each_client_has_its_own_address(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _behind_proxy(world, monkeypatch, "127.0.0.1")
    with live_server(world.app) as live, _from(live, "127.0.0.1") as proxy:
        guesser = {"X-Forwarded-For": "198.51.100.9"}
        answers = []
        for name in [f"guess-{n}" for n in range(11)]:
            page = proxy.get("/app/login", headers=guesser)
            answers.append(proxy.post("/app/login", headers=guesser, data={
                "csrf_token": csrf_of(page.text), "username": name,
                "password": WRONG}).status_code)
        assert answers == [401] * 10 + [429]
        # a colleague behind the same proxy is not held up by the guesser
        colleague = {"X-Forwarded-For": "203.0.113.4, 198.51.100.200"}
        page = proxy.get("/app/login", headers=colleague)
        ok = proxy.post("/app/login", headers=colleague, data={
            "csrf_token": csrf_of(page.text), "username": "admin", "password": PASSWORD})
        assert ok.status_code == 303
    clients = {e["client"] for e in world.access() if e["action"] == "login"}
    assert clients == {"198.51.100.9"}


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert Settings.from_env({"TRAJECTORY_TRUSTED_PROXIES": "10.0.0.1, fd00::/8"})
    with pytest.raises(SettingsError, match=r"proxy\.example"):
        Settings.from_env({"TRAJECTORY_TRUSTED_PROXIES": "10.0.0.1, proxy.example"})


@sqlite_only
def test_an_administrators_reset_on_the_command_line_ends_her_sessions(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hers = _signed_in_elsewhere(world, "coordinator")
    someone_else = _signed_in_elsewhere(world, "admin")
    monkeypatch.setenv("TRAJECTORY_DATABASE_URL", world.app.settings.database_url)
    monkeypatch.setenv("TRAJECTORY_MASTER_KEY", MASTER_KEY)
    root = logging.getLogger()
    level = root.level
    try:
        assert main(["users", "sign-in", "coordinator", "--enrol-totp"]) == 0
    finally:  # the command line configures logging to the captured streams: undo that
        structlog.reset_defaults()
        root.setLevel(level)
        for handler in [h for h in root.handlers if h.get_name() == "trajectory-json"]:
            root.removeHandler(handler)
    capsys.readouterr()
    assert not _still_signed_in(world, hers)
    assert _still_signed_in(world, someone_else)
