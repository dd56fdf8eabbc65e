"""What an inspector reads: every organisation's figures side by side, never a girl.

Per organisation, on a day: how many girls were taken in, the core-element matrix's
totals per element and status, the quality signals of a period, how many girls are out
of view today and why, and the organisation-level elements 1 and 9 with its open and
overdue improvement actions. Counts of girls are suppressed below `SMALL` (shown as
"<5", zero too: an inspector compares organisations, she needs no exact small number);
where a row of counts adds up to a published total and only one cell of it is
suppressed, the smallest other cell is suppressed with it, so that the one cannot be
worked out by subtraction. Improvement actions are the organisation's own acts, not
girls: they are shown as counted.

No ids, no names, no free text of a trajectory: organisations are named, girls never.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

import msgspec

from trajectory.organisation.elements import open_actions, organisation_elements
from trajectory.organisation.store import OrganisationStore
from trajectory.persistence.database import Database
from trajectory.projections.core_elements import ELEMENT_STATUSES, ELEMENTS, matrix, signals
from trajectory.projections.out_of_view import out_of_view_counts

SMALL = 5
"""Counts of girls under this are shown as `SUPPRESSED`."""
SUPPRESSED: Literal["<5"] = "<5"

Count = int | Literal["<5"]


def suppressed(n: int) -> Count:
    """A count of girls as an inspector reads it."""
    return SUPPRESSED if n < SMALL else n


def suppress_row(counts: Mapping[str, int], total: int) -> dict[str, Count]:
    """A row of counts that adds up to `total`: each small cell suppressed; when the total
    is published and just one cell is, the smallest published other is suppressed too."""
    out: dict[str, Count] = {k: suppressed(v) for k, v in counts.items()}
    hidden = [k for k, v in out.items() if v == SUPPRESSED]
    if total >= SMALL and len(hidden) == 1:
        shown = sorted((v, k) for k, v in counts.items() if k not in hidden)
        if shown:
            out[shown[0][1]] = SUPPRESSED
    return out


class ElementFiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    """One core element's statuses over the organisation's girls (suppressed)."""

    element: int
    name: str
    evidenced: Count
    waived: Count
    due: Count
    missing: Count
    not_applicable: Count


class OrganisationElementFiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    element: int
    status: Literal["evidenced", "missing"]
    missing: list[str]


class OrganisationFiguresOut(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    girls: Count
    """Girls taken in by the day asked for."""
    elements: list[ElementFiguresOut]
    organisation_elements: list[OrganisationElementFiguresOut]
    signals: dict[str, Count]
    """The period's quality signals by kind (counts of signals, suppressed alike)."""
    out_of_view: Count
    out_of_view_by_reason: dict[str, Count]
    improvement_actions_open: int
    improvement_actions_overdue: int


class InspectionOut(msgspec.Struct, frozen=True, kw_only=True):
    as_of: date
    from_month: str
    to_month: str
    small_cell: int
    organisations: list[OrganisationFiguresOut]


def twelve_months_to(last: str) -> str:
    """The first of the twelve months that end with `last` ('YYYY-MM')."""
    year, month = int(last[:4]), int(last[5:7]) - 11
    if month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def organisations(db: Database) -> list[str]:
    """Every organisation with a girl in the store or a stream of its own duties."""
    rows = db.fetchall(
        "SELECT organisation FROM trajectory_index UNION SELECT organisation"
        " FROM organisation_index"
    )
    return sorted({str(r["organisation"]) for r in rows})


def organisation_figures(
    db: Database, organisation: str, as_of: date, from_month: str, to_month: str, today: date
) -> OrganisationFiguresOut:
    out = matrix(db, organisation, as_of)
    girls = len(out.trajectories)
    elements = []
    for counts in out.totals:
        row = suppress_row({s: int(getattr(counts, s)) for s in ELEMENT_STATUSES}, girls)
        elements.append(ElementFiguresOut(element=counts.element, name=ELEMENTS[counts.element],
                                          **row))
    stream = OrganisationStore(db).load(organisation)
    state = stream.state if stream is not None else None
    duties = [
        OrganisationElementFiguresOut(
            element=e.element, status=e.status, missing=[str(m) for m in e.missing]
        )
        for e in organisation_elements(state, as_of)
    ]
    actions = open_actions(state, today)
    months = signals(db, organisation, from_month, to_month).months
    kinds = ("loverboy", "sexual_abuse", "boundary_crossing", "runaway_signals",
             "runaways_reported")
    signal_counts = {k: suppressed(sum(int(getattr(m, k)) for m in months)) for k in kinds}
    lost = out_of_view_counts(db, organisation, today)
    return OrganisationFiguresOut(
        organisation=organisation,
        girls=suppressed(girls),
        elements=elements,
        organisation_elements=duties,
        signals=signal_counts,
        out_of_view=suppressed(lost.girls),
        out_of_view_by_reason={str(k): suppressed(v) for k, v in lost.by_reason.items()},
        improvement_actions_open=len(actions),
        improvement_actions_overdue=sum(1 for a in actions if a.overdue),
    )


def inspection(
    db: Database, as_of: date, from_month: str, to_month: str, today: date
) -> InspectionOut:
    """Every organisation's figures (months 'YYYY-MM', `from_month` to `to_month`)."""
    return InspectionOut(
        as_of=as_of,
        from_month=from_month,
        to_month=to_month,
        small_cell=SMALL,
        organisations=[
            organisation_figures(db, org, as_of, from_month, to_month, today)
            for org in organisations(db)
        ],
    )
