"""The page of the girls out of view (`/app/out-of-view`), for the organisation's
coordinators and aftercare workers, and the sentences that say why.

Each girl once, with every reason she is out of view as a sentence (how long and why),
the longest first. Her name is shown as the caseload shows it (read from her encrypted
opening event, never put in an address) to whoever may open her file: a coordinator of
her organisation who has a relationship with her (only those girls are listed for a
coordinator, `visibility.related_filter`), or the aftercare worker she was handed over
to; the link goes to her page or to the handover page. An aftercare worker also learns
of the organisation's other girls out of view, without their names (data minimisation:
their files are not hers), with the coordinator to turn to. The page is access-logged
naming every girl shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from trajectory.aggregates.errors import AftercareEnded, TrajectoryNotFound
from trajectory.application import TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.identity.users import User
from trajectory.projections.out_of_view import (
    REASONS,
    OutOfViewItemOut,
    out_of_view_list,
)
from trajectory.protocol.out_of_view import OutOfViewReason
from trajectory.visibility import visible_row
from trajectory.web.core import log_access, page, session_of, translator, web
from trajectory.web.girls import name_of
from trajectory.web.i18n import N_, Translator

CARE = {"web_access": "full", "web_roles": ("coordinator", "aftercare")}

REASON_TITLES: dict[OutOfViewReason, str] = {
    "aftercare-contact-overdue": N_("Aftercare contact overdue"),
    "contact-attempts-failed": N_("Contact attempts did not reach her"),
    "left-without-handover": N_("Left care without a handover"),
    "handover-not-accepted": N_("Handover not accepted in time"),
}
"""Each reason in a few words (the quality figures' rows)."""


def reason_sentence(t: Translator, reason: OutOfViewReason, since: date, days: int) -> str:
    """Why she is out of view and for how long, as a sentence in the page's language."""
    # (Singular and plural as two sentences: Dutch and English count alike, and the
    # catalogues carry no plural forms.)
    n = t.number(days)
    if days == 0:
        how_long = ago = t("today")
    elif days == 1:
        how_long, ago = t("%(days)s day", days=n), t("%(days)s day ago", days=n)
    else:
        how_long, ago = t("%(days)s days", days=n), t("%(days)s days ago", days=n)
    on = t.date(since)
    if reason == "aftercare-contact-overdue":
        return t(
            "Nobody has reached her in the agreed time: the aftercare contact is overdue"
            " since %(date)s (%(how_long)s).",
            date=on, how_long=how_long,
        )
    if reason == "contact-attempts-failed":
        return t(
            "Attempts to contact her have not reached her since %(date)s (%(how_long)s).",
            date=on, how_long=how_long,
        )
    if reason == "left-without-handover":
        return t(
            "She left care without a warm handover on %(date)s (%(ago)s), and nobody has"
            " reached her since.",
            date=on, ago=ago,
        )
    return t(
        "Her handover was not accepted in time: overdue since %(date)s (%(how_long)s).",
        date=on, how_long=how_long,
    )


@dataclass
class Girl:
    """One girl on the page: her name and link when the reader may open her file."""

    trajectory_id: UUID
    name: str | None
    href: str | None
    coordinator: str | None
    receiving_worker: str | None
    sentences: list[str] = field(default_factory=list)
    days: int = 0


def _opens(app: TrajectoryApplication, user: User, tid: UUID, today: date) -> bool:
    """Whether this reader may open her file (the rule every read starts from)."""
    try:
        visible_row(app.db, user, tid, today=today,
                    grace_days=app.settings.aftercare_grace_days, now=app.clock())
    except (TrajectoryNotFound, TrajectoryErased, AftercareEnded):
        return False
    return True


def girls_out_of_view(
    request: Request[Any, Any, Any], items: list[OutOfViewItemOut], today: date
) -> list[Girl]:
    t = translator(request)
    w = web(request)
    app = w.services.application
    user = session_of(request).user
    users = w.services.users
    names: dict[str, str | None] = {}

    def person(user_id: str | None) -> str | None:
        if not user_id:
            return None
        if user_id not in names:
            found = users.by_id(user_id)
            names[user_id] = found.shown_name if found else None
        return names[user_id]

    girls: dict[UUID, Girl] = {}
    for item in items:
        tid = item.trajectory_id
        girl = girls.get(tid)
        if girl is None:
            opens = _opens(app, user, tid, today)
            coordinator = None
            if user.role == "coordinator" or not opens:
                row = app.db.fetchone(
                    "SELECT coordinator FROM trajectory_index WHERE trajectory_id = ?", [str(tid)]
                )
                coordinator = person(str(row["coordinator"])) if row else None
            section = "trajectories" if user.role == "coordinator" else "handovers"
            girl = girls[tid] = Girl(
                trajectory_id=tid,
                name=name_of(app, tid) if opens else None,
                href=f"/{section}/{tid}" if opens else None,
                coordinator=coordinator,
                receiving_worker=person(item.receiving_worker),
            )
        girl.sentences.append(reason_sentence(t, item.reason, item.since, item.days))
        girl.days = max(girl.days, item.days)
    return list(girls.values())


@get("/out-of-view", opt=CARE, sync_to_thread=True)
def out_of_view_page(request: Request[Any, Any, Any]) -> Template:
    w = web(request)
    app = w.services.application
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    out = out_of_view_list(
        app.db, user.organisation, today, seen_by=user,
        worker=user.user_id if user.role == "aftercare" else None,
    )
    girls = girls_out_of_view(request, out.items, today)
    # One entry naming every girl the page shows (NEN 7513), before the page leaves.
    log_access(request, "search", None, shown=tuple(str(g.trajectory_id) for g in girls))
    return page(request, "out_of_view.html", girls=girls, organisation=user.organisation,
                today=today)


def quality_rows(t: Translator, counts: Any) -> list[tuple[str, int]]:
    """The quality page's rows: each reason in words, with its count."""
    return [(t(REASON_TITLES[r]), int(counts.by_reason.get(r, 0))) for r in REASONS]


def out_of_view_routes() -> list[Any]:
    return [out_of_view_page]
