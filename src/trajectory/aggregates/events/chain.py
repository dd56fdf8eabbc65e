"""Police and chain cooperation (3, 15) and the CoMensha registration decision (4)."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import ComenshaDecision, ConsentGiver


class PoliceReportDiscussed(TrajectoryEvent):
    """Filing a police report (aangifte) was discussed with her."""

    outcome: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("police-report-discussed", position, self.occurred_on)


class PoliceReportFiled(TrajectoryEvent):
    """A police report was filed."""

    police_force: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("police-report-filed", position, self.occurred_on)


class CaseConferenceHeld(TrajectoryEvent):
    """A case conference with chain partners (justice, police, youth care) was held."""

    partners: tuple[str, ...]
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("case-conference", position, self.occurred_on)


class ComenshaRegistrationDecided(TrajectoryEvent):
    """Register unless: by name with consent, by date of birth only, or not (argued)."""

    decision: ComenshaDecision
    consent_by: ConsentGiver | None
    argument: str | None

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.comensha_decision = self.decision
        state.add_evidence("comensha-decision", position, self.occurred_on)
