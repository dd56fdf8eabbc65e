"""The correction rule, written once: what a later `EntryCorrected` or `EntryMarkedInError`
does to the earlier entry it points at (by its position in the trajectory).

Facts are never edited; a mistake is answered by a later fact:
- marked in error: the entry no longer counts, anywhere;
- corrected: the entry still counts; when the correction gives a day
  (`corrected_occurred_on`) the entry happened on that day, the latest correction of an
  entry winning; without one only its text was corrected.
Only an entry that evidences something and still counts can be corrected or marked in
error: not an intake, phase, permission or contact decision (a new decision answers
those), not a correction itself, not an entry already in error, not a later position.

Every reader takes the rule from here: the state (`fold`), the aggregate's refusal
(`check_correctable`), the history's "correct" links, the handover view, the read models
(core elements, victims) and the timelines of the web pages and of the research export.
Each correcting event says what it does as a `Correction` (its `corrects()`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.state import Evidence, TrajectoryState


@dataclass(frozen=True, slots=True)
class Correction:
    """What a correcting fact does to the entry at `position`: it no longer counts
    (`in_error`), or it happened on `occurred_on` instead, or (neither) only its text was
    corrected."""

    position: int
    in_error: bool = False
    occurred_on: date | None = None


class Entry(Protocol):
    """What the rule reads of an event (every `TrajectoryEvent` is one): named here, not
    imported, because the events name the rule in turn."""

    @property
    def originator_version(self) -> int: ...

    @property
    def occurred_on(self) -> date: ...

    def corrects(self) -> Correction | None: ...


def correctable_positions(state: TrajectoryState) -> set[int]:
    """The entries that may be corrected or marked in error now: those that evidence
    something and still count."""
    return state.evidenced_positions()


def check_correctable(state: TrajectoryState, position: int) -> None:
    if position not in correctable_positions(state):
        raise RuleRefused(
            f"entry {position} is not a fact that can be corrected here; intake, phase,"
            " permission and contact decisions are answered by a new decision",
            code="entry-not-correctable",
        )


def fold(state: TrajectoryState, correction: Correction) -> None:
    """The correction's effect on the state. Assign only: the aggregate checked it."""
    at = correction.position
    if correction.in_error:
        state.entries_in_error.append(at)
        starts = state.evidence.get("trauma-therapy", [])
        if starts and max(e.position for e in starts) == at:
            # The running therapy never started: without this, no real one could start.
            state.therapy = None
        for code, items in list(state.evidence.items()):
            kept = [e for e in items if e.position != at]
            if kept:
                state.evidence[code] = kept
            else:
                del state.evidence[code]
        return
    state.corrected_entries.append(at)
    day = correction.occurred_on
    if day is None:
        return
    for code, items in state.evidence.items():
        state.evidence[code] = [Evidence(at, day) if e.position == at else e for e in items]


class Corrections:
    """The corrections among a trajectory's events, read in their order: which entries no
    longer count, and on which day each entry with a corrected day happened."""

    __slots__ = ("days", "in_error")

    def __init__(self) -> None:
        self.in_error: set[int] = set()
        self.days: dict[int, date] = {}

    @classmethod
    def of(cls, events: Iterable[Entry]) -> Corrections:
        found = cls()
        for event in events:
            correction = event.corrects()
            if correction is not None:
                found.add(correction)
        return found

    def add(self, correction: Correction) -> None:
        if correction.in_error:
            self.in_error.add(correction.position)
        elif correction.occurred_on is not None:
            self.days[correction.position] = correction.occurred_on

    def counts(self, position: int) -> bool:
        """Whether the entry at `position` still counts (it was not marked in error)."""
        return position not in self.in_error

    def occurred_on(self, event: Entry) -> date:
        """The day the event happened, as last corrected."""
        return self.days.get(event.originator_version, event.occurred_on)
