"""The agenda feed (`/app/calendar/<secret>.ics`): her due dates as an iCalendar (RFC
5545) that an agenda app reads without signing in, and what the account page says of it.

The feed names nobody. Each item is an all-day event on its due day with the item and her
phase ("Veiligheidsanalyse (fase 2)") and a link to the page, which asks for a sign-in: no
name, no birth date, no region, no organisation. Agenda apps keep what they read and sync
it to other devices and services, so the address is all a reader has: a secret of the
user's own (`trajectory.calendar_feeds`), revocable at once. The items are the week
page's (`web.week_pages.items_of`, from the caseload's rows): one rule for what is due.

Every fetch is access-logged under the address's owner, naming the girls whose dates it
carried; an unknown or revoked address answers 404 (and is logged as denied, so that
guessing shows in the log).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vDuration
from litestar import Request, Response, get

from trajectory.calendar_feeds import CalendarFeeds
from trajectory.clock import amsterdam_date
from trajectory.identity.users import User
from trajectory.projections.caseload import DueItemOut
from trajectory.web.core import (
    CALENDAR,
    CALENDAR_SUFFIX,
    FEED_ROLES,
    PREFIX,
    PathText,
    log_access,
    not_found,
    web,
)
from trajectory.web.due import form_of, girl_href, items_of
from trajectory.web.i18n import Translator, choose_language

PUBLIC = {"web_access": "public"}


def event_uid(item: DueItemOut) -> str:
    """The same item keeps its UID from fetch to fetch (a changed due day moves the event
    rather than adding one), and the UID does not carry her id."""
    digest = hashlib.sha256(f"{item.trajectory_id}/{item.code}".encode()).hexdigest()[:32]
    return f"{digest}@trajectory"


def summary(t: Translator, item: DueItemOut) -> str:
    what = t.criterion(item.code)
    what = what[:1].upper() + what[1:]
    if item.status == "in_care":
        text = t("%(item)s (phase %(phase)s)", item=what, phase=item.phase)
    else:
        text = f"{what} ({t.value(item.status)})"
    return t("Overdue: %(item)s", item=text) if item.overdue else text


def calendar_of(
    t: Translator, user: User, items: list[DueItemOut], base: str, now: datetime
) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//trajectory//agenda//NL")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", t("Care tasks"))
    # how often an agenda app should read it again (Outlook's and Apple's names)
    cal.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(timedelta(hours=1)))
    for item in items:
        slug = form_of(user, item.code)
        path = (f"/trajectories/{item.trajectory_id}/forms/{slug}" if slug
                else girl_href(user, item.trajectory_id))
        event = Event()
        event.add("uid", event_uid(item))
        event.add("dtstamp", now)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + timedelta(days=1))
        event.add("summary", summary(t, item))
        event.add("url", base + PREFIX + path)
        event.add("description", t("Sign in to see for whom and to record it."))
        event.add("transp", "TRANSPARENT")
        event.add("class", "PRIVATE")
        cal.add_component(event)
    return bytes(cal.to_ical())


@get(CALENDAR + "/{name:str}", opt=PUBLIC, sync_to_thread=True)
def calendar_feed(request: Request[Any, Any, Any], name: PathText) -> Response[bytes]:
    w = web(request)
    app = w.services.application
    owner = CalendarFeeds(app.db).owner(name.removesuffix(CALENDAR_SUFFIX))
    user = w.services.users.by_id(owner) if owner else None
    if user is None or user.revoked or user.role not in FEED_ROLES["web_roles"]:
        log_access(request, "calendar-read", None, "denied")
        raise not_found()
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    request.scope.setdefault("state", {})["user"] = user  # the entry names her
    now = app.clock()
    items = items_of(app.db, user, amsterdam_date(now), until=None)
    log_access(request, "calendar-read", None,
               shown=tuple(sorted({str(i.trajectory_id) for i in items})))
    # Dutch unless the address asks otherwise (`?lang=en`): an agenda app's own language
    # says nothing of hers.
    t = Translator(choose_language(request.query_params.get("lang"), None, None))
    body = calendar_of(t, user, items,
                       str(request.base_url).rstrip("/"), now.astimezone(UTC))
    return Response(
        body,
        media_type="text/calendar",  # (Litestar adds the charset, utf-8)
        headers={"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"},
    )


def calendar_feed_routes() -> list[Any]:
    return [calendar_feed]

