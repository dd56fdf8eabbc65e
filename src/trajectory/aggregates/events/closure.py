"""The end of a trajectory, and corrections: later facts that point at earlier ones."""

from __future__ import annotations

from datetime import date

from trajectory.aggregates import corrections
from trajectory.aggregates.corrections import Correction
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.handover import WithoutHandover
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import ClosureReason, Destination, EndReason


class TrajectoryClosed(TrajectoryEvent):
    """The trajectory was closed; the file is kept for the legal retention period."""

    reason: ClosureReason
    note: str
    # Added later: where she goes, who is responsible next, and (when care ended without a
    # warm handover) why not; she is then out of view for the organisation at once.
    destination: Destination | None = None
    responsible_next: str = ""
    without_handover: WithoutHandover | None = None
    # Added later: the checks after a runaway set aside at the end of care, justified.
    waivers: tuple[Waiver, ...] = ()
    # Added later (issue 20): the reason of ending in the categories of Beleidsinformatie
    # Jeugd (`trajectory.bij.codes`), given or mapped from the reason and destination.
    # None for a closure recorded before; the delivery maps those when it reads them.
    end_reason: EndReason | None = None

    def fold(self, state: TrajectoryState, position: int) -> None:
        if self.without_handover is not None and state.status == "in_care":
            state.left_without_handover_on = self.occurred_on
        state.status = "closed"
        state.closed_on = self.occurred_on
        if self.destination is not None:
            state.destination = self.destination


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
