"""The privacy officer's pages (issue 18): the access report of one girl, for her request
to see who looked at her file (GDPR art. 15, the Youth Act), printable; and the anomaly
signals, the users whose use of the files is unusual (counts only).

The officer never sees a record nor a girl's name (`visibility.NO_RECORDS`): she finds a
girl by the name she is given, as the admin's access log does, and the report names the
file by its short id. Making a report is access-logged under the girl's file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get
from litestar.response import Template

from trajectory.access_anomalies import a_day_of_the_log, counts, period_of
from trajectory.access_report import ReportEntry, access_report
from trajectory.access_report_pdf import access_report_pdf
from trajectory.clock import amsterdam_date
from trajectory.emergency import EmergencyAccesses
from trajectory.visibility import holding_organisation
from trajectory.web.admin_pages import _girls_matching
from trajectory.web.core import (
    PathText,
    WebError,
    log_access,
    not_found,
    page,
    session_of,
    translator,
    web,
)
from trajectory.web.girls import name_of
from trajectory.web.i18n import N_

PRIVACY = {"web_access": "full", "web_roles": ("privacy", "admin")}
"""The organisation's privacy officer, and its admin (who reads the same log)."""



def _day(value: str, errors: dict[str, str], key: str, message: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors[key] = message
        return None
    if not a_day_of_the_log(day):
        errors[key] = message
        return None
    return day


@get("/privacy/access-report", opt=PRIVACY, sync_to_thread=True)
def report_search(request: Request[Any, Any, Any]) -> Template:
    """Find the girl whose report is asked for, by her name or the short id of her file;
    the search is logged, naming the files it matched."""
    q = {k: (request.query_params.get(k) or "")[:200] for k in ("name", "trajectory")}
    found = None
    if q["name"].strip() or q["trajectory"].strip():
        found = _girls_matching(request, q["name"], q["trajectory"])
        log_access(request, "audit-read", None, shown=tuple(found))
    return page(request, "privacy_report_search.html", q=q, found=found,
                girl=lambda tid: _girl(request, str(tid)))


def _of_organisation(request: Request[Any, Any, Any], trajectory_id: str) -> bool:
    """Her file is one of the officer's organisation (erased or not)."""
    db = web(request).services.application.db
    return holding_organisation(db, trajectory_id) == session_of(request).user.organisation


def _girl(request: Request[Any, Any, Any], trajectory_id: str) -> str:
    """How the report names her file: by her name (the report is made for her, at her
    request), or as an erased file, whose name is gone."""
    try:
        name = name_of(web(request).services.application, UUID(trajectory_id))
    except ValueError:
        name = None
    t = translator(request)
    return name or t("an erased file")


@dataclass(frozen=True)
class _Report:
    trajectory_id: str
    q: dict[str, str]
    errors: dict[str, str]
    since: date | None
    until: date | None
    entries: list[ReportEntry]


def _report(request: Request[Any, Any, Any], trajectory_id: str) -> _Report:
    """Her report for the period asked for, its making logged; 404 for a file not of the
    officer's organisation (logged as refused by the pages' error handler)."""
    w = web(request)
    t = translator(request)
    tid = trajectory_id.strip().lower()
    if len(tid) > 64 or not _of_organisation(request, tid):
        raise not_found()
    q = {k: (request.query_params.get(k) or "")[:10] for k in ("since", "until")}
    errors: dict[str, str] = {}
    since = _day(q["since"], errors, "since", t("Fill in a date as dd-mm-yyyy."))
    until = _day(q["until"], errors, "until", t("Fill in a date as dd-mm-yyyy."))
    if since and until and since > until:
        errors["until"] = t("The end of the period lies before its start.")
    entries = [] if errors else access_report(
        w.services.access, tid, since=period_of(since, since)[0] if since else None,
        until=period_of(until, until)[1] if until else None)
    log_access(request, "access-report", tid)
    return _Report(tid, q, errors, since, until, entries)


@get("/privacy/access-report/{trajectory_id:str}", opt=PRIVACY, sync_to_thread=True)
def report_page(request: Request[Any, Any, Any], trajectory_id: PathText) -> Template:
    """Every access to her file in the period (all of it by default): when, who in which
    role, what, and on which basis. Printed from the browser (the print stylesheet leaves
    the menu and the form off) or as a PDF; each making is logged."""
    from trajectory.identity.users import names_of

    w = web(request)
    r = _report(request, trajectory_id)
    query = urlencode({k: v for k, v in r.q.items() if v})
    return page(request, "privacy_report.html", status_code=422 if r.errors else 200,
                q=r.q, errors=r.errors, entries=r.entries, who=names_of(w.services.users),
                girl=_girl(request, r.trajectory_id), trajectory_id=r.trajectory_id,
                since=r.since,
                until=r.until, made_on=w.services.application.clock(),
                made_by=session_of(request).user, pdf_query=query)


@get("/privacy/access-report/{trajectory_id:str}/pdf", opt=PRIVACY, sync_to_thread=True)
def report_pdf(request: Request[Any, Any, Any], trajectory_id: PathText) -> Response[bytes]:
    """The same report as a PDF, to hand to her."""
    from trajectory.identity.users import names_of

    w = web(request)
    t = translator(request)
    r = _report(request, trajectory_id)
    if r.errors:
        raise WebError(422, N_("The period is not valid."))
    if r.since and r.until:
        period = t.span(r.since, r.until)
    elif r.since:
        period = t.span(r.since, None)
    elif r.until:
        period = t("up to and including %(day)s", day=t.date(r.until))
    else:
        period = t("Since the file was opened")
    user = session_of(request).user
    pdf = access_report_pdf(r.entries, t, girl=_girl(request, r.trajectory_id), period=period,
                            made_at=w.services.application.clock(),
                            made_by=user.shown_name, name_of=names_of(w.services.users))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="inzage-{r.trajectory_id[:8]}.pdf"'})


@get("/privacy/anomalies", opt=PRIVACY, sync_to_thread=True)
def anomalies_page(request: Request[Any, Any, Any]) -> Template:
    """The users of the organisation with a count that reached its threshold in the period
    (the last 30 days by default), and the counts of everyone else who has one."""
    from trajectory.identity.users import names_of

    w = web(request)
    t = translator(request)
    app = w.services.application
    organisation = session_of(request).user.organisation
    q = {k: (request.query_params.get(k) or "")[:10] for k in ("from", "to")}
    errors: dict[str, str] = {}
    today = amsterdam_date(app.clock())
    last = _day(q["to"], errors, "to", t("Fill in a date as dd-mm-yyyy.")) or today
    first = _day(q["from"], errors, "from", t("Fill in a date as dd-mm-yyyy.")) or (
        last - timedelta(days=29))
    if first > last or (last - first).days > 365:
        errors["to"] = t("A period runs from a day to a later one, a year at most.")
    settings = EmergencyAccesses(app.db).settings(organisation)
    found = [] if errors else counts(app.db, organisation, *period_of(first, last), settings)
    log_access(request, "audit-read", None)
    roles = {u.user_id: u.role for u in w.services.users.all()}
    return page(request, "privacy_anomalies.html", status_code=422 if errors else 200,
                q={"from": q["from"] or first.isoformat(), "to": q["to"] or last.isoformat()},
                errors=errors, listed=[c for c in found if c.signals],
                below=[c for c in found if not c.signals], settings=settings,
                who=names_of(w.services.users), roles=roles, first=first, last=last)


def privacy_routes() -> list[Any]:
    return [report_search, report_page, report_pdf, anomalies_page]
