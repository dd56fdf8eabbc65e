"""The state of one trajectory, as folded from its events.

State is plain data (msgspec Structs) so that rules stay pure functions of it, snapshots
store it with its types intact, and projections can reuse it. Only event `apply`
methods change it; they assign and never check.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

from trajectory.aggregates.vocabulary import (
    ComenshaDecision,
    ConsentGiver,
    ContactLevel,
    ContactRisk,
    Destination,
    Level,
    PermissionKind,
    PlacementKind,
    RiskProfile,
    Setting,
    Status,
    TherapyMethod,
    VictimStatus,
)


class Evidence(msgspec.Struct, frozen=True, array_like=True):
    """An event (by position) that evidences a fact, and the day it happened.

    Stored as a pair, `[position, "YYYY-MM-DD"]`: a trajectory holds one for every fact
    that counts (a thousand signals, a thousand of these), and as pairs its snapshot is
    half the size and decodes in half the time of one with named fields."""

    position: int
    on: date


class Contact(msgspec.Struct, kw_only=True):
    contact_id: str
    role: str
    risk: ContactRisk
    level: ContactLevel = "none"


class OpenRunaway(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    since: date


class Handover(msgspec.Struct, kw_only=True):
    receiving_organisation: str | None = None
    receiving_worker: str | None = None
    prepared_on: date | None = None
    meeting_on: date | None = None
    accepted_on: date | None = None
    external: bool = False  # a receiver outside this installation
    contact_every_days: int | None = None  # agreed in the package; None: the protocol's


class Therapy(msgspec.Struct, kw_only=True):
    method: TherapyMethod
    started_on: date
    sessions: int = 0
    completed_on: date | None = None


class DestructionRequest(msgspec.Struct, kw_only=True):
    requested_on: date
    requested_by: ConsentGiver
    deadline: date
    status: Literal["pending", "granted", "refused"]


class TrajectoryState(msgspec.Struct, kw_only=True):
    """Everything the rules and the summary need, and nothing personal beyond the id."""

    organisation: str
    coordinator: str
    protocol_name: str
    protocol_version: str
    intake_date: date
    date_of_birth: date
    victim_status: VictimStatus
    risk_profiles: list[RiskProfile]
    setting: Setting
    status: Status = "in_care"
    phase: int = 1
    phase_entered_on: date | None = None
    permissions: dict[PermissionKind, Level] = msgspec.field(default_factory=dict)
    contacts: dict[str, Contact] = msgspec.field(default_factory=dict)
    # Criterion or attention code -> events that evidence it (removed when marked in error).
    evidence: dict[str, list[Evidence]] = msgspec.field(default_factory=dict)
    placement: PlacementKind | None = None
    comensha_decision: ComenshaDecision | None = None
    open_runaway: OpenRunaway | None = None
    runaway_count: int = 0
    last_runaway_ended_on: date | None = None
    therapy: Therapy | None = None
    handover: Handover = msgspec.field(default_factory=Handover)
    aftercare_started_on: date | None = None
    aftercare_ended_on: date | None = None
    closed_on: date | None = None
    destination: Destination | None = None
    # The day care ended without a warm handover (argued): out of view from then on.
    left_without_handover_on: date | None = None
    regressions: int = 0
    entries_in_error: list[int] = msgspec.field(default_factory=list)
    corrected_entries: list[int] = msgspec.field(default_factory=list)
    # her team and since when (TeamAssigned); the responsible coordinator's day
    # (CoordinatorAssigned; None: the coordinator who opened her file, since intake)
    team: str | None = None
    team_since: date | None = None
    coordinator_since: date | None = None
    research_consent: bool = False
    research_consent_by: ConsentGiver | None = None
    research_consent_since: date | None = None
    destruction: DestructionRequest | None = None

    def latest(self, code: str) -> date | None:
        """The most recent day on which `code` was evidenced, if ever."""
        items = self.evidence.get(code)
        return max(e.on for e in items) if items else None

    def has(self, code: str) -> bool:
        return bool(self.evidence.get(code))

    def add_evidence(self, code: str, position: int, on: date) -> None:
        self.evidence.setdefault(code, []).append(Evidence(position, on))

    def evidenced_positions(self) -> set[int]:
        return {e.position for items in self.evidence.values() for e in items}
