"""Parents and the social network (core elements 3 and 8): contacts, risks, restoration."""

from __future__ import annotations

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import Contact, TrajectoryState
from trajectory.aggregates.vocabulary import ContactLevel, ContactRisk, FamilyInvolvementForm


class NetworkContactRegistered(TrajectoryEvent):
    """A person in her network was registered with a role and a risk; no contact yet."""

    contact_id: str
    role: str
    risk: ContactRisk
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.contacts[self.contact_id] = Contact(
            contact_id=self.contact_id, role=self.role, risk=self.risk
        )
        state.add_evidence("network-analysis", position, self.occurred_on)


class NetworkContactRiskAssessed(TrajectoryEvent):
    """The risk a contact poses was (re)assessed."""

    contact_id: str
    risk: ContactRisk
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.contacts[self.contact_id].risk = self.risk


class NetworkContactRestored(TrajectoryEvent):
    """Contact with a network member was allowed again, supervised or unsupervised."""

    contact_id: str
    level: ContactLevel
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.contacts[self.contact_id].level = self.level


class NetworkContactRestricted(TrajectoryEvent):
    """Contact with a network member was lowered or cut off."""

    contact_id: str
    level: ContactLevel
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.contacts[self.contact_id].level = self.level


class FamilyInvolvementRecorded(TrajectoryEvent):
    """Parents or network were involved (meeting, system therapy, counselling)."""

    form: FamilyInvolvementForm
    participants: tuple[str, ...]
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("family-involvement", position, self.occurred_on)
