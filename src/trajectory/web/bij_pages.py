"""The CBS delivery page (`/app/reports/bij`) for the organisation's admin and quality
officer: choose a half year, see how many records the delivery holds and which files were
left out and why, and download the file (`/app/reports/bij.csv`).

The page names a file left out by what her coordinators know it by (her responsible
coordinator, her team, the day her care began) and its problems in words, never a
citizen service number, her name or a code; the file itself holds the numbers, as the
protocol asks. Each showing and each download is access-logged, naming every file read
(`bij.report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, get

from trajectory.bij.codes import PROTOCOL, VERIFIED
from trajectory.bij.report import Delivery, Period, PeriodRefused, delivery_from
from trajectory.clock import amsterdam_date
from trajectory.identity.teams import Teams
from trajectory.identity.users import names_of
from trajectory.web.core import log_access, page, session_of, translator, web
from trajectory.web.i18n import N_, Translator

REPORTERS = {"web_access": "full", "web_roles": ("admin", "quality")}

PROBLEMS: dict[str, str] = {
    "bsn-missing": N_("her citizen service number is missing"),
    "bsn-invalid": N_("her citizen service number is not valid"),
    "date-invalid": N_("a date is missing or not valid"),
    "birth-after-start": N_("her date of birth lies after the start of care"),
    "start-after-period": N_("care started after the period"),
    "end-before-start": N_("care ends before it started"),
    "end-outside-period": N_("the end of care lies outside the period"),
    "geslacht-missing": N_("her sex is missing"),
    "geslacht-unknown-code": N_("her sex has no code in the protocol"),
    "verwijzer-missing": N_("the referrer is missing"),
    "verwijzer-unknown-code": N_("the referrer has no code in the protocol"),
    "hulpvorm-missing": N_("the form of care is missing"),
    "hulpvorm-unknown-code": N_("the form of care has no code in the protocol"),
    "gemeentecode-missing": N_("her municipality is missing"),
    "gemeentecode-unknown-code": N_("her municipality code is not known"),
    "gestart_met_crisis-unknown-code": N_("whether care started in crisis is not known"),
    "reden_beeindiging-missing": N_("the reason of ending is missing"),
    "reden_beeindiging-unknown-code": N_("the reason of ending has no code in the protocol"),
    "outcome-missing": N_("the outcome of care is missing for ended care"),
    "outcome-unknown-code": N_("an answer of the outcome has no code in the protocol"),
    "type_informant-unknown-code": N_("who answered has no code in the protocol"),
    "ending-without-end-date": N_("an ending is recorded without an end date"),
}
"""Each problem code of `bij.report.record_problems` as words for the page."""


def problem_words(t: Translator, code: str) -> str:
    return t(PROBLEMS[code]) if code in PROBLEMS else code


def _delivery(request: Request[Any, Any, Any], period: Period, correction: bool) -> Delivery:
    app = web(request).services.application
    user = session_of(request).user
    made = delivery_from(app, period, organisation=user.organisation, correction=correction)
    # One entry naming every file read (NEN 7513), before anything leaves.
    log_access(request, "report-bij", None, shown=made.read())
    return made


def _period(request: Request[Any, Any, Any]) -> tuple[Period, str | None]:
    today = amsterdam_date(web(request).services.application.clock())
    text = request.query_params.get("period")
    if not text:
        return Period.last_ended(today), None
    try:
        return Period.parse(text), None
    except PeriodRefused:
        return Period.last_ended(today), text


@get("/reports/bij", opt=REPORTERS, sync_to_thread=True)
def bij_page(request: Request[Any, Any, Any]) -> Any:
    t = translator(request)
    period, refused = _period(request)
    correction = request.query_params.get("correction") == "1"
    made = _delivery(request, period, correction) if refused is None else None
    today = amsterdam_date(web(request).services.application.clock())
    periods = [Period(y, h) for y in range(today.year, today.year - 3, -1) for h in (2, 1)
               if Period(y, h).first <= today]
    left = _left_out(request, t, made) if made else []
    return page(request, "bij_report.html", period=period, periods=periods, made=made,
                refused=refused, correction=correction, left=left, protocol=PROTOCOL,
                verified=VERIFIED, ended=period.last < today)


@dataclass(frozen=True)
class LeftOutRow:
    """A file left out, as the coordinators know it without her name (which the admin and
    the quality officer do not see): her responsible coordinator, her team, the day her
    care began; and why, in words."""

    coordinator: str
    team: str
    since: str
    problems: list[str]


def _left_out(request: Request[Any, Any, Any], t: Translator, made: Delivery
              ) -> list[LeftOutRow]:
    w = web(request)
    app = w.services.application
    rows = {str(r["trajectory_id"]): r for r in app.index(session_of(request).user.organisation)}
    person = names_of(w.services.users)
    teams = Teams(app.db)
    out: list[LeftOutRow] = []
    for left in made.left_out:
        row = rows.get(left.trajectory_id)
        team = teams.get(str(row["team"])) if row is not None and row["team"] else None
        out.append(LeftOutRow(
            coordinator=person(str(row["coordinator"])) if row is not None else "",
            team=team.name if team is not None else "",
            since=t.date(date.fromisoformat(str(row["intake_date"]))) if row is not None
            else "",
            problems=[problem_words(t, p) for p in left.problems],
        ))
    return sorted(out, key=lambda r: (r.coordinator.casefold(), r.team, r.since))


@get("/reports/bij.csv", opt=REPORTERS, sync_to_thread=True)
def bij_file(request: Request[Any, Any, Any]) -> Response[bytes]:
    period, refused = _period(request)
    if refused is not None:
        from trajectory.api.errors import not_found

        raise not_found()
    correction = request.query_params.get("correction") == "1"
    made = _delivery(request, period, correction)
    user = session_of(request).user
    name = f"bij-{user.organisation}-{period}{'-correctie' if correction else ''}.csv"
    return Response(made.csv().encode(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


def bij_routes() -> list[Any]:
    return [bij_page, bij_file]
