"""The CBS delivery page (`/app/reports/bij`) for the organisation's admin and quality
officer: choose a half year, see how many records the delivery holds and which files were
left out and why, and download the file (`/app/reports/bij.csv`).

The page names files by their short id and problems in words, never a citizen service
number or a name; the file itself holds the numbers, as the protocol asks. Each showing
and each download is access-logged, naming every file read (`bij.report`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from trajectory.bij.care import care_records
from trajectory.bij.codes import PROTOCOL, VERIFIED
from trajectory.bij.report import Delivery, Period, PeriodRefused, delivery
from trajectory.clock import amsterdam_date
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
    made = delivery(care_records(app, user.organisation), period, correction=correction)
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
    left = [(o.trajectory_id, o.trajectory_id[:8],
             [problem_words(t, p) for p in o.problems]) for o in made.left_out] if made else []
    return page(request, "bij_report.html", period=period, periods=periods, made=made,
                refused=refused, correction=correction, left=left, protocol=PROTOCOL,
                verified=VERIFIED, ended=period.last < today)


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
