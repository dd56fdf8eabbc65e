"""Who looked at a girl's file, and on which basis: the answer to her request to see it
(GDPR art. 15, the Youth Act), and the access log's view of one girl.

Each access to her file stands on one of three bases: her professionals' relationship with
her (an act that was allowed, not under an emergency access), an emergency access (the
act names the access, and so its reason: `trajectory.emergency`), or none, when it was
refused (outcome `denied` or `refused`). The basis is read from the entry as written;
nothing here changes the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from trajectory.access_log import AccessLog
from trajectory.emergency import EmergencyAccess, EmergencyAccesses

Basis = Literal["relationship", "emergency", "refused"]
REFUSED_OUTCOMES = frozenset({"denied", "refused"})


def basis_of(outcome: str, emergency_access: str | None) -> Basis:
    """The basis an entry stood on: refused first (a refused act under an emergency
    access was still refused), then the emergency access it names, else the relationship."""
    if outcome in REFUSED_OUTCOMES:
        return "refused"
    if emergency_access:
        return "emergency"
    return "relationship"


@dataclass(frozen=True)
class ReportEntry:
    """One access to her file, with its basis (and its emergency access, if any)."""

    entry_id: int
    at: datetime
    user_id: str | None
    role: str | None
    action: str
    outcome: str
    basis: Basis
    listed: bool
    """The act was a list that showed her (a caseload), not an act on her file alone."""
    emergency: EmergencyAccess | None


def with_basis(rows: list[dict[str, Any]],
               accesses: dict[str, EmergencyAccess]) -> list[dict[str, Any]]:
    """The access log's rows with their `basis` and their emergency access's reason and
    explanation (empty without one)."""
    found = []
    for row in rows:
        access = accesses.get(str(row.get("emergency_access") or ""))
        found.append({
            **row,
            "basis": basis_of(str(row["outcome"]), row.get("emergency_access")),
            "emergency_reason": access.reason if access else None,
            "emergency_explanation": access.explanation if access else None,
        })
    return found


def emergency_accesses_of(log: AccessLog, trajectory_id: str) -> dict[str, EmergencyAccess]:
    """Every emergency access to her file, by id."""
    return {a.access_id: a for a in EmergencyAccesses(log.db).of_trajectory(trajectory_id)}


def access_report(log: AccessLog, trajectory_id: str, *, since: datetime | None = None,
                  until: datetime | None = None) -> list[ReportEntry]:
    """Every access to her file from `since` up to (not including) `until`, oldest first:
    acts on her file and lists that showed her."""
    accesses = emergency_accesses_of(log, trajectory_id)
    found = []
    for row in log.for_trajectory(trajectory_id):
        at = datetime.fromisoformat(str(row["at"]))
        if (since is not None and at < since) or (until is not None and at >= until):
            continue
        access = accesses.get(str(row.get("emergency_access") or ""))
        found.append(ReportEntry(
            entry_id=int(row["entry_id"]), at=at, user_id=row["user_id"], role=row["role"],
            action=str(row["action"]), outcome=str(row["outcome"]),
            basis=basis_of(str(row["outcome"]), row.get("emergency_access")),
            listed=row["trajectory_id"] != trajectory_id, emergency=access,
        ))
    return found
