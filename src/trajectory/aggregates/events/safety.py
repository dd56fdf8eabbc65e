"""Safety first (core element 5) and acute medical care (core element 6)."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    MedicalNeed,
    RiskLevel,
    SafetyLevel,
    SafetyMeasure,
    SafetyRisk,
)


class SafetyAnalysisRecorded(TrajectoryEvent):
    """A structured safety analysis was made under the coordinator's responsibility."""

    instrument: str
    physical_safety: SafetyLevel
    experienced_safety: SafetyLevel
    risks: tuple[SafetyRisk, ...]
    runaway_risk: RiskLevel
    measures: tuple[SafetyMeasure, ...]
    police_involved: bool
    notes: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("safety-analysis", position, self.occurred_on)


class MedicalCareAssessed(TrajectoryEvent):
    """Acute medical needs were assessed (also after a runaway), and by whom."""

    needs: tuple[MedicalNeed, ...]
    provider: str
    notes: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("medical-assessment", position, self.occurred_on)
