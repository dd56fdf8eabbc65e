"""Retention: which files are due for destruction, and when.

A youth-care file is kept for the protocol's years after care ends (20 by default), then
destroyed; an earlier request is honoured within three months unless refused with an
argument. `trajectory retention` lists both kinds of deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from trajectory.application import TrajectoryApplication

Reason = Literal["retention-period", "request-pending", "request-granted"]


@dataclass(frozen=True)
class RetentionItem:
    trajectory_id: str
    organisation: str
    reason: Reason
    due_on: date
    overdue: bool


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_items(app: TrajectoryApplication, today: date) -> list[RetentionItem]:
    """Every deadline for destruction, earliest first."""
    years = {(p.name, p.version): p.retention.years_after_care for p in app.protocols}
    items: list[RetentionItem] = []
    rows = app.db.fetchall(
        "SELECT trajectory_id, organisation, closed_on, destruction_requested_on,"
        " destruction_status FROM trajectory_index"
        " WHERE closed_on IS NOT NULL OR destruction_status IN ('pending', 'granted')"
    )
    for row in rows:
        tid = str(row["trajectory_id"])
        org = str(row["organisation"])
        if row["destruction_status"] in ("pending", "granted"):
            from trajectory.protocol.rules import destruction_deadline

            due = destruction_deadline(date.fromisoformat(row["destruction_requested_on"]))
            reason: Reason = (
                "request-pending" if row["destruction_status"] == "pending" else "request-granted"
            )
            items.append(RetentionItem(tid, org, reason, due, today > due))
        if row["closed_on"]:
            t_years = _years_for(app, tid, years)
            due = _add_years(date.fromisoformat(row["closed_on"]), t_years)
            items.append(RetentionItem(tid, org, "retention-period", due, today >= due))
    items.sort(key=lambda i: (i.due_on, i.trajectory_id))
    return items


def _years_for(
    app: TrajectoryApplication, trajectory_id: str, years: dict[tuple[str, str], int]
) -> int:
    from uuid import UUID

    t = app.get(UUID(trajectory_id))
    return years.get((t.state.protocol_name, t.state.protocol_version), 20)


def retention_expires_on(app: TrajectoryApplication, trajectory_id: str) -> date | None:
    """The day her file's retention period ends (the protocol's years after care ended),
    or None while she is still in care (the period has not begun)."""
    row = app.db.fetchone(
        "SELECT closed_on FROM trajectory_index WHERE trajectory_id = ?", [trajectory_id]
    )
    if row is None or not row["closed_on"]:
        return None
    years = {(p.name, p.version): p.retention.years_after_care for p in app.protocols}
    return _add_years(date.fromisoformat(row["closed_on"]), _years_for(app, trajectory_id, years))
