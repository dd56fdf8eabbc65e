"""What every web page shares: the web's own objects, the guard (session, both factors,
role, CSRF), the error pages, the page context, and access logging.

The guard is the one gate: no care page answers without a full session (password and
TOTP), and no state-changing request passes without the session's CSRF token (or, before
sign-in, the double-submit token of the sign-in form). It runs before the handler, so a
refused form records nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote, urlencode
from uuid import UUID

import anyio.to_thread
import structlog
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, UploadFile
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter
from litestar.response import Redirect, Template

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.api.context import Services, access_entry
from trajectory.api.errors import ApiError, where_raised
from trajectory.clock import AMSTERDAM, amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.emergency import EmergencyAccesses
from trajectory.identity.credentials import Credentials
from trajectory.projections.out_of_view import out_of_view_counts
from trajectory.research.kept import export_root
from trajectory.web.due import week_count
from trajectory.web.emergency_words import reason_word
from trajectory.web.i18n import LANG_COOKIE, LANGS, N_, Translator, choose_language
from trajectory.web.origin import from_our_own_pages
from trajectory.web.sessions import SESSION_COOKIE, SessionStore, WebSession

log = structlog.get_logger("trajectory.web")

PREFIX = "/app"
PRE_COOKIE = "trj_presign"
"""Before sign-in there is no session: the sign-in form carries a double-submit token."""
CSRF_FIELD = "csrf_token"

Access = Literal["public", "half", "full"]


@dataclass(frozen=True)
class Web:
    """The web pages' own objects, built once with the app."""

    services: Services
    sessions: SessionStore
    credentials: Credentials
    secure_cookies: Literal["auto", "always", "never"]
    export_dir: Path


def build_web(services: Services) -> Web:
    app = services.application
    settings = app.settings
    export_dir = export_root(settings)
    return Web(
        services=services,
        sessions=SessionStore(
            app.db,
            services.users,
            idle=timedelta(minutes=settings.web_idle_minutes),
            absolute=timedelta(hours=settings.web_absolute_hours),
        ),
        credentials=Credentials(app.db, app.keys),
        secure_cookies=settings.web_secure_cookies,
        export_dir=export_dir,
    )


def web(request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any]) -> Web:
    value = request.app.state["web"]
    assert isinstance(value, Web)
    return value


# -- errors --------------------------------------------------------------------------------


class SignInRequired(Exception):
    """No (full) session: the browser goes to the sign-in page."""


class WebError(Exception):
    """A page that answers with an error status and a sentence from the catalogue: `key`
    is its English msgid (marked with `N_`), translated when the page is drawn."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status = status
        self.key = key


FORBIDDEN = N_("You may not open this page.")
NOT_FOUND = N_("Not found.")
GONE = N_("This file was destroyed.")
FAILED = N_("Something went wrong; nothing was recorded. Please try again later.")
CSRF_REFUSED = N_("This form expired or did not come from this page. Nothing was recorded."
                  " Open the page again and retry.")


def csrf_refused() -> WebError:
    return WebError(403, CSRF_REFUSED)


def not_found() -> WebError:
    return WebError(404, NOT_FOUND)


def translator(request: Request[Any, Any, Any] | ASGIConnection[Any, Any, Any, Any]) -> Translator:
    lang = choose_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )
    return Translator(lang)


def handle_web_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every failure of a web page, as a page (the API's problem+json is for programs)."""
    if isinstance(exc, SignInRequired):
        # The path only: a query string may carry what must not travel in an address.
        target = request.url.path
        response: Response[Any] = Redirect(
            f"{PREFIX}/login?{urlencode({'next': target})}", status_code=303
        )
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response
    status, key = 500, FAILED
    if isinstance(exc, WebError):
        status, key = exc.status, exc.key
    elif isinstance(exc, ApiError) and exc.status in (404, 410):
        status, key = exc.status, NOT_FOUND if exc.status == 404 else GONE
    elif isinstance(exc, TrajectoryNotFound):
        status, key = 404, NOT_FOUND
    elif isinstance(exc, TrajectoryErased):
        status, key = 410, GONE
    elif isinstance(exc, ValidationException):
        status, key = 400, NOT_FOUND
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        status = exc.status_code
        key = FORBIDDEN if status in (401, 403) else NOT_FOUND
    else:
        log.error("web_unhandled_error", error_type=type(exc).__name__, at=where_raised(exc))
    if status in (403, 404, 410) and "trajectory_id" in (request.path_params or {}):
        _log_denied(request, status)
    t = translator(request)
    session = request.scope.get("state", {}).get("web_session")
    return Template(
        "error.html",
        context=base_context(request, t, session if isinstance(session, WebSession) else None)
        | {"status": status, "message": t(key)},
        status_code=status,
    )


def _log_denied(request: Request[Any, Any, Any], status: int) -> None:
    try:
        entry = access_entry(
            request,
            action="read" if request.method in ("GET", "HEAD") else "write",
            trajectory_id=str(request.path_params.get("trajectory_id"))[:64],
            outcome="denied" if status != 403 else "rejected",
        )
        web(request).services.access.append(entry)
    except Exception as e:  # the failure is answered already; do not mask it
        log.error("access_log_write_failed", error_type=type(e).__name__)


PathText = Annotated[str, Parameter(max_length=200)]
"""A path parameter of the pages: an id or a slug, never longer than this."""


# -- the guard -----------------------------------------------------------------------------


MAX_FORM_FIELDS = 500
"""Far more than any form of ours has; a body with more is refused before it is read."""
TOO_MANY_FIELDS = N_("This form sent more fields than any form of ours has. Nothing was"
                     " recorded.")


def parse_form(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:  # over MAX_FORM_FIELDS: bad input, not a failure of ours
        raise WebError(400, TOO_MANY_FIELDS) from None


async def parse_multipart(
    request: Request[Any, Any, Any],
) -> tuple[dict[str, list[str]], dict[str, bytes]]:
    """A form that uploads a file (the exchange page): its fields, and each file's bytes
    by the field's name. The body limit of every request holds here too."""
    data = await request.form()
    form: dict[str, list[str]] = {}
    files: dict[str, bytes] = {}
    for key, value in data.multi_items():
        if isinstance(value, UploadFile):
            files[key] = await value.read()
            await value.close()
        else:
            form.setdefault(key, []).append(str(value))
        if len(form) + len(files) > MAX_FORM_FIELDS:
            raise WebError(400, TOO_MANY_FIELDS)
    return form, files


def files_of(request: Request[Any, Any, Any]) -> dict[str, bytes]:
    """The files a posted form uploaded, by field name (none: empty)."""
    files = request.scope.get("state", {}).get("web_files")
    return files if isinstance(files, dict) else {}


async def web_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Session, both factors, role, and (for every state-changing request) CSRF."""
    w = web(connection)
    access: Access = handler.opt.get("web_access", "full")
    state = connection.scope.setdefault("state", {})
    form: dict[str, list[str]] = {}
    # Every state-changing request carries the token, also one with an empty body (an
    # empty form once skipped the check), and must not come from another site.
    posted = connection.scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS")
    if posted:
        if not from_our_own_pages(connection):
            raise csrf_refused()
        request: Request[Any, Any, Any] = Request(connection.scope, connection.receive)
        if request.content_type[0] == "multipart/form-data":  # a form with a file
            form, state["web_files"] = await parse_multipart(request)
        else:
            form = parse_form(await request.body())
        state["web_form"] = form
    token = (form.get(CSRF_FIELD) or [""])[0] or None
    if access == "public":
        if posted and not _double_submit_ok(connection, token):
            raise csrf_refused()
        return
    now = w.services.application.clock()
    session = await anyio.to_thread.run_sync(
        w.sessions.load, connection.cookies.get(SESSION_COOKIE), now
    )
    wanted = "password" if access == "half" else "full"
    if session is None or session.stage != wanted:
        if posted and session is not None and not session.csrf_ok(token):
            raise csrf_refused()
        raise SignInRequired()
    state["web_session"] = session
    state["user"] = session.user  # the access log reads the actor from here
    if posted and not session.csrf_ok(token):
        raise csrf_refused()
    roles: tuple[str, ...] = handler.opt.get("web_roles", ())
    if access == "full" and roles and session.user.role not in roles:
        raise WebError(403, FORBIDDEN)


def _double_submit_ok(
    connection: ASGIConnection[Any, Any, Any, Any], token: str | None
) -> bool:
    cookie = connection.cookies.get(PRE_COOKIE)
    return bool(cookie and token and secrets.compare_digest(cookie, token))


def session_of(request: Request[Any, Any, Any]) -> WebSession:
    session = request.scope.get("state", {}).get("web_session")
    if not isinstance(session, WebSession):
        raise SignInRequired()
    return session


def form_of(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    form = request.scope.get("state", {}).get("web_form")
    return form if isinstance(form, dict) else {}


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


# -- pages -----------------------------------------------------------------------------------


OUT_OF_VIEW = "/out-of-view"
ORGANISATION_NAV = [
    (N_("Dashboard"), "/dashboard"),
    (N_("Runaway register"), "/register/runaways"),
    (N_("Signals"), "/register/signals"),
]
"""The organisation's pages (`web.register_pages`): its coordinators and quality officer."""
WEEK = "/week"
FEED_ROLES = {"web_access": "full", "web_roles": ("coordinator", "aftercare")}
"""Who has a week of due items (`web.week_pages`), and so an agenda address of it."""
CALENDAR = "/calendar"
CALENDAR_SUFFIX = ".ics"
"""Her agenda address: `{PREFIX}{CALENDAR}/<secret>{CALENDAR_SUFFIX}` (`web.calendar_feed`)."""
NAV: dict[str, list[tuple[str, str]]] = {
    "coordinator": [
        (N_("Caseload"), "/caseload"),
        (N_("This week"), WEEK),
        (N_("Out of view"), OUT_OF_VIEW),
        (N_("New intake"), "/trajectories/new"),
        (N_("Quality"), "/quality"),
        *ORGANISATION_NAV,
    ],
    "aftercare": [(N_("Handovers"), "/handovers"), (N_("This week"), WEEK),
                  (N_("Out of view"), OUT_OF_VIEW)],
    "researcher": [(N_("Research"), "/research"),
                   (N_("Research projects"), "/research/projects")],
    "admin": [
        (N_("Admin"), "/admin"),
        (N_("Teams"), "/admin/teams"),
        (N_("Research projects"), "/research/projects"),
        (N_("Organisation duties"), "/organisation"),
        (N_("Try a protocol"), "/protocols/replay"),
        (N_("Access settings"), "/privacy/settings"),
        (N_("CBS delivery"), "/reports/bij"),
    ],
    "quality": [
        (N_("Organisation duties"), "/organisation"),
        (N_("Quality"), "/quality"),
        *ORGANISATION_NAV,
        (N_("Try a protocol"), "/protocols/replay"),
        (N_("Outcomes"), "/quality/outcomes"),
        (N_("CBS delivery"), "/reports/bij"),
    ],
    "inspector": [(N_("Inspection"), "/inspection")],
    "privacy": [
        (N_("Emergency accesses"), "/privacy/emergency-accesses"),
        (N_("Access report"), "/privacy/access-report"),
        (N_("Access signals"), "/privacy/anomalies"),
        (N_("Access log"), "/admin/log"),
        (N_("Access settings"), "/privacy/settings"),
    ],
}
"""Each role's menu: the entry's English msgid (translated in the page) and its path."""


def nav_counts(request: Request[Any, Any, Any], session: WebSession | None) -> dict[str, int]:
    """The counts beside the menu's entries: how many girls are out of view today, and
    how many of her items are overdue or due this week, for whoever has that list. Never
    a reason for a page to fail: without the count (the store unreachable, as on some
    error pages) the menu is drawn without it."""
    if session is None or session.stage != "full":
        return {}
    user = session.user
    entries = {href for _, href in NAV.get(user.role, [])}
    counts: dict[str, int] = {}
    try:
        app = web(request).services.application
        today = amsterdam_date(app.clock())
        if OUT_OF_VIEW in entries:
            worker = user.user_id if user.role == "aftercare" else None
            counts[OUT_OF_VIEW] = out_of_view_counts(
                app.db, user.organisation, today, worker=worker, seen_by=user
            ).girls
        if WEEK in entries:
            counts[WEEK] = week_count(app.db, user, today)
    except Exception as e:
        log.warning("nav_count_failed", error_type=type(e).__name__)
    return counts


def until(t: Translator, moment: datetime, now: datetime) -> str:
    """When an emergency access ends, on the care home's clock: the time alone on the same
    day ("22:15"), else the day too."""
    if moment.astimezone(AMSTERDAM).date() == now.astimezone(AMSTERDAM).date():
        return moment.astimezone(AMSTERDAM).strftime("%H:%M")
    return t.moment(moment, seconds=False)


def emergency_banner(
    request: Request[Any, Any, Any], t: Translator, session: WebSession | None
) -> dict[str, Any] | None:
    """On every page of a girl's file that a coordinator has open by emergency access:
    until when, why, whether she may record, and where to end it. Never a reason for a
    page to fail (an error page drawn while the store is away goes without it)."""
    if session is None or session.stage != "full" or session.user.role != "coordinator":
        return None
    raw = (request.path_params or {}).get("trajectory_id")
    try:
        tid = UUID(str(raw)) if raw else None
    except ValueError:
        return None
    if tid is None:
        return None
    try:
        app = web(request).services.application
        now = app.clock()
        access = EmergencyAccesses(app.db).in_force(session.user.user_id, str(tid), now)
    except Exception as e:
        log.warning("emergency_banner_failed", error_type=type(e).__name__)
        return None
    if access is None:
        return None
    return {"tid": str(tid), "until": until(t, access.ends_at, now),
            "reason": reason_word(t, access.reason), "may_write": access.may_write}


def base_context(
    request: Request[Any, Any, Any], t: Translator, session: WebSession | None
) -> dict[str, Any]:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    lang_links = [
        (lang, request.url.path + "?" + urlencode({**query, "lang": lang})) for lang in LANGS
    ]
    return {
        "t": t,
        "lang": t.lang,
        "prefix": PREFIX,
        "session": session,
        "user": session.user if session is not None and session.stage == "full" else None,
        "csrf": session.csrf_token if session is not None else "",
        "nav": NAV.get(session.user.role, []) if session and session.stage == "full" else [],
        "nav_counts": nav_counts(request, session),
        "emergency": emergency_banner(request, t, session),
        "path": request.url.path,
        "lang_links": lang_links,
    }


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """A page with the shared context; a `?lang=` choice is remembered in a cookie."""
    t = translator(request)
    session = request.scope.get("state", {}).get("web_session")
    ctx = base_context(request, t, session if isinstance(session, WebSession) else None)
    ctx.update(context)
    jar = list(cookies or [])
    if request.query_params.get("lang") in LANGS:
        jar.append(lang_cookie(request, t.lang))
    return Template(template, context=ctx, status_code=status_code, cookies=jar)


def secure(request: Request[Any, Any, Any]) -> bool:
    mode = web(request).secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def session_cookie(request: Request[Any, Any, Any], session_id: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=session_id,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )


def lang_cookie(request: Request[Any, Any, Any], lang: str) -> Cookie:
    return Cookie(
        key=LANG_COOKIE,
        value=lang,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        max_age=365 * 24 * 3600,
    )


def redirect(path: str, **query: str) -> Redirect:
    """A 303 to one of our own pages (never to another site)."""
    target = PREFIX + path
    if query:
        target += "?" + urlencode(query)
    return Redirect(target, status_code=303)


_NEXT = re.compile(r"^/app/[A-Za-z0-9/_.~%=&?+-]{0,500}$")


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: only a path of our own pages (no other site, no
    characters that could end a header)."""
    if value and _NEXT.match(value) and "//" not in value:
        return value
    return PREFIX + "/"


def quote_path(value: str) -> str:
    return quote(value, safe="")


# -- access log ------------------------------------------------------------------------------


def log_access(
    request: Request[Any, Any, Any],
    action: str,
    trajectory_id: str | None,
    outcome: str = "ok",
    shown: tuple[str, ...] = (),
) -> None:
    """One entry, in its own transaction, before the answer leaves (fail closed)."""
    entry = access_entry(request, action=action, trajectory_id=trajectory_id, outcome=outcome)
    web(request).services.access.append(replace(entry, shown=shown))
