"""Can two projects' exports of one store be linked? The check each export runs.

Two projects get their own pseudonyms (of girls and of organisations), so they cannot be
joined on a key. An attacker holding both can still match girls on what both files
show: the values of every column both projects received, and the timeline (the weekly
states, which spells, sequences, events and the day counts all give back). A girl whose
values of the shared columns are unique in the export is linked.

So every export compares its declaration with every other project of the store
(`shared`): the columns both may receive (`trajectories.<column>`, `events.<column>`),
`events` (her events: which, when, in what order) when both receive events.csv,
`follow_ups` and `scores` (her rows, whole) when both receive those files, and
`timeline` when both receive any of spells, sequences, events or a day count. It counts
the girls whose values of the shared columns are unique (`girls_linkable`, conservative:
an organisation's pseudonym counts as matched, as an attacker can pair organisations by
their numbers of girls). More than `MAX_LINKABLE_PERCENT` fails the export.

What it does not see: a column that can be computed from other columns that are not
named alike (a count from a set, a state from a day count), beyond the timeline. That
risk remains, and is written in the codebook: declare only what the question needs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

import msgspec

from trajectory.research.coding import Value
from trajectory.research.projects import ALWAYS, Declaration

MAX_LINKABLE_PERCENT = 10

TIMELINE = "timeline"
EVENTS = "events"
OUTCOME_FILES = ("follow_ups", "scores")
"""Whole files compared row by row (her follow-up records and their scores)."""
TIMELINE_COLUMNS = frozenset({
    "observed_days", "runaway_days", "aftercare_days", "censored", "state_end",
    "status_end", "phase_end", "phases_reached", "events",
})
"""Columns of trajectories.csv that the timeline gives back (and `days_p<n>`)."""


class LinkageReport(msgspec.Struct, kw_only=True):
    """One other project of the store, compared with this export."""

    project: str
    declared_files: list[str]
    declared_variables: list[str] | None
    """None: every variable of its files."""
    shared: list[str]
    girls_linkable: int
    linkable_percent: float
    passed: bool

    @property
    def declaration(self) -> Declaration:
        return Declaration(tuple(self.declared_files), None if self.declared_variables is None
                           else tuple(self.declared_variables))


def _timeline_column(column: str) -> bool:
    return column in TIMELINE_COLUMNS or column.startswith("days_p")


def published(declaration: Declaration, header: dict[str, Sequence[str]]) -> set[str]:
    """What a declaration publishes, as linkage sees it: columns and the two families."""
    found: set[str] = set()
    for table, columns in header.items():
        if table not in declaration.files:
            continue
        if table in ("spells", "sequences"):
            found.add(TIMELINE)
            continue
        if table in OUTCOME_FILES:
            found.add(table)
            continue
        if table == "events":
            found |= {TIMELINE, EVENTS}
        for column in columns:
            if column in ALWAYS.get(table, frozenset()) or not declaration.keeps(table, column):
                continue
            if table == "trajectories" and _timeline_column(column):
                found.add(TIMELINE)
            else:
                found.add(f"{table}.{column}")
    return found


class LinkageCheck:
    """Fingerprints every girl on what she shares with each other project, as her rows
    are written; then counts the unique ones."""

    def __init__(self, mine: Declaration, others: Sequence[tuple[str, Declaration]],
                 header: dict[str, Sequence[str]]):
        own = published(mine, header)
        self.others = [(name, d, sorted(own & published(d, header))) for name, d in others]
        self.header = {t: {c: i for i, c in enumerate(cs)} for t, cs in header.items()}
        self.prints: list[Counter[bytes]] = [Counter() for _ in self.others]
        self.girls = 0

    def add(self, trajectory_row: Sequence[Value], event_rows: Sequence[Sequence[Value]],
            weeks: Sequence[str],
            outcome_rows: dict[str, Sequence[Sequence[Value]]] | None = None) -> None:
        """One girl's published rows (before any column is left out for the project);
        `outcome_rows`: her rows of follow_ups.csv and scores.csv."""
        self.girls += 1
        for (_name, _d, shared), prints in zip(self.others, self.prints, strict=True):
            if not shared:
                continue
            sha = hashlib.blake2b(digest_size=16)
            for item in shared:
                sha.update(item.encode() + b"\x00")
                if item == TIMELINE:
                    sha.update("|".join(weeks).encode())
                elif item in OUTCOME_FILES:
                    sha.update(repr((outcome_rows or {}).get(item, [])).encode())
                elif item == EVENTS:
                    ev = self.header["events"]
                    for row in event_rows:
                        sha.update(repr([row[ev[c]] for c in ("seq", "event", "day",
                                                               "in_error")]).encode())
                else:
                    table, _, column = item.partition(".")
                    if table == "trajectories":
                        sha.update(repr(trajectory_row[self.header[table][column]]).encode())
                    else:
                        i = self.header[table][column]
                        sha.update(repr([row[i] for row in event_rows]).encode())
                sha.update(b"\x01")
            prints[sha.digest()] += 1

    def reports(self) -> list[LinkageReport]:
        out = []
        for (name, d, shared), prints in zip(self.others, self.prints, strict=True):
            unique = sum(1 for n in prints.values() if n == 1) if shared else 0
            percent = round(100 * unique / self.girls, 2) if self.girls else 0.0
            out.append(LinkageReport(
                project=name, declared_files=list(d.files),
                declared_variables=None if d.variables is None else list(d.variables),
                shared=shared, girls_linkable=unique, linkable_percent=percent,
                passed=percent <= MAX_LINKABLE_PERCENT,
            ))
        return out
