"""The end of a trajectory, and corrections: later facts that point at earlier ones."""

from __future__ import annotations

from datetime import date

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import Evidence, TrajectoryState
from trajectory.aggregates.vocabulary import ClosureReason


class TrajectoryClosed(TrajectoryEvent):
    """The trajectory was closed; the file is kept for the legal retention period."""

    reason: ClosureReason
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.status = "closed"
        state.closed_on = self.occurred_on


class EntryCorrected(TrajectoryEvent):
    """An earlier entry (by position) was corrected; the original stays as it was."""

    position: int
    correction: str
    corrected_occurred_on: date | None

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.corrected_entries.append(self.position)
        if self.corrected_occurred_on is None:
            return
        for code, items in state.evidence.items():
            state.evidence[code] = [
                Evidence(e.position, self.corrected_occurred_on)
                if e.position == self.position
                else e
                for e in items
            ]


class EntryMarkedInError(TrajectoryEvent):
    """An earlier entry (by position) was recorded in error and no longer counts."""

    position: int
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.entries_in_error.append(self.position)
        starts = state.evidence.get("trauma-therapy", [])
        if starts and max(e.position for e in starts) == self.position:
            # The running therapy never started: without this, no real one could start.
            state.therapy = None
        for code, items in list(state.evidence.items()):
            kept = [e for e in items if e.position != self.position]
            if kept:
                state.evidence[code] = kept
            else:
                del state.evidence[code]
