"""Signals recorded for the organisation's quality system."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import SignalKind


class SignalRecorded(TrajectoryEvent):
    """A signal of loverboy problems, sexual abuse or boundary-crossing behaviour."""

    kind: SignalKind
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(f"signal:{self.kind}", position, self.occurred_on)
