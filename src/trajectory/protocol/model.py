"""The shape of a protocol file, as msgspec Structs (decoded from TOML by the loader)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from trajectory.aggregates.vocabulary import ContactLevel, Level, PermissionKind, Setting

Criterion = Literal[
    "safety-analysis",
    "medical-assessment",
    "care-analysis",
    "treatment-plan",
    "placement",
    "education",
    "no-open-runaway",
    "min-days-in-phase",
    "trauma-therapy",
    "family-involvement",
    "care-analysis-current",
    "comensha-decision",
    "handover-prepared",
    "handover-meeting",
    "handover-accepted",
    # After a runaway ends: a medical assessment and a new safety analysis since her return.
    # Always criteria of every phase advance and of the end of care, whatever a protocol
    # file says (`rules.criteria_for`).
    "medical-after-runaway",
    "safety-after-runaway",
]
NetworkRisk = Literal["safe", "unknown", "risky"]
Days = Annotated[int, msgspec.Meta(ge=0, le=3650)]


class ProtocolInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    version: Annotated[str, msgspec.Meta(min_length=1)]
    description: str = ""
    # The intake settings this protocol is for: a girl taken in with one of them is opened
    # under it (`registry.ProtocolRegistry.for_setting`). Empty: the installation's
    # current protocol, for every setting no other protocol names.
    settings: tuple[Setting, ...] = ()


class Phase(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    number: Annotated[int, msgspec.Meta(ge=1, le=20)]
    name: Annotated[str, msgspec.Meta(min_length=1)]
    label: str
    caps: dict[PermissionKind, Level]
    network: dict[NetworkRisk, ContactLevel]
    entry_criteria: tuple[Criterion, ...] = ()
    min_days_in_previous_phase: Days = 0


class Aftercare(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    entry_criteria: tuple[Criterion, ...] = ()


class Attention(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    safety_analysis_within_days: Days = 7
    education_within_days: Days = 7
    comensha_decision_within_days: Days = 30
    care_analysis_first_within_days: Days = 42
    care_analysis_interval_days: Days = 91
    after_runaway_within_days: Days = 2
    aftercare_contact_interval_days: Days = 28
    handover_acceptance_within_days: Days = 14
    # Out of view after this many aftercare contact attempts that did not reach her, or
    # when the first of them is this many days old.
    aftercare_failed_attempts: Annotated[int, msgspec.Meta(ge=1, le=50)] = 3
    aftercare_unreached_days: Days = 14
    # The attention item for the continuation after 18 opens this many days before.
    turns_18_notice_days: Days = 183


class Retention(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How long a file is kept after care ends (Dutch law since 2020: 20 years)."""

    years_after_care: Annotated[int, msgspec.Meta(ge=1, le=115)] = 20


class FollowUp(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """When her outcomes are measured (effectmeting): at these months after residential
    care ended (0: at its end), each due within `within_days` of its moment. A protocol
    without the table measures at the end of care and 6, 12 and 24 months after."""

    months_after_care: Annotated[
        tuple[Annotated[int, msgspec.Meta(ge=0, le=240)], ...], msgspec.Meta(max_length=24)
    ] = (0, 6, 12, 24)
    within_days: Days = 30


class Protocol(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A whole protocol. Phases are numbered 1..n in order; aftercare follows the last."""

    protocol: ProtocolInfo
    phase: tuple[Phase, ...]
    aftercare: Aftercare = Aftercare()
    attention: Attention = Attention()
    retention: Retention = Retention()
    follow_up: FollowUp = FollowUp()

    @property
    def name(self) -> str:
        return self.protocol.name

    @property
    def version(self) -> str:
        return self.protocol.version

    @property
    def last_phase(self) -> int:
        return len(self.phase)

    def phase_spec(self, number: int) -> Phase:
        return self.phase[number - 1]
