"""Police and chain cooperation (3, 15), the CoMensha registration decision (4) and the
report itself: sent to CoMensha, and acknowledged by CoMensha.

The decision says whether and how she is to be registered (register unless); the report is
the act: only a report sent makes her a registered victim in the national figures. They are
separate facts because they happen on separate days, and a decision to register that was
never carried out is exactly what the national rapporteur's under-reporting is made of."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import ComenshaDecision, ComenshaSender, ConsentGiver


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


COMENSHA_REPORT_SENT = "comensha-report-sent"
COMENSHA_REPORT_ACKNOWLEDGED = "comensha-report-acknowledged"


class ComenshaReportSent(TrajectoryEvent):
    """She was reported to CoMensha, the national coordination centre, as a victim.

    On `occurred_on`, by the person who records it (`recorded_by`), in the role `sent_by`."""

    sent_by: ComenshaSender

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(COMENSHA_REPORT_SENT, position, self.occurred_on)


class ComenshaReportAcknowledged(TrajectoryEvent):
    """CoMensha acknowledged the report sent to it.

    On `occurred_on`, under its own `reference` (kept in the event, sealed with it like
    free text; no read model copies it)."""

    reference: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(COMENSHA_REPORT_ACKNOWLEDGED, position, self.occurred_on)
