"""Wire schemas of answers that are not read models of their own."""

from __future__ import annotations

from uuid import UUID

import msgspec

from trajectory import commands
from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.aggregates.events.intake import Identity
from trajectory.commands import Short, Text


class RecordedOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A write's answer: the trajectory, its new version, the new positions in its history."""

    id: UUID
    version: int
    positions: list[int] = []
    contact_id: str | None = None








class AccessEntryOut(msgspec.Struct, kw_only=True):
    entry_id: int
    at: str
    user_id: str | None
    on_behalf_of: str | None
    role: str | None
    organisation: str | None
    client: str | None
    action: str
    trajectory_id: str | None
    outcome: str
    request_id: str | None


class ProjectionLagOut(msgspec.Struct, kw_only=True):
    name: str
    position: int
    lag: int


class HealthOut(msgspec.Struct, kw_only=True):
    status: str
    store: str
    version: str
    projections: list[ProjectionLagOut] = []


# -- bounded bodies ------------------------------------------------------------------------
# The identity and the handover package are stored types (events): bounds on them would
# also apply when old events are read back. The wire takes subclasses with the bounds, so
# the aggregate and the events keep their plain types and a huge string is a 422.
class IdentityIn(Identity, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    home_region: Short


class HandoverPackageIn(HandoverPackage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sexual_development: Text
    loverboy_problem: Text
    safety_plan: Text
    agreements: Text
    aftercare_plan: Text


class OpenTrajectory(commands.OpenTrajectory, kw_only=True, forbid_unknown_fields=True):
    """Intake: open a trajectory. Organisation and coordinator come from the caller."""

    identity: IdentityIn


class PrepareHandover(commands.PrepareHandover, kw_only=True, forbid_unknown_fields=True):
    """Prepare the warm handover to the receiving organisation and worker."""

    package: HandoverPackageIn
