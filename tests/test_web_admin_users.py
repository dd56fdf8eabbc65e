"""The administrator's users page (issue 17, part 8): she adds a user of her own
organisation who can then sign in, gives a new second factor (the old one stops
working), revokes (her session ends), and reaches no user of another organisation;
the irreversible acts ask for her password and a new code; every act is logged."""

from __future__ import annotations

import re

import httpx
import pyotp

from tests.web_support import ORG_A, PASSWORD, Browser, Page, World, csrf_of


def _act(b: Browser, path: str, *, confirm: bool = True, who: str = "admin",
         password: str = PASSWORD) -> httpx.Response:
    page = b.get("/app/admin/users")
    data = {"csrf_token": csrf_of(page.text), "reauth_password": password,
            "reauth_code": b.code(who)}
    if confirm:
        data["confirm"] = "yes"
    return b.post(path, data)


def _post(b: Browser, path: str, data: dict[str, str]) -> httpx.Response:
    """Post a form of the users page, with that page's CSRF token."""
    page = b.get("/app/admin/users")
    return b.post(path, {"csrf_token": csrf_of(page.text), **data})


def _signed_in(world: World, who: str) -> str:
    """Her session cookie, signed in with both factors (her browser then closes)."""
    with world.browser(who) as her:
        assert her.get("/app/").status_code == 200
        cookie = her.session_cookie()
    assert cookie is not None
    return cookie


def _session_works(world: World, cookie: str) -> bool:
    with world.browser(cookies={"trj_session": cookie}) as her:
        answer = her.get("/app/")
        return answer.status_code == 200 and "/login" not in answer.url.path


def _actions(world: World, user: str = "admin") -> list[tuple[str, str]]:
    """Her acts on users in the log (opening the page, `user-list`, left out)."""
    rows = world.app.db.fetchall(
        "SELECT action, outcome FROM access_log WHERE user_id = ? AND action LIKE 'user-%'"
        " AND action <> 'user-list' ORDER BY entry_id", [user])
    return [(str(r["action"]), str(r["outcome"])) for r in rows]


def test_the_admin_adds_a_user_who_can_then_sign_in(world: World) -> None:
    # given the admin on her users page
    with world.browser("admin") as b:
        listed = b.get("/app/admin/users")
        assert listed.status_code == 200, listed.text
        assert "coordinator-b" not in listed.text  # another organisation's users: not shown
        # when she adds a user
        added = b.submit("/app/admin/users", {"name": "Fenna de Wit", "role": "coordinator"})
    assert added.status_code == 200, added.text
    password = re.search(r"eerste wachtwoord[^:]*: ([a-z0-9-]{23})", added.text, re.I)
    secret = re.search(r"Geheim: ([A-Z2-7]{32})", added.text)
    assert password, added.text
    assert secret, added.text
    new = world.services.users.find("Fenna de Wit")
    assert new is not None
    assert new.organisation == ORG_A
    assert new.role == "coordinator"
    # then she signs in with the password and the enrolled second factor
    world.secrets["Fenna de Wit"] = secret.group(1)
    with world.browser() as b:
        first = b.password_step("Fenna de Wit", password.group(1))
        assert first.status_code == 303, first.text
        page = b.get(first.headers["location"])
        done = b.post("/app/login/code", {"csrf_token": csrf_of(page.text),
                                           "code": b.code("Fenna de Wit"), "next": "/app/"},
                      follow_redirects=False)
        assert done.status_code == 303, done.text
    assert _actions(world) == [("user-add", "ok")]
    assert world.app.db.fetchone(
        "SELECT COUNT(*) AS n FROM access_log WHERE action = 'user-list'")["n"] > 0  # type: ignore[index]


def test_a_name_taken_is_said_at_the_field_in_dutch(world: World) -> None:
    with world.browser("admin") as b:
        answer = b.submit("/app/admin/users", {"name": "coordinator", "role": "coordinator"})
        inspector = b.submit("/app/admin/users", {"name": "Iris", "role": "inspector"})
    assert answer.status_code == 409
    assert "Er bestaat al een gebruiker met die naam." in answer.text
    assert inspector.status_code == 409
    assert world.services.users.find("Iris") is None
    assert ("user-add", "refused") in _actions(world)


def test_revoking_ends_her_session_and_her_sign_in(world: World) -> None:
    # given the coordinator signed in
    cookie = _signed_in(world, "coordinator")
    with world.browser("admin") as b:
        # when the admin revokes her without confirming: nothing happens
        unconfirmed = _act(b, "/app/admin/users/coordinator/revocation", confirm=False)
        assert unconfirmed.status_code == 422
        wrong = _act(b, "/app/admin/users/coordinator/revocation", password="fout" * 4)
        assert wrong.status_code == 401
        assert not world.services.users.by_id("coordinator").revoked  # type: ignore[union-attr]
        done = _act(b, "/app/admin/users/coordinator/revocation")
        assert done.status_code == 200, done.text
    # then her session has ended and she cannot sign in again
    assert not _session_works(world, cookie)
    assert world.services.users.by_id("coordinator").revoked  # type: ignore[union-attr]
    with world.browser() as again:
        assert again.password_step("coordinator").status_code == 401
    assert _actions(world)[-3:] == [("user-revoke", "denied"), ("user-revoke", "denied"),
                                    ("user-revoke", "ok")]


def test_the_admin_cannot_revoke_herself(world: World) -> None:
    with world.browser("admin") as b:
        answer = _act(b, "/app/admin/users/admin/revocation")
    assert answer.status_code == 409
    assert "U kunt uzelf niet intrekken." in answer.text
    assert not world.services.users.by_id("admin").revoked  # type: ignore[union-attr]


def test_a_new_second_factor_must_be_enrolled_again(world: World) -> None:
    old = world.secrets["coordinator"]
    with world.browser("admin") as b:
        done = _act(b, "/app/admin/users/coordinator/second-factor")
    assert done.status_code == 200, done.text
    secret = re.search(r"Geheim: ([A-Z2-7]{32})", done.text)
    assert secret
    assert secret.group(1) != old
    # the old authenticator's code no longer signs her in
    with world.browser() as her:
        first = her.password_step("coordinator")
        page = her.get(first.headers["location"])
        refused = her.post("/app/login/code", {
            "csrf_token": csrf_of(page.text), "code": pyotp.TOTP(old).at(world.clock()),
            "next": "/app/"}, follow_redirects=False)
        assert refused.status_code == 401
    # the new one does
    world.secrets["coordinator"] = secret.group(1)
    world.clock.advance(seconds=30)
    with world.browser("coordinator") as her:
        assert her.get("/app/").status_code == 200
    assert ("user-second-factor", "ok") in _actions(world)


def test_another_organisations_user_is_refused(world: World) -> None:
    with world.browser("admin") as b:
        revoke = _act(b, "/app/admin/users/coordinator-b/revocation")
        role = _post(b, "/app/admin/users/coordinator-b/role", {"role": "admin"})
        ends = _post(b, "/app/admin/users/coordinator-b/sessions", {})
    for answer in (revoke, role, ends):
        assert answer.status_code == 404
        assert "Er is geen gebruiker van uw organisatie" in answer.text
    other = world.services.users.by_id("coordinator-b")
    assert other is not None
    assert not other.revoked
    assert other.role == "coordinator"
    assert [a for a in _actions(world) if a[1] == "refused"] == [
        ("user-revoke", "refused"), ("user-role", "refused"), ("user-sessions", "refused")]


def test_a_new_role_and_ended_sessions(world: World) -> None:
    cookie = _signed_in(world, "quality")
    with world.browser("admin") as b:
        changed = _post(b, "/app/admin/users/quality/role", {"role": "coordinator"})
        assert changed.status_code == 200, changed.text
    assert not _session_works(world, cookie)  # she signs in again under her new role
    assert world.services.users.by_id("quality").role == "coordinator"  # type: ignore[union-attr]
    cookie = _signed_in(world, "coordinator")
    assert _session_works(world, cookie)
    with world.browser("admin") as b:
        ended = _post(b, "/app/admin/users/coordinator/sessions", {})
        assert ended.status_code == 200, ended.text
    assert not _session_works(world, cookie)
    assert ("user-role", "ok") in _actions(world)
    assert ("user-sessions", "ok") in _actions(world)


def test_the_users_page_is_dutch_labelled_and_shows_no_ids(world: World) -> None:
    world.services.users.add(name="Hanna Hex", role="coordinator", organisation=ORG_A,
                             now=world.clock())
    with world.browser("admin") as b:
        html = b.get("/app/admin/users").text
        log = b.get("/app/admin/log").text
    for text in (html, log):
        page = Page.of(text)
        assert page.unlabelled() == []
        assert not re.search(r"[0-9a-f]{32}", page.all_text())
    assert "Gebruikers van uw organisatie" in html
    assert "Hanna Hex" in html
