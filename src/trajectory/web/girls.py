"""How a girl is named in a list (the aftercare worker's handovers, the caseload, the
week): her name only where the one who looks may see it, and her age. Kept apart from the
pages so that every list page can use it without importing another page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from trajectory.protocol.rules import age_on
from trajectory.views import opening_event
from trajectory.visibility import sees_identity


@dataclass(frozen=True)
class ListedGirl:
    """How a girl shows in the aftercare worker's list: her name and age once the warm
    handover meeting was held (before it, her age only; the list never puts a name in an
    address)."""

    name: str | None
    age: int


def listed_girl(app: Any, who: Any, tid: UUID, meeting_on: date | None, today: date) -> ListedGirl:
    try:
        opened = opening_event(app.events.get(tid, lte=1))
    except Exception:  # an erased or unreadable file: no name to show
        return ListedGirl(name=None, age=0)
    identity = opened.identity
    name = identity.name if sees_identity(who, meeting_on, today) else None
    return ListedGirl(name=name, age=age_on(identity.date_of_birth, today))


def name_of(app: Any, tid: UUID) -> str | None:
    """Her name, from her encrypted opening event (never a read model's); None when her
    file is erased or unreadable: a list leaves her unnamed, it never fails for her."""
    try:
        return str(opening_event(app.events.get(tid, lte=1)).identity.name)
    except Exception:
        return None
