"""Whose items are due, for whom: the girls of a coordinator (or of her organisation) and
the girls handed over to an aftercare worker, their items from the caseload's rows
(`projections.caseload.due_items`), and where each item and each girl is recorded. Read
by the week page, the agenda feed and the menu's count alike, so that none of them can
disagree; it imports no page (the menu's count is drawn by `web.core`).
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from trajectory.facts import FACTS
from trajectory.identity.users import User
from trajectory.persistence.database import Database
from trajectory.projections.caseload import DueItemOut, due_items
from trajectory.projections.handovers import handovers_for
from trajectory.web.forms import SATISFIED_BY

AFTERCARE_FORMS = frozenset(fact.slug for fact in FACTS if "aftercare" in fact.roles)
"""The forms an aftercare worker records herself."""


def form_of(user: User, code: str) -> str | None:
    """The form that records an item, if this user records it (the caseload's mapping,
    narrowed to an aftercare worker's own forms)."""
    slug = SATISFIED_BY.get(code)
    if user.role == "aftercare" and slug not in AFTERCARE_FORMS:
        return None
    return slug


def girl_href(user: User, tid: UUID) -> str:
    """Her page for a coordinator; the handover page for an aftercare worker."""
    return f"/handovers/{tid}" if user.role == "aftercare" else f"/trajectories/{tid}"


def handed_over(db: Database, user: User, today: date) -> dict[UUID, date | None]:
    """An aftercare worker's girls (handed over to her, aftercare not ended), each with
    the day of her warm handover meeting: from then on the worker may see who she is
    (`visibility.sees_identity`)."""
    return {i.id: i.meeting_on for i in handovers_for(db, user.user_id, today).items}


def items_of(
    db: Database, user: User, today: date, *, until: date | None,
    organisation_wide: bool = False, hers: dict[UUID, date | None] | None = None,
) -> list[DueItemOut]:
    """Her girls' items due by `until`: the rows of the caseload, for this user. A
    coordinator's "whole organisation" is the part of it she has a relationship with
    (`visibility.related_filter`, applied by `due_items`): the girls of her teams, those
    she is responsible for, those without a team."""
    if user.role == "aftercare":
        ids = {str(tid) for tid in (hers if hers is not None else handed_over(db, user, today))}
        items = due_items(db, today, seen_by=user, until=until, trajectory_ids=ids)
        return [i for i in items if form_of(user, i.code) is not None]
    return due_items(
        db, today, seen_by=user, until=until, organisation=user.organisation,
        coordinator=None if organisation_wide else user.user_id,
    )


def week_count(db: Database, user: User, today: date) -> int:
    """The menu's count beside "This week": her items overdue or due in the coming seven
    days."""
    return len(items_of(db, user, today, until=today + timedelta(days=6)))
