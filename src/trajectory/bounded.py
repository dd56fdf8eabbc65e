"""Bounded twins of stored value types, for what comes in over the wire.

The handover package is a stored type (its event): bounds on it would also apply when old
events are read back. What a caller sends is decoded into these subclasses instead, so the
aggregate and the events keep their plain types and a huge string is a 422. They live
below the API because the list of facts (`trajectory.facts`) names the body each route
and form decodes.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from trajectory import commands
from trajectory.aggregates.events.handover import (
    ExternalReceiver,
    HandoverPackage,
    HandoverParty,
    WithoutHandover,
)
from trajectory.commands import Short, Text


class HandoverPackageIn(HandoverPackage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sexual_development: Text
    loverboy_problem: Text
    safety_plan: Text
    agreements: Text
    aftercare_plan: Text
    contact_every_days: Annotated[int, msgspec.Meta(ge=1, le=365)] | None = None


class HandoverPartyIn(HandoverParty, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    organisation: Text = ""
    contact: Text = ""


class ExternalReceiverIn(
    ExternalReceiver, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    organisation: Short
    worker: Short
    contact: Short


class WithoutHandoverIn(WithoutHandover, frozen=True, kw_only=True, forbid_unknown_fields=True):
    argument: Text


class PrepareHandover(commands.PrepareHandover, kw_only=True, forbid_unknown_fields=True):
    """Prepare the warm handover to the receiving organisation and worker."""

    package: HandoverPackageIn
    external_receiver: ExternalReceiverIn | None = None
    parties: Annotated[tuple[HandoverPartyIn, ...], msgspec.Meta(max_length=20)] = ()


class StartAftercare(commands.StartAftercare, kw_only=True, forbid_unknown_fields=True):
    """End residential care and start aftercare."""

    without_handover: WithoutHandoverIn | None = None


class CloseTrajectory(commands.CloseTrajectory, kw_only=True, forbid_unknown_fields=True):
    """Close the trajectory."""

    without_handover: WithoutHandoverIn | None = None
