"""Education from day one and the future living situation, leisure included (core
element 12)."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import LeisureKind


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


class LeisureArranged(TrajectoryEvent):
    """A leisure activity was arranged (vrijetijdsbesteding).

    The element of education and the future living situation asks for adequate leisure
    too; `supervised`: an adult supervises it."""

    kind: LeisureKind
    activity: str
    supervised: bool
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("leisure", position, self.occurred_on)
