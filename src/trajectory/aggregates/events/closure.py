"""The end of a trajectory, and corrections: later facts that point at earlier ones."""

from __future__ import annotations

from datetime import date

from trajectory.aggregates import corrections
from trajectory.aggregates.corrections import Correction
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
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

    def corrects(self) -> Correction:
        return Correction(self.position, occurred_on=self.corrected_occurred_on)

    def fold(self, state: TrajectoryState, position: int) -> None:
        corrections.fold(state, self.corrects())


class EntryMarkedInError(TrajectoryEvent):
    """An earlier entry (by position) was recorded in error and no longer counts."""

    position: int
    reason: str

    def corrects(self) -> Correction:
        return Correction(self.position, in_error=True)

    def fold(self, state: TrajectoryState, position: int) -> None:
        corrections.fold(state, self.corrects())
