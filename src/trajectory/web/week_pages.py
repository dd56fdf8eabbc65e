"""This week (`/app/week`): every due and overdue item of her girls, for a coordinator and
for an aftercare worker, grouped by day: what is overdue first, as its own group, then
each of the seven days from today (a later week one link on, `?week=N`). Each item links
to the form that records it and to the girl.

What is due comes from the caseload's rows (`projections.caseload.due_items`, made by
`protocol.attention`): the week, the caseload and the agenda feed can never disagree.
A coordinator sees the girls she coordinates, or on request all the girls of her
organisation she has a relationship with (`visibility.related_filter`, applied by
`due_items`: her teams', those she is responsible for, those without a team); an
aftercare worker the girls handed over to her, and only the items she records herself
(the rest is the coordinator's work). The page shows names (read from each girl's
encrypted opening event, never put in an address) and is access-logged naming every girl
it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from litestar import Request, get
from litestar.response import Template

from trajectory.clock import amsterdam_date
from trajectory.projections.caseload import DueItemOut
from trajectory.web.core import FEED_ROLES, log_access, page, session_of, translator, web
from trajectory.web.due import form_of, girl_href, handed_over, items_of
from trajectory.web.girls import listed_girl
from trajectory.web.i18n import DAY_PATTERN, Translator

WEEK_ROLES = FEED_ROLES
MAX_WEEKS_AHEAD = 104
"""Two years on: the last follow-up measurement falls within it."""
WHOLE_ORGANISATION = "organisation"


def weekday(t: Translator, day: date) -> str:
    """A day with its weekday, as a heading reads: "vrijdag 6-3-2026" / "Friday 6 Mar 2026"."""
    return format_date(day, f"EEEE {DAY_PATTERN[t.lang]}", locale=t.locale)


@dataclass
class Day:
    """One group of the page: the overdue items, or one day's."""

    heading: str
    items: list[DueItemOut] = field(default_factory=list)
    overdue: bool = False


def week_href(week: int, wide: bool) -> str:
    """The address of a week: this week's is the plain page."""
    query = {"week": str(week)} if week else {}
    if wide:
        query["scope"] = WHOLE_ORGANISATION
    return "/week" + ("?" + urlencode(query) if query else "")


def _week_number(raw: str | None) -> int:
    return min(int(raw), MAX_WEEKS_AHEAD) if raw and raw.isdigit() else 0


@get("/week", opt=WEEK_ROLES, sync_to_thread=True)
def week_page(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    app = w.services.application
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    t = translator(request)
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    week = _week_number(request.query_params.get("week"))
    wide = user.role == "coordinator" and request.query_params.get("scope") == WHOLE_ORGANISATION
    start = today + timedelta(days=7 * week)
    end = start + timedelta(days=6)
    hers = handed_over(app.db, user, today) if user.role == "aftercare" else {}
    items = items_of(app.db, user, today, until=end, organisation_wide=wide, hers=hers)
    days: list[Day] = []
    if week == 0:
        days.append(Day(t("Overdue"), [i for i in items if i.overdue], overdue=True))
    for n in range(7):
        day = start + timedelta(days=n)
        days.append(Day(weekday(t, day), [i for i in items if i.due_on == day]))
    shown = sorted({i.trajectory_id for d in days for i in d.items}, key=str)
    girls = {tid: listed_girl(app, user, tid, hers.get(tid), today) for tid in shown}
    # One entry naming every girl the page shows (NEN 7513), before the page leaves.
    log_access(request, "search", None, shown=tuple(str(tid) for tid in shown))
    return page(
        request,
        "week.html",
        days=days,
        girls=girls,
        week=week,
        start=start,
        end=end,
        wide=wide,
        week_href=week_href,
        max_weeks=MAX_WEEKS_AHEAD,
        form_of=lambda code: form_of(user, code),
        girl_href=lambda tid: girl_href(user, tid),
        today=today,
    )


def week_routes() -> list[Any]:
    return [week_page]
