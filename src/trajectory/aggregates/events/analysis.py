"""Problem, risk, needs and strengths analysis (core element 7), the plan, and placement."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import PlacementKind


class CareAnalysisRecorded(TrajectoryEvent):
    """A multidisciplinary care analysis was made; it is repeated every few months."""

    disciplines: tuple[str, ...]
    abuse_circumstances: str
    abuse_nature: str
    abuse_frequency: str
    upper_problems: str
    underlying_problems: str
    education_history: str
    risky_contacts_and_places: str
    strengths: str
    needs: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("care-analysis", position, self.occurred_on)


class TreatmentPlanSet(TrajectoryEvent):
    """A tailored treatment plan was set, following from the care analysis."""

    goals: tuple[str, ...]
    summary: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("treatment-plan", position, self.occurred_on)


class PlacementDecided(TrajectoryEvent):
    """Where she is placed; anything but a homogeneous girls' group carries an argument."""

    kind: PlacementKind
    region: str
    argument: str | None

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.placement = self.kind
        state.add_evidence("placement", position, self.occurred_on)
