"""The aftercare worker's list: the trajectories handed over to her, and who is out of view.

One row per trajectory whose handover was prepared: the receiving worker and
organisation, the handover state (prepared, meeting held, accepted, in aftercare, ended),
its dates, the last aftercare contact and the day the next contact is due (by the
protocol's aftercare interval). "Out of view" is decided at query time, from the rows
of the organisation's out-of-view list (`projections.out_of_view`): the same reasons, so
the two lists never disagree.

Deliberately not stored: the date of birth, or the day she turns 18 (which is the date
of birth by another name). Age is no condition here: she stays on the list, and goes out
of view, before and after 18 alike. The handover view of one trajectory
(`trajectory.views.handover_view`) shows her age, the safety plan and the agreements,
read from the encrypted events when asked.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec

from trajectory.aggregates.state import TrajectoryState
from trajectory.persistence.database import Database, Transaction
from trajectory.projections.framework import (
    Change,
    Projection,
    delete_where_in,
    execute_many,
    from_row,
    row_values,
    upsert_statement,
)
from trajectory.projections.out_of_view import out_of_view_clause
from trajectory.protocol.attention import attention_items

HandoverState = Literal["prepared", "meeting_held", "accepted", "in_aftercare", "ended"]


def handover_state(s: TrajectoryState) -> HandoverState | None:
    """Where the handover stands; None when there is none (never prepared, or the
    preparation was marked in error). The same reading as the handover view."""
    if s.aftercare_ended_on is not None or s.status == "closed":
        return "ended"
    if s.status == "aftercare":
        return "in_aftercare"
    if s.has("handover-accepted"):
        return "accepted"
    if s.has("handover-meeting"):
        return "meeting_held"
    if s.has("handover-prepared"):
        return "prepared"
    return None


class HandoverRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    organisation: str
    receiving_organisation: str
    receiving_worker: str
    state: HandoverState
    prepared_on: date | None
    meeting_on: date | None
    accepted_on: date | None
    acceptance_due_on: date | None
    aftercare_started_on: date | None
    aftercare_ended_on: date | None
    last_aftercare_contact_on: date | None
    next_contact_due_on: date | None
    version: int


_DDL = [
    """CREATE TABLE IF NOT EXISTS handovers (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        receiving_organisation TEXT NOT NULL,
        receiving_worker TEXT NOT NULL,
        state TEXT NOT NULL,
        prepared_on TEXT,
        meeting_on TEXT,
        accepted_on TEXT,
        acceptance_due_on TEXT,
        aftercare_started_on TEXT,
        aftercare_ended_on TEXT,
        last_aftercare_contact_on TEXT,
        next_contact_due_on TEXT,
        version INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS handovers_worker ON handovers (receiving_worker, state)",
]
_UPSERT = upsert_statement("handovers", HandoverRow, ("trajectory_id",))


class HandoversProjection(Projection):
    name = "handovers"
    tables = ("handovers",)
    # A trajectory's row is computed from its state at the flush; whether it has one
    # depends on the state alone (the preparation sets the receiving worker for good).
    follows_state = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._pending: dict[str, tuple[TrajectoryState, int]] = {}

    def ddl(self) -> list[str]:
        return list(_DDL)

    def apply(self, change: Change) -> None:
        h = change.state.handover
        if h.receiving_worker is None or h.receiving_organisation is None:
            return  # never handed over: nothing to show any aftercare worker
        # Called with the trajectory's last event in the page (`follows_state`), which
        # alone decides its row: keep its state (folded no further before the flush) and
        # compute the row once.
        self._pending[change.trajectory_id] = (change.state, change.version)

    def _row(self, tid: str, s: TrajectoryState, version: int) -> HandoverRow | None:
        """The row of a trajectory handed over; None when it no longer belongs here."""
        h = s.handover
        # Set once by the handover's preparation, never unset (see `apply`).
        assert h.receiving_worker is not None
        assert h.receiving_organisation is not None
        state = handover_state(s)
        if state is None:
            return None
        protocol = self.protocols.get(s.protocol_name, s.protocol_version)
        due = {i.code: i.due_on for i in attention_items(s, protocol, s.intake_date)}
        return HandoverRow(
            trajectory_id=tid,
            organisation=s.organisation,
            receiving_organisation=h.receiving_organisation,
            receiving_worker=h.receiving_worker,
            state=state,
            prepared_on=h.prepared_on,
            meeting_on=h.meeting_on,
            accepted_on=h.accepted_on,
            acceptance_due_on=due.get("handover-acceptance"),
            aftercare_started_on=s.aftercare_started_on,
            aftercare_ended_on=s.aftercare_ended_on,
            last_aftercare_contact_on=s.latest("aftercare-contact"),
            next_contact_due_on=due.get("aftercare-contact"),
            version=version,
        )

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        pending = {
            t: self._row(t, s, version)
            for t, (s, version) in self._pending.items()
            if t not in erased
        }
        self._pending = {}
        delete_where_in(tx, "handovers", sorted(t for t, r in pending.items() if r is None))
        rows = [row_values(r) for r in pending.values() if r is not None]
        execute_many(tx, _UPSERT, rows, keys_unique=True)  # one row per trajectory

    def discard(self) -> None:
        self._pending = {}


# -- queries ------------------------------------------------------------------------------------


class HandoverItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """One girl handed over to this worker: the state of the handover and of contact."""

    id: UUID
    state: HandoverState
    receiving_organisation: str
    prepared_on: date | None
    meeting_on: date | None
    accepted_on: date | None
    acceptance_due_on: date | None
    acceptance_overdue: bool
    aftercare_started_on: date | None
    aftercare_ended_on: date | None
    last_aftercare_contact_on: date | None
    next_contact_due_on: date | None
    out_of_view: bool
    version: int


class HandoversOut(msgspec.Struct, frozen=True, kw_only=True):
    worker: str
    today: date
    out_of_view: int
    items: list[HandoverItemOut]


class HandoversView:
    def __init__(self, db: Database):
        self.db = db

    def handovers_for(
        self, worker: str, today: date, *, include_ended: bool = False
    ) -> HandoversOut:
        ended = "" if include_ended else " AND state <> 'ended'"
        # Out of view as the organisation's list has it: the same rows, the same day.
        rows = self.db.fetchall(
            f"SELECT h.*, {out_of_view_clause('h.trajectory_id')} AS out_of_view_now"
            f" FROM handovers h WHERE receiving_worker = ?{ended}",
            [today.isoformat(), worker],
        )
        items = [
            _item(from_row(HandoverRow, r), today, out_of_view=bool(r["out_of_view_now"]))
            for r in rows
        ]
        items.sort(
            key=lambda i: (
                not i.out_of_view,
                not i.acceptance_overdue,
                i.state == "ended",
                i.next_contact_due_on or i.acceptance_due_on or date.max,
                str(i.id),
            )
        )
        return HandoversOut(
            worker=worker,
            today=today,
            out_of_view=sum(i.out_of_view for i in items),
            items=items,
        )


def _item(row: HandoverRow, today: date, *, out_of_view: bool) -> HandoverItemOut:
    return HandoverItemOut(
        id=UUID(row.trajectory_id),
        state=row.state,
        receiving_organisation=row.receiving_organisation,
        prepared_on=row.prepared_on,
        meeting_on=row.meeting_on,
        accepted_on=row.accepted_on,
        acceptance_due_on=row.acceptance_due_on,
        acceptance_overdue=row.acceptance_due_on is not None and today > row.acceptance_due_on,
        aftercare_started_on=row.aftercare_started_on,
        aftercare_ended_on=row.aftercare_ended_on,
        last_aftercare_contact_on=row.last_aftercare_contact_on,
        next_contact_due_on=row.next_contact_due_on,
        out_of_view=out_of_view,
        version=row.version,
    )


def handovers_for(
    db: Database, worker: str, today: date, *, include_ended: bool = False
) -> HandoversOut:
    """The trajectories handed over to `worker`, those out of view first."""
    return HandoversView(db).handovers_for(worker, today, include_ended=include_ended)
