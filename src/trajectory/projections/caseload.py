"""The coordinator's caseload: her organisation's trajectories, most urgent first.

One row per trajectory (`caseload`) with phase, status, runaways and version, and one row
per attention item (`caseload_attention`: code and due date). Which items are due, and
when, comes from `trajectory.protocol.attention` with the numbers of the trajectory's own
protocol; whether an item is overdue depends on the day asked about, so it is decided at
query time from the `today` given (a clock moved by a test moves it).

Most urgent first: an open runaway, then the girls in care or aftercare before closed
files, then a girl out of view, then the number of overdue items, then the earliest due
date, then the trajectory id (so that paging is stable). The pages keep the missing girls
(an open runaway, out of view) in every filtered list (`keep_urgent`): a filter must
never hide a girl nobody knows the whereabouts of, also not one whose file is closed (she
left without a warm handover and nobody has reached her since). A closed file has one
kind of attention item only, its next follow-up measurement (`protocol.follow_up`): due
for her coordinator, but never ahead of a girl still in care.

No identity and no free text: ids, codes, dates and counts only.

Whose girls: every read here takes the one who reads (`seen_by`) and lists only the girls
she has a relationship with (`visibility.related_filter`: for a coordinator the girls of
her teams, those she is responsible for and those without a team yet), so that the API,
the pages, their counts and the agenda feed cannot differ on it. `seen_by=None` is the
whole organisation, for figures of it and for tests; nobody reads a list of names by it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any
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
    insert_statement,
    row_values,
    upsert_statement,
)
from trajectory.projections.out_of_view import out_of_view_clause
from trajectory.protocol.attention import AttentionItem, attention_items
from trajectory.protocol.out_of_view import last_reached
from trajectory.visibility import Someone, related_filter

# -- rows -------------------------------------------------------------------------------------


class CaseloadRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    organisation: str
    coordinator: str
    status: Status
    phase: int
    phase_entered_on: date
    intake_date: date
    open_runaway_since: date | None
    runaways: int
    regressions: int
    version: int
    next_due_on: date | None
    aftercare_started_on: date | None
    # The last day a contact reached her (`protocol.out_of_view.last_reached`).
    last_contact_on: date | None


class AttentionRow(msgspec.Struct, frozen=True, kw_only=True):
    trajectory_id: str
    code: str
    due_on: date


_DDL = [
    """CREATE TABLE IF NOT EXISTS caseload (
        trajectory_id TEXT PRIMARY KEY,
        organisation TEXT NOT NULL,
        coordinator TEXT NOT NULL,
        status TEXT NOT NULL,
        phase INTEGER NOT NULL,
        phase_entered_on TEXT NOT NULL,
        intake_date TEXT NOT NULL,
        open_runaway_since TEXT,
        runaways INTEGER NOT NULL,
        regressions INTEGER NOT NULL,
        version INTEGER NOT NULL,
        next_due_on TEXT,
        aftercare_started_on TEXT,
        last_contact_on TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS caseload_org ON caseload (organisation, status, phase)",
    # her own girls (the week page, the menu's count on every page, the agenda feed)
    "CREATE INDEX IF NOT EXISTS caseload_coordinator ON caseload (coordinator, organisation)",
    """CREATE TABLE IF NOT EXISTS caseload_attention (
        trajectory_id TEXT NOT NULL,
        code TEXT NOT NULL,
        due_on TEXT NOT NULL,
        PRIMARY KEY (trajectory_id, code)
    )""",
]

_UPSERT = upsert_statement("caseload", CaseloadRow, ("trajectory_id",))
_INSERT_ITEM = insert_statement("caseload_attention", AttentionRow, ("trajectory_id", "code"))


class CaseloadProjection(Projection):
    name = "caseload"
    tables = ("caseload", "caseload_attention")
    # 2: the day aftercare started, the last contact that reached her; by coordinator
    version = 2
    follows_state = True  # a trajectory's rows are computed from its state at the flush

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._pending: dict[str, tuple[TrajectoryState, int]] = {}

    def ddl(self) -> list[str]:
        return list(_DDL)

    def apply(self, change: Change) -> None:
        # Called with the trajectory's last event in the page (`follows_state`), which
        # alone decides its rows: keep its state (folded no further before the flush) and
        # compute the rows once.
        self._pending[change.trajectory_id] = (change.state, change.version)

    def _rows(
        self, tid: str, s: TrajectoryState, version: int
    ) -> tuple[CaseloadRow, list[AttentionRow]]:
        protocol = self.protocols.get(s.protocol_name, s.protocol_version)
        # Due dates do not depend on the day asked about; only "overdue" does.
        items = attention_items(s, protocol, s.intake_date)
        row = CaseloadRow(
            trajectory_id=tid,
            organisation=s.organisation,
            coordinator=s.coordinator,
            status=s.status,
            phase=s.phase,
            phase_entered_on=s.phase_entered_on or s.intake_date,
            intake_date=s.intake_date,
            open_runaway_since=s.open_runaway.since if s.open_runaway else None,
            runaways=s.runaway_count,
            regressions=s.regressions,
            version=version,
            next_due_on=items[0].due_on if items else None,
            aftercare_started_on=s.aftercare_started_on,
            last_contact_on=last_reached(s),
        )
        attention = [AttentionRow(trajectory_id=tid, code=i.code, due_on=i.due_on) for i in items]
        return row, attention

    def flush(self, tx: Transaction, erased: frozenset[str]) -> None:
        pending = [
            self._rows(t, s, version)
            for t, (s, version) in self._pending.items()
            if t not in erased
        ]
        self._pending = {}
        if not pending:
            return
        # One row per trajectory: the keys are unique.
        execute_many(tx, _UPSERT, [row_values(row) for row, _ in pending], keys_unique=True)
        delete_where_in(tx, "caseload_attention", sorted(row.trajectory_id for row, _ in pending))
        execute_many(tx, _INSERT_ITEM, [row_values(a) for _, items in pending for a in items])

    def discard(self) -> None:
        self._pending = {}


# -- queries ------------------------------------------------------------------------------------


class CaseloadItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """One trajectory in a caseload: where she is and what needs attention."""

    id: UUID
    status: Status
    phase: int
    phase_entered_on: date
    days_in_phase: int
    intake_date: date
    coordinator: str
    open_runaway_since: date | None
    runaways: int
    regressions: int
    version: int
    overdue: int
    next_due_on: date | None
    attention: list[AttentionItem]
    # On the organisation's out-of-view list today (the same rows: `projections.out_of_view`).
    out_of_view: bool = False
    aftercare_started_on: date | None = None
    last_contact_on: date | None = None
    # Her team's id (`TeamAssigned`, from the index); None: not yet placed with a team.
    team: str | None = None


class CaseloadOut(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    today: date
    total: int
    limit: int
    offset: int
    items: list[CaseloadItemOut]


class CaseloadView:
    """Reads the caseload tables: the SQL of both dialects, in SQLite's words where they
    differ (`PostgresCaseloadView` carries PostgreSQL's)."""

    order_by = (
        "(open_runaway_since IS NULL), (status = 'closed'), (out_of_view = 0), overdue DESC,"
        " (next_due_on IS NULL), next_due_on,"
        " open_runaway_since, trajectory_id"
    )

    items_of_p = (
        "SELECT group_concat(a.due_on || '=' || a.code, ',') FROM caseload_attention a"
        " WHERE a.trajectory_id = p.trajectory_id"
    )
    """A row's attention items as one text, "due_on=code,..." (codes hold neither '='
    nor ',')."""

    out_of_view_flag = f"CASE WHEN {out_of_view_clause('c.trajectory_id')} THEN 1 ELSE 0 END"
    """1 when she is out of view on the day asked about (a number in both dialects)."""

    team_of_p = "SELECT t.team FROM trajectory_index t WHERE t.trajectory_id = p.trajectory_id"
    """A row's team, read from the index (kept there for the relationship rule), only for
    the rows of the page."""

    def __init__(self, db: Database):
        self.db = db

    def caseload(
        self,
        organisation: str,
        today: date,
        *,
        seen_by: Someone | None,
        phase: int | None = None,
        status: Status | None = None,
        overdue: bool | None = None,
        coordinator: str | None = None,
        limit: int = 50,
        offset: int = 0,
        active: bool = False,
        keep_urgent: bool = False,
    ) -> CaseloadOut:
        """`active`: closed files left out; `keep_urgent`: a girl who ran away or is out
        of view is kept whatever the other filters say."""
        day = today.isoformat()
        scope, scope_params = _equal(organisation=organisation, coordinator=coordinator)
        if seen_by is not None:  # her girls only, in the page and in every count of it
            related, related_params = related_filter(seen_by, "c.trajectory_id")
            scope.append(related)
            scope_params += related_params
        chosen, chosen_params = _equal(phase=phase, status=status)
        if active:
            chosen.append("c.status <> 'closed'")
        where = list(scope)
        filters = [*scope_params]
        urgent_q = "(q.open_runaway_since IS NOT NULL OR q.out_of_view = 1)"
        if chosen and keep_urgent:
            missing = out_of_view_clause("c.trajectory_id")
            urgent_c = f"(c.open_runaway_since IS NOT NULL OR {missing})"
            where.append(f"(({' AND '.join(chosen)}) OR {urgent_c})")
            filters += [*chosen_params, day]
        else:
            where += chosen
            filters += chosen_params
        params = [day, day, *filters]
        inner = (
            "SELECT c.*, (SELECT COUNT(*) FROM caseload_attention a"
            " WHERE a.trajectory_id = c.trajectory_id AND a.due_on < ?) AS overdue,"
            f" {self.out_of_view_flag} AS out_of_view"
            f" FROM caseload c WHERE {' AND '.join(where)}"
        )
        outer = ""
        if overdue is True:
            outer = " WHERE (q.overdue > 0" + (f" OR {urgent_q})" if keep_urgent else ")")
        elif overdue is False:
            outer = " WHERE q.overdue = 0"
        # The total: without the overdue filter a plain count on the index (a window
        # count over the page's query takes twice the time of the whole page).
        count, count_params = (
            (f"SELECT COUNT(*) AS n FROM ({inner}) q{outer}", params)
            if outer
            else (f"SELECT COUNT(*) AS n FROM caseload c WHERE {' AND '.join(where)}", filters)
        )
        # One statement: the page, the total, and each row's attention items (as
        # "due_on=code,..."), read only for the rows of the page.
        page = f"SELECT q.* FROM ({inner}) q{outer} ORDER BY {self.order_by} LIMIT ? OFFSET ?"
        rows = self.db.fetchall(
            f"SELECT p.*, ({self.items_of_p}) AS items, ({self.team_of_p}) AS team,"
            f" ({count}) AS total_rows"
            f" FROM ({page}) p ORDER BY {self.order_by}",
            [*count_params, *params, limit, offset],
        )
        if rows:
            total = int(rows[0]["total_rows"])
        elif offset == 0:
            total = 0
        else:  # paged past the end: the total still counts
            found = self.db.fetchone(count, count_params)
            total = int(found["n"]) if found else 0
        return CaseloadOut(
            organisation=organisation,
            today=today,
            total=total,
            limit=limit,
            offset=offset,
            items=_items(rows, today),
        )


def _equal(**values: Any) -> tuple[list[str], list[Any]]:
    """`c.<column> = ?` for each value given (None: no condition), and the values."""
    given = [(column, value) for column, value in values.items() if value is not None]
    return [f"c.{column} = ?" for column, _ in given], [value for _, value in given]


def _items(rows: list[dict[str, Any]], today: date) -> list[CaseloadItemOut]:
    """The page's rows as output Structs, converted in one call (msgspec turns the ISO
    text into dates and the id into a UUID in C): a page of 50 costs a tenth of building
    each row and each item in Python."""
    today_text = today.isoformat()
    for r in rows:
        # "due_on=code" texts: ISO dates sort as text, so the items come out earliest
        # due first, then by code.
        attention = []
        for item in sorted(str(r["items"] or "").split(",")):
            due_on, _, code = item.partition("=")
            if code:
                attention.append({"code": code, "due_on": due_on, "overdue": due_on < today_text})
        r["attention"] = attention
        r["id"] = r["trajectory_id"]
        r["days_in_phase"] = max((today - date.fromisoformat(str(r["phase_entered_on"]))).days, 0)
    return msgspec.convert(rows, list[CaseloadItemOut], strict=False)


class PostgresCaseloadView(CaseloadView):
    items_of_p = (
        "SELECT string_agg(a.due_on || '=' || a.code, ',') FROM caseload_attention a"
        " WHERE a.trajectory_id = p.trajectory_id"
    )
    # PostgreSQL sorts NULL last in ascending order already; say so for readers of both.
    order_by = (
        "(open_runaway_since IS NULL), (status = 'closed'), (out_of_view = 0), overdue DESC,"
        " next_due_on ASC NULLS LAST,"
        " open_runaway_since, trajectory_id"
    )


def caseload_view(db: Database) -> CaseloadView:
    return PostgresCaseloadView(db) if db.dialect == "postgres" else CaseloadView(db)


def caseload(
    db: Database,
    organisation: str,
    today: date,
    *,
    seen_by: Someone | None,
    phase: int | None = None,
    status: Status | None = None,
    overdue: bool | None = None,
    coordinator: str | None = None,
    limit: int = 50,
    offset: int = 0,
    active: bool = False,
    keep_urgent: bool = False,
) -> CaseloadOut:
    """The organisation's trajectories `seen_by` has a relationship with (None: all of
    them), most urgent first, with the total for paging."""
    return caseload_view(db).caseload(
        organisation,
        today,
        seen_by=seen_by,
        phase=phase,
        status=status,
        overdue=overdue,
        coordinator=coordinator,
        limit=limit,
        offset=offset,
        active=active,
        keep_urgent=keep_urgent,
    )


# -- due items: the week and the agenda feed ------------------------------------------------------


class DueItemOut(msgspec.Struct, frozen=True, kw_only=True):
    """One attention item of one girl, as the week page and the agenda feed list it: the
    caseload's own rows, so that what is due is decided once (`protocol.attention`)."""

    trajectory_id: UUID
    code: str
    due_on: date
    overdue: bool
    status: Status
    phase: int


def due_items(
    db: Database,
    today: date,
    *,
    seen_by: Someone | None,
    until: date | None = None,
    organisation: str | None = None,
    coordinator: str | None = None,
    trajectory_ids: Collection[str] | None = None,
) -> list[DueItemOut]:
    """The attention items due on or before `until` (every one without it), earliest due
    first, of an organisation's girls, of one coordinator's, or of the girls given (an
    aftercare worker's, who may see no organisation as a whole), and of those only the
    girls `seen_by` has a relationship with. Overdue: due before `today`, as on the
    caseload."""
    where, params = _equal(organisation=organisation, coordinator=coordinator)
    if seen_by is not None:
        related, related_params = related_filter(seen_by, "c.trajectory_id")
        where.append(related)
        params += related_params
    if trajectory_ids is not None:
        ids = sorted(trajectory_ids)
        if not ids:
            return []
        where.append(f"c.trajectory_id IN ({', '.join('?' for _ in ids)})")
        params += ids
    if until is not None:
        where.append("a.due_on <= ?")
        params.append(until.isoformat())
    assert where, "due items of everyone are nobody's agenda"
    rows = db.fetchall(
        "SELECT a.trajectory_id, a.code, a.due_on, c.status, c.phase"
        " FROM caseload_attention a JOIN caseload c ON c.trajectory_id = a.trajectory_id"
        f" WHERE {' AND '.join(where)} ORDER BY a.due_on, a.code, a.trajectory_id",
        params,
    )
    day = today.isoformat()
    for r in rows:
        r["overdue"] = str(r["due_on"]) < day
    return msgspec.convert(rows, list[DueItemOut], strict=False)
