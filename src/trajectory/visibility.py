"""Who may see which trajectory: the one rule every read and write starts from.

A coordinator sees the trajectories of her organisation she has a relationship with:
those of the teams she belongs to, and those she is the responsible coordinator of (a girl
not yet assigned to a team is seen by every coordinator of her organisation, as before
teams existed). Outside her relationships she may open one by emergency access
(`trajectory.emergency`): for a stated reason and a limited time, to read, and to record
only where her organisation allows it. An aftercare worker sees those handed over
to her, while they are hers: until the trajectory is closed, and after aftercare ended
only for a grace period (`aftercare_grace_days`), during which she may read but no longer
record. Anything else answers as a trajectory that does not exist, so that nobody learns
from a refusal which files there are. An erased file is said to be erased only to someone
who could have seen it.

Some roles see no trajectory at all, whatever its organisation: a researcher (only
pseudonymised exports), an organisation's quality officer (her organisation's duties,
matrix totals and signals), its privacy officer (who looked at which file, and the review
of emergency accesses) and an inspector (every organisation's figures, aggregated).
Their record routes answer 403 before this rule is asked; here they see nothing too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from trajectory.aggregates.errors import AftercareEnded, EmergencyReadOnly, TrajectoryNotFound
from trajectory.crypto import TrajectoryErased
from trajectory.emergency import EmergencyAccess, EmergencyAccesses
from trajectory.persistence.database import Database, Reads


class Someone(Protocol):
    """Whoever asks: a signed-in user or an actor of the application."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def organisation(self) -> str: ...


NO_RECORDS = frozenset({"researcher", "quality", "privacy", "inspector"})
"""Roles that never see a girl's record (nor her name)."""


def may_see(who: Someone, row: dict[str, Any]) -> bool:
    """Whether an index (or erasure) row is one this person's role and organisation may see
    (whatever the day and the relationship: `visible_row` adds the aftercare worker's end
    of access and the coordinator's relationship)."""
    if who.role in NO_RECORDS:
        return False
    if who.role == "coordinator":
        return bool(row["organisation"] == who.organisation)
    return who.role == "aftercare" and row["receiving_worker"] == who.user_id


RELATED = (
    "(t.team IS NULL OR t.coordinator = ? OR t.team IN (SELECT m.team_id FROM team_members m"
    " WHERE m.user_id = ? AND m.removed_at IS NULL))"
)
"""SQL over `trajectory_index t`: the coordinator (twice her user id) has a relationship
with the girl: a girl without a team, one she is responsible for, or one of her teams'.
(A retired team's members keep seeing its girls until they are moved: a retired team
with girls left in it would otherwise leave them in nobody's view but the responsible
coordinator's.)"""


def related_filter(who: Someone, column: str = "trajectory_id") -> tuple[str, list[object]]:
    """A condition on `column` (a trajectory id; qualify it where a list joins tables) and
    its parameters that holds for the trajectories `who` sees in her lists: for a
    coordinator those of her organisation she has a relationship with; for an aftercare
    worker those handed over to her (a list adds what status it shows); nobody else any."""
    if who.role == "coordinator":
        return (
            f"{column} IN (SELECT t.trajectory_id FROM trajectory_index t"
            f" WHERE t.organisation = ? AND {RELATED})",
            [who.organisation, who.user_id, who.user_id],
        )
    if who.role == "aftercare":
        return (f"{column} IN (SELECT t.trajectory_id FROM trajectory_index t"
                " WHERE t.receiving_worker = ?)", [who.user_id])
    return "1 = 0", []


def is_related(db: Reads, who: Someone, trajectory_id: UUID | str) -> bool:
    """Whether the coordinator has a relationship with this girl (of her organisation)."""
    return db.fetchone(
        f"SELECT 1 AS yes FROM trajectory_index t WHERE t.trajectory_id = ?"
        f" AND t.organisation = ? AND {RELATED}",
        [str(trajectory_id), who.organisation, who.user_id, who.user_id],
    ) is not None


def holding_organisation(db: Reads, trajectory_id: UUID | str) -> str | None:
    """The organisation that holds (or held, if erased) the file: whose access log about
    her is readable to its admin and privacy officer, erased or not (who looked remains
    accountable)."""
    row = db.fetchone(
        "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?"
        " UNION ALL SELECT organisation FROM erasures WHERE trajectory_id = ?",
        [str(trajectory_id), str(trajectory_id)],
    )
    return None if row is None else str(row["organisation"])


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
    now: datetime | None = None,
) -> dict[str, Any]:
    """The trajectory's index row, if `who` may see it on `today` (and, `writing`, record
    on it). `now`: the moment, for an emergency access (none counts without it). The row's
    `emergency` is the emergency access she sees it by (None: by her relationship).

    Raises TrajectoryNotFound when it does not exist or is not hers to see (the same
    answer), TrajectoryErased when it was erased and she could have seen it,
    AftercareEnded when an aftercare worker would record after aftercare ended, and
    EmergencyReadOnly when she would record by an emergency access to read."""
    # The relationship is read with the row: one lookup for every request about her.
    row = db.fetchone(
        "SELECT organisation, receiving_worker, status, aftercare_ended_on, team, coordinator,"
        f" CASE WHEN {RELATED} THEN 1 ELSE 0 END AS related"
        " FROM trajectory_index t WHERE trajectory_id = ?",
        [who.user_id, who.user_id, str(trajectory_id)],
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
    row["emergency"] = None
    if who.role == "coordinator" and not row["related"]:
        access = emergency_in_force(db, who, trajectory_id, now)
        if access is None:
            raise TrajectoryNotFound(trajectory_id)
        if writing and not access.may_write:
            raise EmergencyReadOnly(
                "this file is open to you by emergency access, to read only; nothing can be"
                " recorded on it"
            )
        row["emergency"] = access
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


def emergency_in_force(db: Database, who: Someone, trajectory_id: UUID,
                       now: datetime | None) -> EmergencyAccess | None:
    """Her emergency access to this file in force at `now` (none without a moment)."""
    if now is None:
        return None
    return EmergencyAccesses(db).in_force(who.user_id, str(trajectory_id), now)


class EmergencyAccessNeedless(Exception):
    """She has a relationship with the girl: her file is open to her without one."""


def break_the_glass(
    db: Database,
    who: Someone,
    trajectory_id: UUID,
    *,
    reason: str,
    explanation: str,
    write: bool,
    now: datetime,
) -> EmergencyAccess:
    """Open a girl's file to a coordinator of her organisation outside her relationships,
    for the organisation's number of hours. Only a coordinator, only of the girl's
    organisation, only for a file that is not erased: to anyone else the file
    does not exist (TrajectoryNotFound). Raises EmergencyAccessNeedless when it is open to
    her already, and EmergencyAccessRefused for a reason or write access not allowed."""
    if who.role != "coordinator":
        raise TrajectoryNotFound(trajectory_id)
    row = db.fetchone(
        "SELECT organisation, status FROM trajectory_index WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    if row is None or row["organisation"] != who.organisation:
        raise TrajectoryNotFound(trajectory_id)
    if is_related(db, who, trajectory_id):
        raise EmergencyAccessNeedless(str(trajectory_id))
    return EmergencyAccesses(db).grant(
        organisation=who.organisation, user_id=who.user_id,
        trajectory_id=str(trajectory_id), reason=reason, explanation=explanation,
        write=write, now=now,
    )
