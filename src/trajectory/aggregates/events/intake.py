"""Intake: a trajectory is opened, and the girl's victim status may change later."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from eventsourcing.domain import Aggregate

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.handover import HandoverPackage
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    CareForm,
    ComenshaDecision,
    Nationality,
    Referrer,
    RiskProfile,
    Setting,
    Sex,
    SignalDiscipline,
    VictimStatus,
)


class Identity(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Who the girl is. Personal data: shown to her coordinators, never to research.

    A field added later has a default and is left out of the encoding at it (omit_defaults),
    so that an identity stored before it hashes as it did."""

    name: str
    date_of_birth: date
    home_region: str
    # Added later (issue 20): her citizen service number (BSN), for the CBS delivery and to
    # recognise a new start of the same girl; empty: not known. Encrypted with the rest of
    # her file; never logged, never in a research export (`trajectory.bij.rules`).
    bsn: Annotated[str, msgspec.Meta(max_length=40)] = ""


class EarlierCare(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Her care at the organisation that handed her over, summarised from its bundle (the
    bundle itself is kept beside her file, `trajectory.exchange.handover`): not her
    history event by event, but what the receiving coordinator starts from."""

    intake_date: date
    phase: int
    phase_name: str
    package: HandoverPackage
    comensha_decision: ComenshaDecision | None = None
    facts: int = 0
    open_attention: tuple[str, ...] = ()


class TrajectoryOpened(TrajectoryEvent, Aggregate.Created):
    """A girl was taken into care by an organisation; her trajectory starts in phase 1."""

    organisation: str
    coordinator: str
    referral_source: str
    legal_framework: str
    setting: Setting
    victim_status: VictimStatus
    risk_profiles: tuple[RiskProfile, ...]
    risk_assessment_instrument: str
    risk_assessment_result: str
    identity: Identity
    protocol_name: str
    protocol_version: str
    # Added later (the national rapporteur splits Dutch and foreign victims): an intake
    # stored before it reads back as "unknown", and hashes as it did.
    nationality: Nationality = "unknown"
    # Added later (issue 17): why she was taken in although a girl with the same name and
    # birth date was in care in the organisation; empty (and left out of the hash) when not.
    duplicate_reason: str = ""
    # Added later (issue 19): she came from another installation with a sealed handover
    # bundle: the sending organisation, the bundle's hash and her care there, summarised.
    # None (and left out of the hash) for every other intake.
    received_from: str | None = None
    received_bundle: str | None = None
    received_care: EarlierCare | None = None
    # Added later (issue 20, Beleidsinformatie Jeugd): her sex, the CBS code of her
    # municipality of residence, the referrer and the form of care in the protocol's
    # categories (`trajectory.bij.codes`), and whether care started in crisis. At their
    # defaults (not recorded) for every intake before, and left out of the hash there.
    sex: Sex = "unknown"
    municipality: str = ""
    referrer: Referrer | None = None
    care_form: CareForm | None = None
    started_in_crisis: bool = False

    def apply(self, aggregate: Any) -> None:
        aggregate.state = TrajectoryState(
            organisation=self.organisation,
            coordinator=self.coordinator,
            protocol_name=self.protocol_name,
            protocol_version=self.protocol_version,
            intake_date=self.occurred_on,
            date_of_birth=self.identity.date_of_birth,
            victim_status=self.victim_status,
            risk_profiles=list(self.risk_profiles),
            setting=self.setting,
            phase_entered_on=self.occurred_on,
            permissions=dict.fromkeys(PERMISSION_KINDS, "none"),
        )


class VictimStatusChanged(TrajectoryEvent):
    """New signals or findings changed the victim status (potential/suspected/confirmed)."""

    victim_status: VictimStatus
    reason: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.victim_status = self.victim_status


class SignalsInterpreted(TrajectoryEvent):
    """The signals were interpreted with other disciplines and discussed with her, or not.

    At intake or soon after, by her coordinator: with which disciplines, whether together
    (in one consultation) or one by one, and whether and on which day (`discussed_on`) the
    signals were discussed with her. Core elements 2 and 3."""

    disciplines: tuple[SignalDiscipline, ...]
    together: bool
    discussed_with_her: bool
    discussed_on: date | None
    note: str

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("signals-interpreted", position, self.occurred_on)


class YouthCareItemsRecorded(TrajectoryEvent):
    """The items of Beleidsinformatie Jeugd recorded or corrected after intake: her citizen
    service number (once known), sex, municipality, referrer, form of care, crisis. Only
    the items given count; the others stay as they were (`trajectory.bij.care`). Her
    number is kept here as in her identity: encrypted with her file, never exported."""

    bsn: str = ""
    sex: Sex | None = None
    municipality: str = ""
    referrer: Referrer | None = None
    care_form: CareForm | None = None
    started_in_crisis: bool | None = None
