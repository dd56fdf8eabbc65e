"""Who is responsible for her: her team and her coordinator.

Recorded as facts with their dates, so that who had a relationship with her on any day can
be answered from her own history (`trajectory.visibility` reads the present from the
index). A fact dated earlier than the latest of its kind (typed in late) does not move
her: the latest by date is her team, and her coordinator.
"""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState


class TeamAssigned(TrajectoryEvent):
    """She was placed with a team of her organisation (by the team's id)."""

    team: str
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        if state.team_since is None or self.occurred_on >= state.team_since:
            state.team, state.team_since = self.team, self.occurred_on


class CoordinatorAssigned(TrajectoryEvent):
    """A coordinator of her organisation became responsible for her (by user id)."""

    coordinator: str
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        if state.coordinator_since is None or self.occurred_on >= state.coordinator_since:
            state.coordinator, state.coordinator_since = self.coordinator, self.occurred_on
