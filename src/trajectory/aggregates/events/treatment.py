"""Trauma processing (11), self-worth (13) and healthy relationships (14)."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import Therapy, TrajectoryState
from trajectory.aggregates.vocabulary import InterventionKind, TherapyMethod


class TraumaTherapyStarted(TrajectoryEvent):
    """Trauma therapy started (EMDR, CBT, or another method with a reason)."""

    method: TherapyMethod
    provider: str
    reason: str | None

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.therapy = Therapy(method=self.method, started_on=self.occurred_on)
        state.add_evidence("trauma-therapy", position, self.occurred_on)


class TraumaTherapySessionHeld(TrajectoryEvent):
    """A trauma therapy session took place."""

    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        if state.therapy is not None:
            state.therapy.sessions += 1


class TraumaTherapyCompleted(TrajectoryEvent):
    """The trauma therapy was completed."""

    outcome: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        if state.therapy is not None:
            state.therapy.completed_on = self.occurred_on


class InterventionDelivered(TrajectoryEvent):
    """An intervention was delivered: resilience training, psycho-education, and so on."""

    kind: InterventionKind
    provider: str
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(f"intervention:{self.kind}", position, self.occurred_on)
