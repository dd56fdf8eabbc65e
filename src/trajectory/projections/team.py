"""The team's figures, read from the caseload's tables: how many girls are in each phase
and for how long, and which attention items are overdue. The caseload keeps these rows
already (`projections.caseload`); a dashboard needs them counted, not listed.

No identity: counts by phase, by code and by how long, never a girl. So the figures are
the organisation's, whoever reads them, teams or not: a count names nobody, and a team
leader asks how the organisation does. The recent signals alone list girls (by id, for
the register to name): of the girls the reader has a relationship with.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import msgspec

from trajectory.persistence.database import Database
from trajectory.visibility import Someone, related_filter

DAYS_IN_PHASE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 27), (28, 89), (90, 179), (180, 364), (365, None),
)
"""How long in the current phase, in days (from, to inclusive; None: and longer): under
four weeks (the shortest time phase 1 asks in the default protocol), up to three months,
half a year, a year, and longer."""


class PhaseCountOut(msgspec.Struct, frozen=True, kw_only=True):
    """The girls in one phase of care (`phase` None: in aftercare), by how long they have
    been in it (a count per band of `DAYS_IN_PHASE_BANDS`)."""

    phase: int | None
    girls: int
    by_days: tuple[int, ...]


class TeamOut(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    today: date
    phases: list[PhaseCountOut]
    overdue: dict[str, int]
    """Overdue attention items by code (girls in care or aftercare)."""
    girls_overdue: int


def band_of(days: int) -> int:
    for i, (low, high) in enumerate(DAYS_IN_PHASE_BANDS):
        if days >= low and (high is None or days <= high):
            return i
    return 0


def team(db: Database, organisation: str, today: date) -> TeamOut:
    """The organisation's girls in care (by phase) and in aftercare, on `today`."""
    rows = db.fetchall(
        "SELECT trajectory_id, status, phase, phase_entered_on FROM caseload"
        " WHERE organisation = ? AND status <> 'closed'",
        [organisation],
    )
    bands: dict[int | None, list[int]] = {}
    for r in rows:
        phase = int(r["phase"]) if r["status"] == "in_care" else None
        days = max((today - date.fromisoformat(str(r["phase_entered_on"])[:10])).days, 0)
        counts = bands.setdefault(phase, [0] * len(DAYS_IN_PHASE_BANDS))
        counts[band_of(days)] += 1
    in_care = sorted(p for p in bands if p is not None)
    order: list[int | None] = [*in_care, *([None] if None in bands else [])]
    items = db.fetchall(
        "SELECT a.trajectory_id, a.code FROM caseload_attention a JOIN caseload c"
        " ON c.trajectory_id = a.trajectory_id"
        " WHERE c.organisation = ? AND c.status <> 'closed' AND a.due_on < ?",
        [organisation, today.isoformat()],
    )
    return TeamOut(
        organisation=organisation,
        today=today,
        phases=[
            PhaseCountOut(phase=p, girls=sum(bands[p]), by_days=tuple(bands[p])) for p in order
        ],
        overdue=dict(sorted(Counter(str(i["code"]) for i in items).items())),
        girls_overdue=len({i["trajectory_id"] for i in items}),
    )


class SignalOut(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded signal: whose (`trajectory_id`), which event (`position`), its kind
    and the month it happened."""

    trajectory_id: str
    position: int
    kind: str
    month: str


SIGNAL_KINDS: tuple[str, ...] = ("loverboy", "sexual_abuse", "boundary_crossing", "runaway")
"""The kinds a coordinator records (`SignalRecorded`); the quality signals' table also
counts each reported runaway, which the runaway register shows."""


def recent_signals(
    db: Database, organisation: str, from_month: str, *, seen_by: Someone | None,
    limit: int = 30,
) -> list[SignalOut]:
    """The organisation's signals from `from_month` ('YYYY-MM') on, the newest first: of
    the girls `seen_by` has a relationship with (`visibility.related_filter`; None: of
    every girl)."""
    related, related_params = related_filter(seen_by) if seen_by else ("1 = 1", [])
    rows = db.fetchall(
        "SELECT trajectory_id, position, kind, month FROM quality_signals"
        f" WHERE organisation = ? AND month >= ? AND kind IN (?, ?, ?, ?) AND {related}"
        " ORDER BY month DESC, position DESC, trajectory_id LIMIT ?",
        [organisation, from_month, *SIGNAL_KINDS, *related_params, limit],
    )
    return [msgspec.convert(r, SignalOut, strict=False) for r in rows]


def months_to(last: date, count: int = 12) -> list[str]:
    """The `count` months ('YYYY-MM') that end with the month of `last`, oldest first."""
    year, month = last.year, last.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]
