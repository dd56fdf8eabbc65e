"""Running away (onttrekking) and return."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import OpenRunaway, TrajectoryState
from trajectory.aggregates.vocabulary import RunawayEnding, RunawayInformed


class RunawayReported(TrajectoryEvent):
    """She ran away: from where, suspected to where, with whom, how; who was informed.

    Who: the police forces (the home region's too), and later added her parents, guardian,
    GI or others, with the police's report number and the time she was last seen."""

    from_where: str
    suspected_destination: str
    suspected_with: str
    how: str
    police_forces_informed: tuple[str, ...]
    home_region_police_informed: bool
    # Added later, with defaults (left out of the hash while they hold them): the time of
    # day she was last seen, the police's report number, and who was told.
    missing_since: str = ""
    police_report_number: str = ""
    informed: tuple[RunawayInformed, ...] = ()

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.open_runaway = OpenRunaway(position=position, since=self.occurred_on)
        state.runaway_count += 1


class RunawayEnded(TrajectoryEvent):
    """She came back or was found; medical care and a new safety analysis become due."""

    ending: RunawayEnding
    note: str
    returned_at: str = ""
    """The time of day she came back or was found (added later: empty, not known)."""

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.open_runaway = None
        state.last_runaway_ended_on = self.occurred_on
