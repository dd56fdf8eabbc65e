"""Wire schemas of answers that are not read models of their own."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from trajectory import commands
from trajectory.aggregates.events.intake import Identity
from trajectory.bounded import HandoverPackageIn as HandoverPackageIn  # named by the facts
from trajectory.bounded import PrepareHandover as PrepareHandover
from trajectory.commands import Short


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
    shown: list[str] = msgspec.field(default_factory=list)
    """The trajectories a list (the caseload page) showed in this one entry."""
    basis: Literal["relationship", "emergency", "refused"] = "relationship"
    """What the access stood on (`trajectory.access_report`): her professionals'
    relationship with her (an allowed act not under an emergency access), an emergency
    access (named in `emergency_access`, with its reason), or none: it was refused."""
    emergency_access: str | None = None
    emergency_reason: str | None = None
    """The emergency access's coded reason (crisis, runaway-at-night, police-request,
    other)."""
    emergency_explanation: str | None = None


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
# The identity is a stored type (an event's): bounds on it would also apply when old
# events are read back. The wire takes a subclass with the bounds, so the aggregate and
# the events keep their plain types and a huge string is a 422.
class IdentityIn(Identity, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    home_region: Short


class OpenTrajectory(commands.OpenTrajectory, kw_only=True, forbid_unknown_fields=True):
    """Intake: open a trajectory. Organisation and coordinator come from the caller."""

    identity: IdentityIn
