"""Consent for research use, and requests to destroy the file early (privacy law).

Consent is state, not a flag in another system: research extraction honours the consent
as it stood when the extraction ran. Withdrawal is a later fact, never an edit.
"""

from __future__ import annotations

from datetime import date

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import DestructionRequest, TrajectoryState
from trajectory.aggregates.vocabulary import ConsentGiver


class ResearchConsentGiven(TrajectoryEvent):
    """Consent for pseudonymised research use, by a parent, guardian or the girl (16+)."""

    given_by: ConsentGiver
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.research_consent = True
        state.research_consent_by = self.given_by
        state.research_consent_since = self.occurred_on


class ResearchConsentWithdrawn(TrajectoryEvent):
    """Consent for research use was withdrawn; later extractions leave her out."""

    withdrawn_by: ConsentGiver
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.research_consent = False
        state.research_consent_by = None
        state.research_consent_since = self.occurred_on


class DestructionRequested(TrajectoryEvent):
    """A request to destroy the file before the retention period ends, and its deadline."""

    requested_by: ConsentGiver
    deadline: date

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.destruction = DestructionRequest(
            requested_on=self.occurred_on,
            requested_by=self.requested_by,
            deadline=self.deadline,
            status="pending",
        )


class DestructionRequestDecided(TrajectoryEvent):
    """The request was granted, or refused because the law or another's interest forbids."""

    granted: bool
    argument: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        if state.destruction is not None:
            state.destruction.status = "granted" if self.granted else "refused"
