"""The warm handover (warme overdracht) and aftercare (core element 15)."""

from __future__ import annotations

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.phasing import Waiver
from trajectory.aggregates.state import Handover, TrajectoryState
from trajectory.aggregates.vocabulary import (
    AftercareContactKind,
    ComenshaDecision,
    ContactOutcome,
    ContinuationDecision,
    Destination,
    HandoverPartyRole,
    WithoutHandoverReason,
)


class HandoverPackage(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """What travels with her at every transfer of care, as the action plan requires.

    Fields added later have a default and are left out of the stored (and hashed) form
    while they hold it (`omit_defaults`), so packages stored before they existed read back
    and verify as they were."""

    sexual_development: str
    loverboy_problem: str
    safety_plan: str
    agreements: str
    aftercare_plan: str
    # How often the aftercare worker is in contact with her, as agreed (in days); None:
    # the protocol's default interval.
    contact_every_days: int | None = None


class HandoverParty(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Someone around her after the handover: a local youth team, the wijkagent, her
    school, a network member. Contact details are free text, encrypted with the event."""

    role: HandoverPartyRole
    name: str
    organisation: str = ""
    contact: str = ""


class ExternalReceiver(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A receiver outside this installation (another region's organisation, adult care):
    named, with a route to reach the worker; the printed package is what travels."""

    organisation: str
    worker: str
    contact: str


class HandoverPrepared(TrajectoryEvent):
    """The handover to the receiving organisation and worker was prepared."""

    receiving_organisation: str
    receiving_worker: str
    package: HandoverPackage
    # Added later (defaults: as stored before). The CoMensha decision as her record held it
    # when the handover was prepared (taken from the record, never retyped); a receiver
    # outside this installation (then `receiving_worker` is empty); the people around her.
    comensha_decision: ComenshaDecision | None = None
    external_receiver: ExternalReceiver | None = None
    parties: tuple[HandoverParty, ...] = ()

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.handover = Handover(
            receiving_organisation=self.receiving_organisation,
            receiving_worker=self.receiving_worker,
            prepared_on=self.occurred_on,
            external=self.external_receiver is not None,
            contact_every_days=self.package.contact_every_days,
        )
        # (Who sent her, `recorded_by`, is read from this event by the views: a new state
        # field set by an event class that was stored before would disagree with the
        # snapshots taken before it existed.)
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
    # Added later: for a receiver outside this installation, how she confirmed the
    # acceptance (recorded by the sending coordinator; `receiving_worker` is then empty).
    confirmation: str = ""

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.handover.accepted_on = self.occurred_on
        state.add_evidence("handover-accepted", position, self.occurred_on)


class HandoverExported(TrajectoryEvent):
    """The handover was sent to another installation as a sealed bundle: to whom (the
    receiving organisation, a registered partner), and the bundle's hash, by which the
    receiver's signed acknowledgement finds her again (`trajectory.exchange.handover`)."""

    to_organisation: str
    bundle_hash: str


class WithoutHandover(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Why care ended without a warm handover, argued."""

    reason: WithoutHandoverReason
    argument: str


class AftercareStarted(TrajectoryEvent):
    """Residential care ended and aftercare started, by the receiving worker."""

    plan: str
    # Added later: where she goes, and (when there was no warm handover) why not.
    destination: Destination | None = None
    without_handover: WithoutHandover | None = None
    # Added later: the checks after a runaway set aside at the end of care, justified.
    waivers: tuple[Waiver, ...] = ()

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.status = "aftercare"
        state.aftercare_started_on = self.occurred_on
        if self.destination is not None:
            state.destination = self.destination
        if self.without_handover is not None:
            state.left_without_handover_on = self.occurred_on


class AftercareContactRecorded(TrajectoryEvent):
    """The aftercare worker tried to reach her: only a contact that reached her keeps her
    in view ("aftercare-contact"); one that did not is evidence of the attempt."""

    kind: AftercareContactKind
    note: str
    # Added later: contacts stored before outcomes existed were recorded as contact made.
    outcome: ContactOutcome = "reached"

    def fold(self, state: TrajectoryState, position: int) -> None:
        code = "aftercare-contact" if self.outcome == "reached" else "aftercare-contact-failed"
        state.add_evidence(code, position, self.occurred_on)


class AftercareContactDetailsRecorded(TrajectoryEvent):
    """How the aftercare worker reaches her: phone, address, school or work. Personal data
    like her identity: encrypted with the event, gone with her key."""

    phone: str
    address: str
    school_or_work: str
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("aftercare-contact-details", position, self.occurred_on)


class ContinuationAfter18Decided(TrajectoryEvent):
    """What happens when she turns 18: extended youth care, adult care, aftercare by this
    organisation, or her own refusal (argued)."""

    decision: ContinuationDecision
    argument: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("continuation-after-18", position, self.occurred_on)


class AftercareEnded(TrajectoryEvent):
    """Aftercare ended."""

    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.aftercare_ended_on = self.occurred_on
