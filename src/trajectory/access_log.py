"""The access log, in the spirit of NEN 7513: who did what to which trajectory, and how.

Append-only (the database refuses UPDATE and DELETE). An entry for a write is one of the
rows of the write's own transaction; an entry for a read is written before the answer
leaves. If the entry cannot be written, the act fails: no access goes unlogged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from trajectory.persistence.database import Database, RowWrite

Action = Literal["read", "write", "search", "export", "erase", "audit-read", "login"]
Outcome = Literal["ok", "denied", "refused", "rejected", "replayed", "failed", "proposed"]


@dataclass(frozen=True)
class AccessEntry:
    at: datetime
    user_id: str | None
    on_behalf_of: str | None
    role: str | None
    organisation: str | None
    client: str | None
    action: str
    trajectory_id: str | None
    outcome: str
    request_id: str | None

    def row(self) -> RowWrite:
        return RowWrite(
            "access_log",
            {
                "at": self.at.isoformat(),
                "user_id": self.user_id,
                "on_behalf_of": self.on_behalf_of,
                "role": self.role,
                "organisation": self.organisation,
                "client": self.client,
                "action": self.action,
                "trajectory_id": self.trajectory_id,
                "outcome": self.outcome,
                "request_id": self.request_id,
            },
        )


class AccessLog:
    def __init__(self, db: Database):
        self.db = db

    def append(self, entry: AccessEntry) -> None:
        """Write one entry in its own transaction; raises if it cannot be written."""
        self.db.write(entry.row())

    def for_trajectory(self, trajectory_id: str) -> list[dict[str, Any]]:
        """Every entry about one trajectory, in the order they were written."""
        return self.db.fetchall(
            "SELECT entry_id, at, user_id, on_behalf_of, role, organisation, client, action,"
            " trajectory_id, outcome, request_id FROM access_log WHERE trajectory_id = ?"
            " ORDER BY entry_id",
            [trajectory_id],
        )

    def count(self) -> int:
        row = self.db.fetchone("SELECT COUNT(*) AS n FROM access_log")
        return int(row["n"]) if row else 0
