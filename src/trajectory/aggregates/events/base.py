"""What every trajectory event carries: when it happened, who recorded it, the chain."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from trajectory.aggregates.corrections import Correction
    from trajectory.aggregates.state import TrajectoryState


class TrajectoryEvent(Aggregate.Event):
    """Base of all trajectory events.

    `occurred_on` is the Amsterdam calendar day the fact happened (may be in the past);
    `occurred_at` the moment, when the recorder gave one; `timestamp` (from the library)
    is when it was recorded, in UTC. `prev_hash` and `hash` form the hash chain.
    """

    occurred_on: date
    occurred_at: datetime | None
    recorded_by: str
    prev_hash: str
    hash: str

    def mutate(self, aggregate: Any) -> Any:
        aggregate = super().mutate(aggregate)
        aggregate.head_hash = self.hash
        return aggregate

    def apply(self, aggregate: Any) -> None:
        self.fold(aggregate.state, self.originator_version)

    def fold(self, state: TrajectoryState, position: int) -> None:
        """Change `state` to include this fact. Assign only: never check, never fail."""

    def corrects(self) -> Correction | None:
        """What this fact does to an earlier entry, when it corrects one (the rule is
        `trajectory.aggregates.corrections`); None for every other fact."""
        return None
