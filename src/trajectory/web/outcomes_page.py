"""The outcome indicators page (`/app/quality/outcomes`) and its CSV
(`/app/quality/outcomes.csv`): dropout, satisfaction, can go on without help, no new start
within six months and goals attained, over the care that ended in the months chosen
(`trajectory.bij.indicators`), for the organisation, per form of care and per municipality.

Counts only, small cells suppressed (shown as a dash): the page names no girl. Reading
the files to count is access-logged as a search.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from litestar import Request, Response, get

from trajectory.bij.indicators import (
    INDICATORS,
    OutcomesOut,
    csv_of,
    month_range,
    organisation_outcomes,
)
from trajectory.bij.municipalities import Municipalities
from trajectory.clock import amsterdam_date
from trajectory.web.charts import bar_chart
from trajectory.web.core import log_access, page, session_of, translator, web
from trajectory.web.i18n import N_, Translator

VIEWERS = {"web_access": "full", "web_roles": ("coordinator", "admin", "quality")}

TITLES: dict[str, str] = {
    "dropout": N_("Dropout"),
    "satisfied": N_("Satisfied with the care"),
    "without_help": N_("Can go on without help"),
    "no_new_start": N_("No new start within six months"),
    "goals_attained": N_("Goals attained"),
}
GROUPINGS: dict[str, str] = {
    "organisation": N_("Per organisation"),
    "care_form": N_("Per form of care"),
    "municipality": N_("Per municipality of residence"),
}


def _months(request: Request[Any, Any, Any], today: date) -> tuple[str, str, bool]:
    """The months asked for (default: the last twelve whole months), and whether they
    were understood."""
    months = today.year * 12 + today.month - 1  # this month, counted from year 0
    default_to = f"{(months - 1) // 12}-{(months - 1) % 12 + 1:02d}"
    default_from = f"{(months - 12) // 12}-{(months - 12) % 12 + 1:02d}"
    start = request.query_params.get("from") or default_from
    end = request.query_params.get("to") or default_to
    try:
        first, last = month_range(start, end)
    except ValueError:
        return default_from, default_to, False
    return start, end, first <= last


def _out(request: Request[Any, Any, Any]) -> tuple[OutcomesOut | None, str, str]:
    app = web(request).services.application
    start, end, ok = _months(request, amsterdam_date(app.clock()))
    if not ok:
        return None, start, end
    first, last = month_range(start, end)
    out = organisation_outcomes(app, session_of(request).user.organisation, first, last)
    log_access(request, "search", None)
    return out, start, end


def group_name(t: Translator, by: str, value: str, towns: Mapping[str, str]) -> str:
    if by == "municipality":
        return towns.get(value, t("unknown"))
    if by == "care_form":
        return t.value(value)
    return value


@get("/quality/outcomes", opt=VIEWERS, sync_to_thread=True)
def outcomes_page(request: Request[Any, Any, Any]) -> Any:
    t = translator(request)
    out, start, end = _out(request)
    chart = None
    tables: list[tuple[str, list[tuple[str, list[str]]]]] = []
    whole = None
    if out is not None:
        whole = next(g for g in out.groups if g.by == "all")
        shown = [i for i in whole.indicators if i.percent is not None]
        chart = bar_chart(
            "chart-outcomes", t("Outcome indicators"),
            t("The share of ended care per indicator, in percent; suppressed cells left out."),
            [t(TITLES[i.indicator]) for i in shown], [round(i.percent or 0) for i in shown])
        towns = Municipalities(web(request).services.application.db).all()
        for by, heading in GROUPINGS.items():
            rows = []
            for g in out.groups:
                if g.by != by:
                    continue
                cells = ["-" if i.percent is None else f"{t.number(i.percent)} %"
                         for i in g.indicators]
                ended = "-" if g.ended is None else str(g.ended)
                rows.append((group_name(t, by, g.value, towns), [ended, *cells]))
            tables.append((t(heading), rows))
    return page(request, "outcomes.html", out=out, whole=whole, start=start, end=end,
                chart=chart, tables=tables,
                titles=[t(TITLES[name]) for name in INDICATORS])


@get("/quality/outcomes.csv", opt=VIEWERS, sync_to_thread=True)
def outcomes_csv(request: Request[Any, Any, Any]) -> Response[bytes]:
    out, start, end = _out(request)
    if out is None:
        from trajectory.api.errors import not_found

        raise not_found()
    return Response(csv_of(out).encode(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="uitkomsten-{start}-{end}.csv"',
        "Cache-Control": "no-store"})


def outcomes_routes() -> list[Any]:
    return [outcomes_page, outcomes_csv]
