"""Who may see which trajectory: the one rule every read and write starts from.

A coordinator sees her organisation's trajectories; an aftercare worker those handed over
to her, while they are hers: until the trajectory is closed, and after aftercare ended
only for a grace period (`aftercare_grace_days`), during which she may read but no longer
record. Anything else answers as a trajectory that does not exist, so that nobody learns
from a refusal which files there are. An erased file is said to be erased only to someone
who could have seen it.

Some roles see no trajectory at all, whatever its organisation: a researcher (only
pseudonymised exports), an organisation's quality officer (her organisation's duties,
matrix totals and signals) and an inspector (every organisation's figures, aggregated).
Their record routes answer 403 before this rule is asked; here they see nothing too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol
from uuid import UUID

from trajectory.aggregates.errors import AftercareEnded, TrajectoryNotFound
from trajectory.crypto import TrajectoryErased
from trajectory.persistence.database import Database


class Someone(Protocol):
    """Whoever asks: a signed-in user or an actor of the application."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def organisation(self) -> str: ...


NO_RECORDS = frozenset({"researcher", "quality", "inspector"})
"""Roles that never see a girl's record (nor her name)."""


def may_see(who: Someone, row: dict[str, Any]) -> bool:
    """Whether an index (or erasure) row is one this person may see (whatever the day:
    `visible_row` adds the aftercare worker's end of access)."""
    if who.role in NO_RECORDS:
        return False
    if who.role == "coordinator":
        return bool(row["organisation"] == who.organisation)
    return who.role == "aftercare" and row["receiving_worker"] == who.user_id


def sees_identity(who: Someone, meeting_on: date | None, today: date) -> bool:
    """Whether `who` (already allowed to see the trajectory) may see who she is and how to
    reach her: her coordinators always; the receiving worker from the warm handover
    meeting on."""
    if who.role != "aftercare":
        return True
    return meeting_on is not None and meeting_on <= today


def aftercare_access_ends(row: dict[str, Any], grace_days: int) -> date | None:
    """The last day the receiving aftercare worker may read the file (None: no end yet).
    Closure ends her access on the day it is recorded; the end of aftercare after the
    grace period."""
    if row.get("status") == "closed":
        return date.min
    ended = row.get("aftercare_ended_on")
    if ended is None:
        return None
    return date.fromisoformat(str(ended)[:10]) + timedelta(days=grace_days)


def visible_row(
    db: Database,
    who: Someone,
    trajectory_id: UUID,
    *,
    today: date,
    grace_days: int,
    writing: bool = False,
) -> dict[str, Any]:
    """The trajectory's index row, if `who` may see it on `today` (and, `writing`, record
    on it).

    Raises TrajectoryNotFound when it does not exist or is not hers to see (the same
    answer), TrajectoryErased when it was erased and she could have seen it, and
    AftercareEnded when an aftercare worker would record after aftercare ended."""
    row = db.fetchone(
        "SELECT organisation, receiving_worker, status, aftercare_ended_on"
        " FROM trajectory_index WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    if row is None:
        erased = db.fetchone(
            "SELECT organisation, receiving_worker FROM erasures WHERE trajectory_id = ?",
            [str(trajectory_id)],
        )
        if erased is not None and may_see(who, erased):
            raise TrajectoryErased(trajectory_id)
        raise TrajectoryNotFound(trajectory_id)
    if not may_see(who, row):
        raise TrajectoryNotFound(trajectory_id)
    if who.role == "aftercare":
        last_day = aftercare_access_ends(row, grace_days)
        if last_day is not None and (row["status"] == "closed" or today > last_day):
            raise TrajectoryNotFound(trajectory_id)
        if last_day is not None and writing:
            raise AftercareEnded(
                f"aftercare ended on {row['aftercare_ended_on']}; the file can be read until"
                f" {last_day.isoformat()}, and nothing more can be recorded"
            )
    return row
