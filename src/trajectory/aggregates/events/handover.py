"""The warm handover (warme overdracht) and aftercare (core element 15)."""

from __future__ import annotations

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import Handover, TrajectoryState
from trajectory.aggregates.vocabulary import AftercareContactKind


class HandoverPackage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What travels with her at every transfer of care, as the action plan requires."""

    sexual_development: str
    loverboy_problem: str
    safety_plan: str
    agreements: str
    aftercare_plan: str


class HandoverPrepared(TrajectoryEvent):
    """The handover to the receiving organisation and worker was prepared."""

    receiving_organisation: str
    receiving_worker: str
    package: HandoverPackage

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.handover = Handover(
            receiving_organisation=self.receiving_organisation,
            receiving_worker=self.receiving_worker,
            prepared_on=self.occurred_on,
        )
        state.add_evidence("handover-prepared", position, self.occurred_on)


class HandoverMeetingHeld(TrajectoryEvent):
    """The warm handover meeting: the girl, the sending and the receiving worker present."""

    girl_present: bool
    sending_worker_present: bool
    receiving_worker_present: bool
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.handover.meeting_on = self.occurred_on
        state.add_evidence("handover-meeting", position, self.occurred_on)


class HandoverAccepted(TrajectoryEvent):
    """The receiving worker accepted the handover."""

    receiving_worker: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.handover.accepted_on = self.occurred_on
        state.add_evidence("handover-accepted", position, self.occurred_on)


class AftercareStarted(TrajectoryEvent):
    """Residential care ended and aftercare started, by the receiving worker."""

    plan: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.status = "aftercare"
        state.aftercare_started_on = self.occurred_on


class AftercareContactRecorded(TrajectoryEvent):
    """The aftercare worker was in contact with her, keeping her in view."""

    kind: AftercareContactKind
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("aftercare-contact", position, self.occurred_on)


class AftercareEnded(TrajectoryEvent):
    """Aftercare ended."""

    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.aftercare_ended_on = self.occurred_on
