"""Core elements 1 and 9 at organisation level, and the overdue improvement actions.

The evidence rules (pure functions of an organisation stream's state and a day `as_of`;
"the last 12 months" is the 365 days up to and including `as_of`, by the day each fact
happened). Each part missing is named by its code:

- Element 1, professionals know the problem, is evidenced on `as_of` when all of:
  training coverage, a basic loverboy training (`basic-training`) and a deepening for
  experts (`expert-training`), each followed in the last 12 months; an
  aandachtsfunctionaris appointed on or before `as_of` and not ended by then
  (`aandachtsfunctionaris`); a reflection session, intervisie, supervision or case
  reflection, in the last 12 months (`reflection`).
- Element 9, a positive pedagogical climate, is evidenced when the pedagogical climate
  was assessed in the last 12 months (`climate-assessment`).

An organisation that recorded nothing has both elements missing: they are no longer "not
applicable". `evidenced_on` is the day the last of the required facts happened (the day
the element became evidenced, within the window); `due_on` the day it stops being
evidenced unless something is recorded again (the oldest required fact turns 12 months).

An improvement action (of a signal analysis) is an attention item for the organisation's
quality staff from the analysis on until it is carried out; overdue once `due_on` has
passed without `ImprovementActionCompleted`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

import msgspec

from trajectory.organisation.state import OrganisationState

WINDOW = timedelta(days=365)
"""The last 12 months: a fact older than this no longer evidences an element."""

LASTING: frozenset[str] = frozenset({"aandachtsfunctionaris"})
"""Requirements met for as long as they last (an appointment), not for 12 months."""

OrgElementStatus = Literal["evidenced", "missing"]
Requirement = Literal[
    "basic-training", "expert-training", "aandachtsfunctionaris", "reflection",
    "climate-assessment",
]


class OrganisationElementOut(msgspec.Struct, frozen=True, kw_only=True):
    """One organisation-level core element on a day: its status, what is missing, and
    the positions in the organisation stream that evidence it."""

    element: int
    status: OrgElementStatus
    evidenced_on: date | None
    due_on: date | None
    missing: list[Requirement]
    positions: list[int]


class AttentionOut(msgspec.Struct, frozen=True, kw_only=True):
    """An open improvement action: the analysis (by position) it belongs to."""

    code: Literal["improvement-action"]
    analysis: int
    due_on: date
    overdue: bool


def _recent(days: Iterable[tuple[int, date]], as_of: date) -> list[tuple[int, date]]:
    return sorted(
        ((p, d) for p, d in days if as_of - WINDOW < d <= as_of), key=lambda x: (x[1], x[0])
    )


def _element(
    element: int, needs: dict[Requirement, list[tuple[int, date]]], as_of: date
) -> OrganisationElementOut:
    """The element from, per requirement, the facts (position, day) that meet it by
    `as_of`: evidenced when every requirement has one."""
    missing = [need for need, found in needs.items() if not found]
    if missing:
        return OrganisationElementOut(
            element=element, status="missing", evidenced_on=None, due_on=None,
            missing=missing, positions=[],
        )
    latest = {need: found[-1][1] for need, found in needs.items()}
    windowed = [day for need, day in latest.items() if need not in LASTING]
    return OrganisationElementOut(
        element=element,
        status="evidenced",
        evidenced_on=max(latest.values()),
        due_on=min(windowed) + WINDOW if windowed else None,
        missing=[],
        positions=sorted({p for found in needs.values() for p, _ in found}),
    )


def element_1(state: OrganisationState | None, as_of: date) -> OrganisationElementOut:
    """Professionals know the problem: trained (basic and deepening), an
    aandachtsfunctionaris in office, and reflection, in the last 12 months."""
    if state is None:
        return _element(1, {"basic-training": [], "expert-training": [],
                            "aandachtsfunctionaris": [], "reflection": []}, as_of)
    trainings = state.trainings
    in_office = [
        (a.position, a.from_on) for a in state.appointments
        if a.from_on <= as_of and (a.until_on is None or a.until_on > as_of)
    ]
    return _element(
        1,
        {
            "basic-training": _recent(
                ((t.position, t.on) for t in trainings if t.training == "basic"), as_of
            ),
            "expert-training": _recent(
                ((t.position, t.on) for t in trainings if t.training == "deepening"), as_of
            ),
            # An appointment counts as long as it lasts, not only its first 12 months.
            "aandachtsfunctionaris": sorted(in_office, key=lambda x: (x[1], x[0])),
            "reflection": _recent(((r.position, r.on) for r in state.reflections), as_of),
        },
        as_of,
    )


def element_9(state: OrganisationState | None, as_of: date) -> OrganisationElementOut:
    """A positive pedagogical climate: assessed in the last 12 months."""
    assessments = [] if state is None else [(c.position, c.on) for c in state.climate_assessments]
    return _element(9, {"climate-assessment": _recent(assessments, as_of)}, as_of)


def organisation_elements(
    state: OrganisationState | None, as_of: date
) -> list[OrganisationElementOut]:
    """Elements 1 and 9 of the organisation on `as_of`."""
    return [element_1(state, as_of), element_9(state, as_of)]


def open_actions(state: OrganisationState | None, today: date) -> list[AttentionOut]:
    """The improvement actions decided by `today` and not carried out, overdue first,
    then by due day."""
    if state is None:
        return []
    items = [
        AttentionOut(
            code="improvement-action", analysis=a.position, due_on=a.due_on,
            overdue=a.due_on < today,
        )
        for a in state.analyses.values()
        if a.done_on is None and a.analysed_on <= today
    ]
    return sorted(items, key=lambda i: (not i.overdue, i.due_on, i.analysis))
