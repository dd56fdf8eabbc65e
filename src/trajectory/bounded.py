"""Bounded twins of stored value types, for what comes in over the wire.

The handover package is a stored type (its event): bounds on it would also apply when old
events are read back. What a caller sends is decoded into these subclasses instead, so the
aggregate and the events keep their plain types and a huge string is a 422. They live
below the API because the list of facts (`trajectory.facts`) names the body each route
and form decodes.
"""

from __future__ import annotations

from trajectory import commands
from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.commands import Text


class HandoverPackageIn(HandoverPackage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sexual_development: Text
    loverboy_problem: Text
    safety_plan: Text
    agreements: Text
    aftercare_plan: Text


class PrepareHandover(commands.PrepareHandover, kw_only=True, forbid_unknown_fields=True):
    """Prepare the warm handover to the receiving organisation and worker."""

    package: HandoverPackageIn
