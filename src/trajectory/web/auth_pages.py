"""Sign-in (password, then the TOTP code), sign-out, the account page with a new TOTP
enrolment (QR code as inline SVG), and the re-authentication that exports and erasures
ask for.

Every step up gets a new session id; a failed password or code counts towards the
client's and the account's limits (`web.guessing`) and is access-logged as a denied
login against the account it tried. An account without a TOTP secret cannot sign in at
all: it is enrolled by an administrator (`trajectory users add --enrol-totp`), never by
whoever knows a password. A new authenticator app needs the password and a code of the
current one (or an administrator's `trajectory users sign-in NAME --enrol-totp`), and
ends every other session of hers: whoever held one of them must sign in with the new
factor.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import segno
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import Parameter
from litestar.response import Redirect, Template
from markupsafe import Markup

from trajectory.calendar_feeds import CalendarFeeds
from trajectory.identity.credentials import matching_step, new_totp_secret, provisioning_uri
from trajectory.identity.users import User
from trajectory.web.core import (
    CALENDAR,
    CALENDAR_SUFFIX,
    CSRF_REFUSED,
    FEED_ROLES,
    NOT_FOUND,
    PRE_COOKIE,
    PREFIX,
    WebError,
    first,
    form_of,
    log,
    page,
    redirect,
    safe_next,
    secure,
    session_cookie,
    session_of,
    translator,
    web,
)
from trajectory.web.guessing import TOO_MANY, guess_failed, guessing_blocked, log_login
from trajectory.web.sessions import SESSION_COOKIE, WebSession

HOME = {
    "coordinator": "/caseload",
    "aftercare": "/handovers",
    "researcher": "/research",
    "admin": "/admin",
    "quality": "/organisation",
    "inspector": "/inspection",
    "privacy": "/privacy/emergency-accesses",
}
PUBLIC = {"web_access": "public"}
HALF = {"web_access": "half"}
ANY_ROLE = {"web_access": "full", "web_roles": ()}


def _login_page(
    request: Request[Any, Any, Any], *, error: str | None = None, status_code: int = 200,
    notice: str | None = None, username: str = "",
) -> Template:
    """The sign-in form; after a refusal it keeps the user name she typed (a typo in the
    password should not cost her the name too), never the password."""
    token = secrets.token_urlsafe(32)
    cookie = Cookie(
        key=PRE_COOKIE, value=token, path=PREFIX, httponly=True, samesite="strict",
        secure=secure(request),
    )
    return page(
        request,
        "login.html",
        status_code=status_code,
        cookies=[cookie],
        pre_token=token,
        error=error,
        notice=notice,
        username=username[:200],
        next=safe_next(request.query_params.get("next")),
    )


@get("/", opt=ANY_ROLE, sync_to_thread=True)
def home(request: Request[Any, Any, Any]) -> Redirect:
    return redirect(HOME.get(session_of(request).user.role, "/account"))


@get("/login", opt=PUBLIC, sync_to_thread=True)
def login_form(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    notice = t("You are signed out.") if request.query_params.get("signed_out") else None
    if request.query_params.get("next") and not notice:
        ended = t("Your session expired or was ended. Please sign in again.")
        notice = ended if request.cookies.get(SESSION_COOKIE) else None
    return _login_page(request, notice=notice)


@post("/login", opt=PUBLIC, sync_to_thread=True, status_code=303)
def login(request: Request[Any, Any, Any]) -> Response[Any]:
    w = web(request)
    t = translator(request)
    form = form_of(request)
    typed = first(form, "username")
    if guessing_blocked(request, typed):
        return _login_page(request, error=t(TOO_MANY), status_code=429, username=typed)
    found = w.credentials.check_password(typed, first(form, "password"))
    if found is None:
        guess_failed(request, typed)
        return _login_page(request, error=t("Wrong user name or password."), status_code=401,
                           username=typed)
    user = found.user
    if not found.has_totp:
        log_login(request, user, "denied")
        return _login_page(request, error=t("Your account has no second factor yet. Ask the"
                                            " administrator to enrol you with an authenticator"
                                            " app."), status_code=403, username=typed)
    now = w.services.application.clock()
    old = request.cookies.get(SESSION_COOKIE)
    from trajectory.web.sessions import session_hash

    session_id, _ = w.sessions.start(
        user.user_id, "password", now, replacing=session_hash(old) if old else None
    )
    response = redirect("/login/code", next=safe_next(first(form, "next")))
    response.set_cookie(session_cookie(request, session_id))
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@get("/login/code", opt=HALF, sync_to_thread=True)
def code_form(request: Request[Any, Any, Any]) -> Template:
    return page(request, "code.html", error=None,
                next=safe_next(request.query_params.get("next")))


@post("/login/code", opt=HALF, sync_to_thread=True, status_code=303)
def code(request: Request[Any, Any, Any]) -> Response[Any]:
    w = web(request)
    t = translator(request)
    form = form_of(request)
    session = session_of(request)
    user = session.user
    target = safe_next(first(form, "next"))
    # Codes are guessed per account too, not only per address: six digits are few.
    if guessing_blocked(request, user.name):
        return page(request, "code.html", error=t(TOO_MANY), next=target, status_code=429)
    now = w.services.application.clock()
    if not w.credentials.verify_totp(user.user_id, first(form, "code"), now):
        guess_failed(request, user.name)
        return page(request, "code.html", error=t("The code is wrong or was used already. Try"
                                                  " the next code."), next=target, status_code=401)
    session_id, _ = w.sessions.start(user.user_id, "full", now, replacing=session.id_hash,
                                     created_at=session.created_at)
    log_login(request, user, "ok")
    if target == PREFIX + "/":
        target = PREFIX + HOME.get(user.role, "/account")
    response = Redirect(target, status_code=303)
    response.set_cookie(session_cookie(request, session_id))
    return response


@post("/logout", opt=ANY_ROLE, sync_to_thread=True, status_code=303)
def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    session = session_of(request)
    web(request).sessions.end_hash(session.id_hash)
    response = redirect("/login", signed_out="1")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


# -- re-authentication -------------------------------------------------------------------------


def reauthenticate(
    request: Request[Any, Any, Any], form: dict[str, list[str]], *, for_this_act: bool = False
) -> bool:
    """Whether the session has a fresh re-authentication, or the form carries the password
    and a new TOTP code of the signed-in user (which then make it fresh). Guessing here
    meets the same limits as at sign-in (a stolen session must not become a way to find
    the password): past them the page answers 429, before anything is checked.

    `for_this_act`: an irreversible act (an erasure) takes no re-authentication carried
    over from an earlier one: the form itself must carry the password and a code never
    used before, and they are good for this act alone (the session is not made fresh)."""
    w = web(request)
    session = session_of(request)
    now = w.services.application.clock()
    if session.reauthenticated(now) and not for_this_act:
        return True
    password, code_ = first(form, "reauth_password"), first(form, "reauth_code")
    if not password or not code_:
        return False
    user = session.user
    if guessing_blocked(request, user.name):
        raise WebError(429, TOO_MANY)
    found = w.credentials.check_password(user.name, password)
    if (found is None or found.user.user_id != user.user_id
            or not w.credentials.verify_totp(user.user_id, code_, now)):
        guess_failed(request, user.name)
        return False
    if not for_this_act:
        w.sessions.mark_reauthenticated(session.id_hash, now)
    log_login(request, user, "ok")
    return True


def reauth_fresh(request: Request[Any, Any, Any]) -> bool:
    session = session_of(request)
    return session.reauthenticated(web(request).services.application.clock())


# -- account: a new authenticator app --------------------------------------------------------


def _qr(uri: str, title: str) -> Markup:
    # segno writes attributes only (no style), so the page's CSP needs no inline styles.
    # A viewBox rather than a fixed size: the stylesheet scales the code to the page,
    # whole (with a fixed width and height it was cut off, and would not scan).
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000000", light="#ffffff", title=title, svgclass="qr", omitsize=True
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


@get("/account", opt=ANY_ROLE, sync_to_thread=True)
def account(request: Request[Any, Any, Any]) -> Template:
    return _account_page(request)


def _account_page(
    request: Request[Any, Any, Any], *, notice: str | None = None, error: str | None = None,
    made: str | None = None, status_code: int = 200,
) -> Template:
    """The account page with what it says of her agenda address (`made`: the secret of
    the address just made, shown this once)."""
    user = session_of(request).user
    return page(request, "account.html", notice=notice, enrol=None, error=error,
                feed=feed_state(request, user, made=made), fresh=reauth_fresh(request),
                status_code=status_code)


# -- account: the agenda address ---------------------------------------------------------------


@dataclass(frozen=True)
class FeedState:
    """What the account page says of her agenda address."""

    offered: bool
    since: datetime | None
    address: str | None = None
    """The full address, right after it was made: shown this once, never again."""


def feed_state(request: Request[Any, Any, Any], user: User, *,
               made: str | None = None) -> FeedState:
    if user.role not in FEED_ROLES["web_roles"]:
        return FeedState(offered=False, since=None)
    since = CalendarFeeds(web(request).services.application.db).live_since(user.user_id)
    address = None
    if made is not None:
        base = str(request.base_url).rstrip("/")
        address = f"{base}{PREFIX}{CALENDAR}/{made}{CALENDAR_SUFFIX}"
    return FeedState(offered=True, since=since, address=address)


@post("/account/calendar", opt=FEED_ROLES, sync_to_thread=True, status_code=200)
def calendar_make(request: Request[Any, Any, Any]) -> Template:
    """A new agenda address (the old one, if any, stops working), after she confirms who
    she is: whoever holds the address reads her due dates without signing in."""
    t = translator(request)
    if not reauthenticate(request, form_of(request)):
        return _account_page(request, error=t("Wrong password or code."), status_code=401)
    w = web(request)
    user = session_of(request).user
    secret = CalendarFeeds(w.services.application.db).create(
        user.user_id, w.services.application.clock()
    )
    log.info("calendar_feed_made", user_id=user.user_id)
    return _account_page(request, made=secret, notice=t("Your agenda address is made."))


@post("/account/calendar/revoke", opt=FEED_ROLES, sync_to_thread=True, status_code=200)
def calendar_revoke(request: Request[Any, Any, Any]) -> Template:
    """Stop her agenda address at once (no confirmation needed: it only takes away)."""
    w = web(request)
    user = session_of(request).user
    CalendarFeeds(w.services.application.db).revoke(user.user_id, w.services.application.clock())
    log.info("calendar_feed_revoked", user_id=user.user_id)
    t = translator(request)
    return _account_page(request, notice=t("Your agenda address no longer works."))


def _enrolment(request: Request[Any, Any, Any], session: WebSession, secret: str) -> Any:
    t = translator(request)
    uri = provisioning_uri(secret, session.user.name)
    return {"qr": _qr(uri, t("QR code for the authenticator app")), "secret": secret}


@get("/account/totp", opt=ANY_ROLE, sync_to_thread=True)
def totp_form(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    session = session_of(request)
    secret = new_totp_secret()
    w.sessions.set_pending_secret(
        session.id_hash, w.credentials.wrap_secret(session.user.user_id, secret)
    )
    return page(request, "account.html", notice=None, error=None,
                enrol=_enrolment(request, session, secret))


@post("/account/totp", opt=ANY_ROLE, sync_to_thread=True)
def totp_confirm(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    t = translator(request)
    session = session_of(request)
    form = form_of(request)
    user = session.user
    if session.pending_secret is None:
        raise WebError(400, CSRF_REFUSED)
    secret = w.credentials.unwrap_secret(user.user_id, session.pending_secret)
    if guessing_blocked(request, user.name):
        return page(request, "account.html", notice=None, error=t(TOO_MANY),
                    enrol=_enrolment(request, session, secret), status_code=429)
    now = w.services.application.clock()
    found = w.credentials.check_password(user.name, first(form, "password"))
    step = matching_step(secret, first(form, "code"), now)
    # The current app's code last: checking it uses it up.
    if (found is None or step is None
            or not w.credentials.verify_totp(user.user_id, first(form, "current_code"), now)):
        guess_failed(request, user.name)
        return page(request, "account.html", notice=None, error=t("Wrong password or code."),
                    enrol=_enrolment(request, session, secret), status_code=401)
    w.credentials.save_totp(user.user_id, secret, step=step, keeping=session.id_hash)
    w.sessions.set_pending_secret(session.id_hash, None)
    log_login(request, user, "ok")
    return page(request, "account.html", notice=t("The new authenticator app is linked."),
                error=None, enrol=None)


# -- account: her sessions -------------------------------------------------------------------


def _sessions_page(request: Request[Any, Any, Any], notice: str | None = None) -> Template:
    w = web(request)
    session = session_of(request)
    now = w.services.application.clock()
    return page(request, "sessions.html", notice=notice, current=session.id_hash,
                sessions=w.sessions.of_user(session.user.user_id, now))


@get("/account/sessions", opt=ANY_ROLE, sync_to_thread=True)
def sessions_list(request: Request[Any, Any, Any]) -> Template:
    """Where she is signed in: each session with when it began and was last used; any
    but this one can be ended here (this one ends by signing out)."""
    return _sessions_page(request)


@post("/account/sessions", opt=ANY_ROLE, sync_to_thread=True, status_code=200)
def session_end(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    session = session_of(request)
    chosen = first(form_of(request), "session")
    if chosen == session.id_hash or not w.sessions.end_of_user(session.user.user_id, chosen):
        raise WebError(404, NOT_FOUND)
    t = translator(request)
    return _sessions_page(request, notice=t("The session was ended."))


@get("/{rest:path}", opt=PUBLIC, sync_to_thread=True)
def unknown_page(request: Request[Any, Any, Any], rest: Annotated[str, Parameter()]) -> None:
    """Any other path under /app: a page that says so (not the API's problem+json)."""
    raise WebError(404, NOT_FOUND)


def auth_routes() -> list[Any]:
    return [
        home, login_form, login, code_form, code, logout, account, totp_form, totp_confirm,
        sessions_list, session_end, calendar_make, calendar_revoke, unknown_page,
    ]
