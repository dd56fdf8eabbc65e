"""No girl out of view: the organisation-wide list of the girls it has lost sight of.

One row per trajectory and reason (`out_of_view`): the reason, `since` (the day the list
shows) and `applies_from` (the first day the reason holds), with her organisation and
the receiving worker and organisation. Both days come from the one rule,
`trajectory.protocol.out_of_view.out_of_view_windows`, computed from her state once per
trajectory and page (`follows_state`); whether she is out of view on a day is decided at
query time, `applies_from <= today`, so a clock moved by a test moves it (as the
caseload's "overdue" does). A reason that will hold later without a new fact (the day
after a contact is due) has its row already: stored windows do not go stale while
nothing happens, and a new fact rewrites her rows.

The caseload's and the aftercare list's `out_of_view` flags read these rows too
(`out_of_view_clause`), so that no list can disagree with this one.

No identity and no free text: ids, codes and dates only (the receiving organisation is
the handovers table's column as well). What must not change: the table's name and
columns (the caseload and handovers queries read them).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any, get_args
from uuid import UUID

import msgspec

from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import Status
from trajectory.persistence.database import Database, Transaction
from trajectory.projections.framework import (
    Change,
    Projection,
    delete_where_in,
    execute_many,
    from_row,
    insert_statement,
    row_values,
)
from trajectory.protocol.model import Protocol
from trajectory.protocol.out_of_view import OutOfViewReason, out_of_view_windows
from trajectory.visibility import Someone, related_filter

REASONS: tuple[OutOfViewReason, ...] = get_args(OutOfViewReason)
TABLE = "out_of_view"


class OutOfViewRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    reason: OutOfViewReason
    organisation: str
    receiving_organisation: str
    receiving_worker: str
    status: Status
    since: date
    applies_from: date
    version: int


_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        trajectory_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        organisation TEXT NOT NULL,
        receiving_organisation TEXT NOT NULL,
        receiving_worker TEXT NOT NULL,
        status TEXT NOT NULL,
        since TEXT NOT NULL,
        applies_from TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (trajectory_id, reason)
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_org ON {TABLE} (organisation, applies_from)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_worker ON {TABLE} (receiving_worker, applies_from)",
]
_INSERT = insert_statement(TABLE, OutOfViewRow, ("trajectory_id", "reason"))


def out_of_view_rows(
    trajectory_id: str, s: TrajectoryState, version: int, protocol: Protocol
) -> list[OutOfViewRow]:
    """Her rows: one per reason she is, or will be without a new fact, out of view."""
    h = s.handover
    return [
        OutOfViewRow(
            trajectory_id=trajectory_id,
            reason=w.reason,
            organisation=s.organisation,
            receiving_organisation=h.receiving_organisation or "",
            receiving_worker=h.receiving_worker or "",
            status=s.status,
            since=w.since,
            applies_from=w.applies_from,
            version=version,
        )
        for w in out_of_view_windows(s, protocol)
    ]


class OutOfViewProjection(Projection):
    name = "out_of_view"
    tables = (TABLE,)
    follows_state = True  # her rows are computed from her state at the flush

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._pending: dict[str, tuple[TrajectoryState, int]] = {}

    def ddl(self) -> list[str]:
        return list(_DDL)

    def apply(self, change: Change) -> None:
        # The trajectory's last event in the page alone decides her rows (`follows_state`):
        # keep the state (folded no further before the flush) and compute them once.
        self._pending[change.trajectory_id] = (change.state, change.version)

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        pending = {t: sv for t, sv in self._pending.items() if t not in erased}
        self._pending = {}
        if not pending:
            return
        rows = [
            row_values(r)
            for t, (s, version) in pending.items()
            for r in out_of_view_rows(
                t, s, version, self.protocols.get(s.protocol_name, s.protocol_version)
            )
        ]
        delete_where_in(tx, TABLE, sorted(pending))
        execute_many(tx, _INSERT, rows)

    def discard(self) -> None:
        self._pending = {}


# -- queries ------------------------------------------------------------------------------------


def out_of_view_clause(trajectory_id_column: str) -> str:
    """SQL true when the trajectory in `trajectory_id_column` is out of view on the day
    bound to its one placeholder: what the caseload and the aftercare list ask."""
    return (
        f"EXISTS (SELECT 1 FROM {TABLE} o WHERE o.trajectory_id = {trajectory_id_column}"
        " AND o.applies_from <= ?)"
    )


class OutOfViewItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """One reason one girl is out of view: since when, for how many days, and who was to
    receive her (empty: nobody of this installation)."""

    trajectory_id: UUID
    reason: OutOfViewReason
    since: date
    days: int
    status: Status
    receiving_worker: str | None
    receiving_organisation: str | None
    version: int


class OutOfViewOut(msgspec.Struct, frozen=True, kw_only=True):
    """Every girl out of view today, the longest out of view first; a girl with more than
    one reason has an item per reason."""

    organisation: str
    today: date
    girls: int
    items: list[OutOfViewItemOut]


class OutOfViewCountsOut(msgspec.Struct, frozen=True, kw_only=True):
    """How many girls of the organisation are out of view today (`girls`), and how many
    for each reason (a girl may count under more than one)."""

    organisation: str
    today: date
    girls: int
    by_reason: dict[OutOfViewReason, int]


def _scope(
    organisation: str, worker: str | None, seen_by: Someone | None
) -> tuple[str, list[Any]]:
    """The organisation's girls, of those `seen_by` has a relationship with
    (`visibility.related_filter`; None: all of them); for an aftercare worker (`worker`)
    the organisation's and the girls handed over to her (she may work for another
    organisation than the one that sent them; the page names only hers)."""
    if worker is not None:
        return "(organisation = ? OR receiving_worker = ?)", [organisation, worker]
    if seen_by is None:
        return "organisation = ?", [organisation]
    related, params = related_filter(seen_by)
    return f"organisation = ? AND {related}", [organisation, *params]


def out_of_view_list(
    db: Database, organisation: str, today: date, *, seen_by: Someone | None,
    worker: str | None = None,
) -> OutOfViewOut:
    """The girls out of view on `today`: the organisation's that `seen_by` (a
    coordinator) has a relationship with (None: all of them), or, with `worker`, the
    organisation's and those handed over to that aftercare worker; the longest out of
    view first."""
    where, params = _scope(organisation, worker, seen_by)
    rows = db.fetchall(
        f"SELECT * FROM {TABLE} WHERE {where} AND applies_from <= ?"
        " ORDER BY since, trajectory_id, reason",
        [*params, today.isoformat()],
    )
    items = [_item(from_row(OutOfViewRow, r), today) for r in rows]
    return OutOfViewOut(
        organisation=organisation,
        today=today,
        girls=len({i.trajectory_id for i in items}),
        items=items,
    )


def _item(row: OutOfViewRow, today: date) -> OutOfViewItemOut:
    return OutOfViewItemOut(
        trajectory_id=UUID(row.trajectory_id),
        reason=row.reason,
        since=row.since,
        days=max((today - row.since).days, 0),
        status=row.status,
        receiving_worker=row.receiving_worker or None,
        receiving_organisation=row.receiving_organisation or None,
        version=row.version,
    )


def out_of_view_counts(
    db: Database, organisation: str, today: date, *, worker: str | None = None,
    seen_by: Someone | None = None,
) -> OutOfViewCountsOut:
    """How many girls are out of view on `today`, in all and by reason: the
    organisation's totals (the quality figures, the inspection), or, `seen_by`, of the
    girls her list shows (the menu's count beside it)."""
    where, params = _scope(organisation, worker, seen_by)
    rows = db.fetchall(
        f"SELECT trajectory_id, reason FROM {TABLE} WHERE {where} AND applies_from <= ?",
        [*params, today.isoformat()],
    )
    by_reason = Counter(str(r["reason"]) for r in rows)
    return OutOfViewCountsOut(
        organisation=organisation,
        today=today,
        girls=len({r["trajectory_id"] for r in rows}),
        by_reason={reason: by_reason.get(reason, 0) for reason in REASONS},
    )

