"""Clear phases (core element 10): permissions, phase advances and regressions, caps."""

from __future__ import annotations

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import ContactLevel, Level, PermissionKind


class Waiver(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An entry criterion set aside for this girl, with the reason why."""

    criterion: str
    justification: str


class CappedPermission(msgspec.Struct, frozen=True, kw_only=True):
    kind: PermissionKind
    from_level: Level
    to_level: Level


class CappedContact(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    from_level: ContactLevel
    to_level: ContactLevel


class PermissionChanged(TrajectoryEvent):
    """A permission (internet, social media, phone, leave, contact with boys) was set."""

    kind: PermissionKind
    level: Level
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.permissions[self.kind] = self.level


class PhaseAdvanced(TrajectoryEvent):
    """She moved to the next phase under a protocol version; met and waived criteria kept."""

    from_phase: int
    to_phase: int
    reason: str
    protocol_name: str
    protocol_version: str
    criteria_met: tuple[str, ...]
    waivers: tuple[Waiver, ...]

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.phase = self.to_phase
        state.phase_entered_on = self.occurred_on


class PhaseRegressed(TrajectoryEvent):
    """She went back to a lower phase, for a reason."""

    from_phase: int
    to_phase: int
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.phase = self.to_phase
        state.phase_entered_on = self.occurred_on
        state.regressions += 1


class PermissionsCapped(TrajectoryEvent):
    """Permissions and contacts above the phase's caps were lowered automatically."""

    cause: str
    permissions: tuple[CappedPermission, ...]
    contacts: tuple[CappedContact, ...]

    def fold(self, state: TrajectoryState, position: int) -> None:
        for p in self.permissions:
            state.permissions[p.kind] = p.to_level
        for c in self.contacts:
            state.contacts[c.contact_id].level = c.to_level
