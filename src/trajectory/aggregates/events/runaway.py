"""Running away (onttrekking) and return."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import OpenRunaway, TrajectoryState
from trajectory.aggregates.vocabulary import RunawayEnding


class RunawayReported(TrajectoryEvent):
    """She ran away: from where, suspected to where, with whom, how; police informed."""

    from_where: str
    suspected_destination: str
    suspected_with: str
    how: str
    police_forces_informed: tuple[str, ...]
    home_region_police_informed: bool

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.open_runaway = OpenRunaway(position=position, since=self.occurred_on)
        state.runaway_count += 1


class RunawayEnded(TrajectoryEvent):
    """She came back or was found; medical care and a new safety analysis become due."""

    ending: RunawayEnding
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.open_runaway = None
        state.last_runaway_ended_on = self.occurred_on
