"""Education from day one and the future living situation (core element 12)."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState


class EducationArranged(TrajectoryEvent):
    """School or training was arranged."""

    school: str
    level: str
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("education", position, self.occurred_on)


class EducationProgressRecorded(TrajectoryEvent):
    """Progress at school was recorded."""

    attending: bool
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("education-progress", position, self.occurred_on)


class QualificationObtained(TrajectoryEvent):
    """A diploma or basic qualification (startkwalificatie) was obtained."""

    qualification: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("qualification", position, self.occurred_on)
