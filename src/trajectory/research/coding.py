"""Which fields of an event may leave for research, and in what form.

Decided once, from each event class's type annotations, so that a new event or field is
coded by the same rules without anyone remembering to add it (and the codebook, made from
the same rules, changes with it):

- a `Literal` (a closed vocabulary) leaves as its code; a tuple of them as a set of codes
  joined by `|` in a fixed order;
- a `bool` leaves as 0/1; an `int` as itself;
- a `date` leaves as days since intake (`<field>_day`), never as a date;
- an optional text (`str | None`) leaves only as whether it was given (`<field>_given`);
- a tuple of texts or of structures leaves only as a count (`n_<field>`);
- every other text (notes, reasons, names, ids, regions, providers) and every structure
  (identity, handover package) never leaves.

Overrides (`_OVERRIDES`) name the few fields typed as text that hold codes of a closed
vocabulary (the phase protocol's criteria); their values are filtered through that
vocabulary, so a stray text becomes `other`. Quasi-identifiers of the girl (her risk
profiles and nationality at intake) are left out of the events table: her risk profiles
leave only through the trajectories table, under disclosure control; her nationality not
at all. Who gave (or withdrew, or asked for)
consent never leaves: the girl herself from 16, else a parent or guardian, it gives back
her age, and it answers no research question.

What must not change: a column's name, kind and meaning once published. Add columns.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal, get_args, get_origin

from trajectory.aggregates.events import (
    analysis,
    chain,
    closure,
    education,
    handover,
    intake,
    network,
    outcomes,
    phasing,
    privacy,
    quality,
    runaway,
    safety,
    teams,
    treatment,
)
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.vocabulary import ConsentGiver
from trajectory.protocol.model import Criterion

Kind = Literal["text", "code", "set", "int", "flag", "number"]
Value = str | int | float | None

# The catalogue order: the order of the areas in the design, then of the classes in each.
_AREAS = (
    intake, safety, analysis, network, phasing, treatment, education, runaway, chain,
    quality, handover, privacy, closure, outcomes,
    # who is responsible for her: the day her team or coordinator changed, never which
    teams,
)
# Fields every event carries: when, who, the chain. Day and sequence leave as their own
# columns; the rest never leaves.
_BASE_FIELDS = frozenset(
    {
        "originator_id", "originator_version", "originator_topic", "timestamp",
        "occurred_on", "occurred_at", "recorded_by", "prev_hash", "hash",
    }
)
# Quasi-identifiers: published only in trajectories.csv, under the k-anonymity check, or
# not at all (her nationality: the national figures count it, research does not get it).
_QUASI_IDENTIFIERS = frozenset(
    {("TrajectoryOpened", "risk_profiles"), ("TrajectoryOpened", "nationality"),
     ("TrajectoryOpened", "sex"), ("YouthCareItemsRecorded", "sex")}
)
CRITERIA: tuple[str, ...] = (*get_args(Criterion), "other")
"""The protocol's criterion codes; `other` for a value outside them."""


@dataclass(frozen=True)
class Column:
    """One published column: its name, kind, meaning and (for codes) its vocabulary."""

    name: str
    kind: Kind
    doc: str
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldCoder:
    """How one event field becomes one column's value."""

    column: Column
    field: str
    encode: Callable[[Any, date], Value]


def event_classes() -> list[type[TrajectoryEvent]]:
    """Every trajectory event class, in catalogue order."""
    found: list[type[TrajectoryEvent]] = []
    for module in _AREAS:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, TrajectoryEvent)
                and value is not TrajectoryEvent
                and value.__module__ == module.__name__
                and value not in found
            ):
                found.append(value)
    return found


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    if get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _literal_codes(hint: Any) -> tuple[str, ...] | None:
    if get_origin(hint) is Literal:
        return tuple(str(a) for a in get_args(hint))
    return None


def _join(values: Any, order: tuple[str, ...]) -> str:
    present = set(values)
    known = [c for c in order if c in present]
    if present - set(order) and "other" not in known:
        known.append("other")
    return "|".join(known)


def _joiner(order: tuple[str, ...]) -> Callable[[Any, date], Value]:
    def join(value: Any, intake_date: date) -> Value:
        return _join(value, order)

    return join


def _days(value: date | None, intake_date: date) -> int | None:
    return None if value is None else (value - intake_date).days


def _code(value: Any, intake_date: date) -> Value:
    return None if value is None else str(value)


def _flag(value: Any, intake_date: date) -> Value:
    return int(bool(value))


def _int(value: Any, intake_date: date) -> Value:
    return None if value is None else int(value)


def _given(value: Any, intake_date: date) -> Value:
    return int(value is not None and bool(str(value).strip()))


def _count(value: Any, intake_date: date) -> Value:
    return len(value)


def _coder(event: str, name: str, hint: Any) -> list[FieldCoder]:
    """The columns one field becomes (none for text and structures)."""
    override = _OVERRIDES.get((event, name))
    if override is not None:
        return override
    if (event, name) in _QUASI_IDENTIFIERS:
        return []
    inner, optional = _strip_optional(hint)
    if inner == ConsentGiver:  # who consented tells her age (the girl herself from 16)
        return []
    codes = _literal_codes(inner)
    if codes is not None:
        return [FieldCoder(Column(name, "code", "", codes), name, _code)]
    if inner is bool:
        return [FieldCoder(Column(name, "flag", ""), name, _flag)]
    if inner is int:
        return [FieldCoder(Column(name, "int", ""), name, _int)]
    if inner is date:
        return [FieldCoder(Column(f"{name}_day", "int", "days since intake"), name, _days)]
    if inner is str:
        if optional:
            return [FieldCoder(Column(f"{name}_given", "flag", "text given (1) or not (0)"),
                               name, _given)]
        return []
    if get_origin(inner) is tuple:
        (item, *_rest) = get_args(inner)
        item_codes = _literal_codes(item)
        if item_codes is not None:
            return [FieldCoder(Column(name, "set", "", item_codes), name, _joiner(item_codes))]
        return [FieldCoder(Column(f"n_{name}", "int", "how many"), name, _count)]
    return []


def _criteria(value: Any, intake_date: date) -> Value:
    return _join(value, CRITERIA)


def _waived(value: Any, intake_date: date) -> Value:
    return _join((w.criterion for w in value), CRITERIA)


_OVERRIDES: dict[tuple[str, str], list[FieldCoder]] = {
    ("PhaseAdvanced", "criteria_met"): [
        FieldCoder(Column("criteria_met", "set", "entry criteria met", CRITERIA),
                   "criteria_met", _criteria),
    ],
    ("PhaseAdvanced", "waivers"): [
        FieldCoder(Column("waived", "set", "entry criteria waived (justification stays"
                          " in the log)", CRITERIA), "waivers", _waived),
    ],
}


@cache
def coders(cls: type[TrajectoryEvent]) -> tuple[FieldCoder, ...]:
    """The coded fields of one event class, in declaration order."""
    hints = typing.get_type_hints(cls)
    out: list[FieldCoder] = []
    for f in dataclasses.fields(cls):
        if f.name in _BASE_FIELDS:
            continue
        out.extend(_coder(cls.__name__, f.name, hints[f.name]))
    return tuple(out)


def _merge(a: Column, b: Column) -> Column:
    if a.kind != b.kind:
        raise TypeError(f"column {a.name} is {a.kind} in one event and {b.kind} in another")
    codes = a.codes + tuple(c for c in b.codes if c not in a.codes)
    return Column(a.name, a.kind, a.doc or b.doc, codes)


@cache
def event_columns() -> tuple[Column, ...]:
    """The coded columns of events.csv: the union over all events, in catalogue order."""
    columns: dict[str, Column] = {}
    for cls in event_classes():
        for coder in coders(cls):
            name = coder.column.name
            columns[name] = _merge(columns[name], coder.column) if name in columns else (
                coder.column
            )
    return tuple(columns.values())


def filled_by() -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """Column name -> (event, field, codes) of every event that fills it (for the codebook)."""
    out: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    for cls in event_classes():
        for coder in coders(cls):
            out.setdefault(coder.column.name, []).append(
                (cls.__name__, coder.field, coder.column.codes)
            )
    return out


@cache
def _slots(cls: type[TrajectoryEvent]) -> tuple[tuple[int, FieldCoder], ...]:
    index = {c.name: i for i, c in enumerate(event_columns())}
    return tuple((index[c.column.name], c) for c in coders(cls))


def coded_values(event: TrajectoryEvent, intake_date: date) -> list[Value]:
    """One event's coded columns (None where the event has no such field)."""
    values: list[Value] = [None] * len(event_columns())
    fields = vars(event)
    for slot, coder in _slots(type(event)):
        values[slot] = coder.encode(fields[coder.field], intake_date)
    return values


def iter_excluded() -> Iterator[tuple[str, str]]:
    """(event, field) of every field that never leaves: for the codebook and the tests."""
    for cls in event_classes():
        coded = {c.field for c in coders(cls)}
        for f in dataclasses.fields(cls):
            if f.name not in _BASE_FIELDS and f.name not in coded:
                yield cls.__name__, f.name
