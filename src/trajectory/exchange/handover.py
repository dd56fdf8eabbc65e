"""A warm handover between installations: what a bundle holds, its export, its import at
the receiving installation, and the acknowledgement that goes back.

The domain of the exchange; the command line and the pages only translate to it.

- **Export** (`Exchange.export`): from a trajectory the sender may write on, whose
  handover was prepared for the organisation it goes to (the aggregate's rule), the
  `HandoverBundle` (the package, who she is, phase and freedoms, her network with its
  risks, the safety analyses, the CoMensha decision and report, treatment, education,
  what is due, and the hash of every fact included) is sealed to that organisation's
  registered installation (`exchange.sealing`) and recorded as `HandoverExported` through
  the one write path, with the bundle's hash kept here (`exchange_exports`) so that the
  acknowledgement finds her again.
- **Import** (`Exchange.take_in`): a bundle is checked and opened (refused when changed,
  from an unregistered sender, addressed elsewhere, or taken in already) and opens her
  trajectory at the receiving organisation, `TrajectoryOpened` naming the sender and the
  bundle's hash and summarising her care there (`EarlierCare`); the file is kept as it
  came, encrypted to this installation, beside her file (`exchange_imports`) and deleted
  with her at erasure. An acknowledgement records `HandoverAccepted` on the sender's
  trajectory, found by the bundle's hash: she arrived, she is not out of view.
- **Acceptance** (`Exchange.acknowledge`): the receiving side signs that it accepted her.

What must not change: `BUNDLE_CONTENT` names the content's shape; a field is added with a
default, never renamed (an installation of an older version reads the bundle).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
import structlog

from trajectory.access_log import AccessEntry
from trajectory.aggregates import reasons
from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.errors import VersionConflict
from trajectory.aggregates.events import chain, education, handover, network, safety
from trajectory.aggregates.events import treatment as therapy
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.handover import (
    ExternalReceiver,
    HandoverPackage,
    HandoverParty,
    HandoverPrepared,
)
from trajectory.aggregates.events.intake import EarlierCare, Identity, TrajectoryOpened
from trajectory.aggregates.trajectory import Received
from trajectory.aggregates.vocabulary import (
    ComenshaDecision,
    ContactLevel,
    ContactRisk,
    Nationality,
    RiskProfile,
    Setting,
    VictimStatus,
)
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.commands import AcceptHandover, OpenTrajectory, RecordHandoverExport
from trajectory.exchange.keys import Partners, encryption_key
from trajectory.exchange.sealing import (
    ACKNOWLEDGEMENT_FORMAT,
    BUNDLE_FORMAT,
    Acknowledgement,
    Partner,
    SealRefused,
    kind_of,
    open_acknowledgement,
    open_bundle,
    seal_acknowledgement,
    seal_bundle,
)
from trajectory.persistence.database import Database, RowWrite, Transaction
from trajectory.persistence.schema import schema_is_someone_elses
from trajectory.protocol.attention import AttentionItem, attention_items
from trajectory.statistics.signing import SigningUnavailable, signing_key
from trajectory.visibility import visible_row
from trajectory.writing import Via, WritePath, Written

log = structlog.get_logger("trajectory.exchange")

BUNDLE_CONTENT = "trajectory-handover-content/1"
NO_VIA = Via()
"""An act with no client to name (a test, a script)."""

_TABLES = (
    """CREATE TABLE IF NOT EXISTS exchange_exports (
        bundle_hash TEXT PRIMARY KEY,
        trajectory_id TEXT NOT NULL,
        to_organisation TEXT NOT NULL,
        exported_at TEXT NOT NULL,
        acknowledged_at TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS exchange_imports (
        bundle_hash TEXT PRIMARY KEY,
        trajectory_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        bundle TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        acknowledged_at TEXT
    )""",
)

INCLUDED: tuple[type[TrajectoryEvent], ...] = (
    safety.SafetyAnalysisRecorded,
    network.NetworkContactRegistered, network.NetworkContactRiskAssessed,
    network.NetworkContactRestored, network.NetworkContactRestricted,
    network.FamilyInvolvementRecorded,
    chain.ComenshaRegistrationDecided, chain.ComenshaReportSent,
    therapy.TraumaTherapyStarted, therapy.TraumaTherapySessionHeld,
    therapy.TraumaTherapyCompleted, therapy.InterventionDelivered,
    education.EducationArranged, education.EducationProgressRecorded,
    education.QualificationObtained, education.LeisureArranged,
    handover.HandoverPrepared, handover.HandoverMeetingHeld,
)
"""The facts a bundle carries one by one, with their hashes: what the receiver needs
(safety, network, CoMensha, treatment, education, the handover). Not her whole file: no
notes of case conferences, no police reports, no CoMensha reference."""


class ExchangeRefused(Exception):
    """An export or import that is not done; `code` says why (the sealing's codes, and
    `partner-unknown`, `bundle-imported-already`, `bundle-unknown`, `not-received`,
    `addressed-to-another-organisation`, `exchange-unavailable`)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# -- what a bundle holds -----------------------------------------------------------------------


class IncludedFact(msgspec.Struct, kw_only=True):
    """One fact of her file, as recorded (its data as the history shows it)."""

    position: int
    type: str
    occurred_on: date
    data: dict[str, Any]


class ChainHead(msgspec.Struct, kw_only=True):
    """The hash a fact carries in the sender's chain: the receiver (or an inspector with
    the sender's store) can show that what she received is what was recorded."""

    position: int
    hash: str


class BundleContact(msgspec.Struct, kw_only=True):
    role: str
    risk: ContactRisk
    level: ContactLevel


class BundleHandover(msgspec.Struct, kw_only=True):
    receiving_organisation: str
    prepared_on: date
    package: HandoverPackage
    parties: tuple[HandoverParty, ...] = ()
    external_receiver: ExternalReceiver | None = None
    comensha_decision: ComenshaDecision | None = None
    meeting_on: date | None = None


class HandoverBundle(msgspec.Struct, kw_only=True):
    """The content of a sealed handover bundle."""

    format: str
    sender: str
    sent_on: date
    identity: Identity
    intake_date: date
    setting: Setting
    victim_status: VictimStatus
    nationality: Nationality
    risk_profiles: tuple[RiskProfile, ...]
    legal_framework: str
    risk_assessment_instrument: str
    risk_assessment_result: str
    protocol_name: str
    protocol_version: str
    phase: int
    phase_name: str
    phase_entered_on: date | None
    caps: dict[str, str]
    permissions: dict[str, str]
    contacts: list[BundleContact]
    handover: BundleHandover
    comensha_decision: ComenshaDecision | None
    attention: list[AttentionItem]
    facts: list[IncludedFact]
    chain_heads: list[ChainHead]
    """The hash of each fact included (and of the intake), by position."""
    head: ChainHead
    """The last fact of her stream when the bundle was made."""


_encoder = msgspec.json.Encoder(order="sorted")


def bundle_of(app: TrajectoryApplication, trajectory_id: UUID, sender: str,
              today: date) -> tuple[HandoverBundle, int]:
    """Her bundle, and the version of her file it was made from."""
    t = app.get(trajectory_id)
    events: list[TrajectoryEvent] = list(app.stream(trajectory_id))
    opened = events[0]
    assert isinstance(opened, TrajectoryOpened)
    s = t.state
    protocol = app.protocol_of(t)
    spec = protocol.phase_spec(s.phase)
    corrections = Corrections.of(events)
    included = [e for e in events if isinstance(e, INCLUDED)
                and corrections.counts(e.originator_version)]
    prepared = [e for e in included if isinstance(e, HandoverPrepared)][-1]

    def data(e: TrajectoryEvent) -> dict[str, Any]:
        return msgspec.to_builtins({  # type: ignore[no-any-return]
            k: v for k, v in vars(e).items()
            if k not in _COMMON})

    return HandoverBundle(
        format=BUNDLE_CONTENT,
        sender=sender,
        sent_on=today,
        identity=opened.identity,
        intake_date=s.intake_date,
        setting=s.setting,
        victim_status=s.victim_status,
        nationality=opened.nationality,
        risk_profiles=tuple(s.risk_profiles),
        legal_framework=opened.legal_framework,
        risk_assessment_instrument=opened.risk_assessment_instrument,
        risk_assessment_result=opened.risk_assessment_result,
        protocol_name=s.protocol_name,
        protocol_version=s.protocol_version,
        phase=s.phase,
        phase_name=spec.name,
        phase_entered_on=s.phase_entered_on,
        caps={str(k): str(v) for k, v in spec.caps.items()},
        permissions={str(k): str(v) for k, v in s.permissions.items()},
        contacts=[BundleContact(role=c.role, risk=c.risk, level=c.level)
                  for c in s.contacts.values()],
        handover=BundleHandover(
            receiving_organisation=prepared.receiving_organisation,
            prepared_on=prepared.occurred_on,
            package=prepared.package,
            parties=prepared.parties,
            external_receiver=prepared.external_receiver,
            comensha_decision=prepared.comensha_decision,
            meeting_on=s.handover.meeting_on,
        ),
        comensha_decision=s.comensha_decision,
        attention=attention_items(s, protocol, today),
        facts=[IncludedFact(position=e.originator_version, type=type(e).__name__,
                            occurred_on=corrections.occurred_on(e), data=data(e))
               for e in included],
        chain_heads=[ChainHead(position=e.originator_version, hash=e.hash)
                     for e in (opened, *included)],
        head=ChainHead(position=events[-1].originator_version, hash=events[-1].hash),
    ), t.version


_COMMON = frozenset({
    "originator_id", "originator_version", "timestamp", "occurred_on", "occurred_at",
    "recorded_by", "prev_hash", "hash",
})


def earlier_care(bundle: HandoverBundle) -> EarlierCare:
    """Her care at the sender, as the receiver's opening keeps it."""
    return EarlierCare(
        intake_date=bundle.intake_date,
        phase=bundle.phase,
        phase_name=bundle.phase_name,
        package=bundle.handover.package,
        comensha_decision=bundle.comensha_decision,
        facts=len(bundle.facts),
        open_attention=tuple(item.code for item in bundle.attention),
    )


# -- the tables ----------------------------------------------------------------------------------


def create_tables(db: Database) -> None:
    with db.transaction() as tx:
        if schema_is_someone_elses(tx):
            return
        for statement in _TABLES:
            tx.execute(statement)


def delete_trajectory(tx: Transaction, trajectory_id: str) -> None:
    """The erasure hook: the bundle she came with, and the hashes of those she left with,
    go with her."""
    tx.execute("DELETE FROM exchange_imports WHERE trajectory_id = ?", [trajectory_id])
    tx.execute("DELETE FROM exchange_exports WHERE trajectory_id = ?", [trajectory_id])


def installation_organisations(db: Database) -> list[str]:
    """The organisations this installation holds girls for: those of its coordinators (a
    researcher's university or the inspectorate is no party to a handover)."""
    rows = db.fetchall("SELECT DISTINCT organisation FROM users WHERE role = 'coordinator'"
                       " AND organisation <> '' ORDER BY organisation")
    return [str(r["organisation"]) for r in rows]


# -- outcomes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    data: bytes
    bundle_hash: str
    written: Written

    @property
    def file_name(self) -> str:
        return f"overdracht-{self.bundle_hash[:12]}.trajectory-bundle"


@dataclass(frozen=True)
class TakenIn:
    """A bundle taken in: her new trajectory here."""

    trajectory_id: UUID
    sender: str
    bundle_hash: str


@dataclass(frozen=True)
class AcknowledgementTakenIn:
    """An acknowledgement taken in: the sender's trajectory now records the acceptance."""

    trajectory_id: UUID
    receiver: str
    bundle_hash: str
    accepted_on: date


@dataclass(frozen=True)
class ImportedBundle:
    """A bundle this installation took in, as the receiving side lists it."""

    bundle_hash: str
    trajectory_id: str
    sender: str
    imported_at: str
    acknowledged_at: str | None


# -- the exchange ------------------------------------------------------------------------------


class Exchange:
    """Export, import and acknowledge handover bundles through the one write path."""

    def __init__(self, app: TrajectoryApplication, path: WritePath | None = None):
        self.app = app
        self.path = path or WritePath(app)

    @property
    def db(self) -> Database:
        return self.app.db

    def _signer(self, now: datetime) -> Any:
        try:
            return signing_key(self.app.keys, self.db, now)
        except SigningUnavailable as e:
            raise ExchangeRefused(str(e), code="exchange-unavailable") from None

    def _decrypter(self, now: datetime) -> Any:
        try:
            return encryption_key(self.app.keys, self.db, now)
        except SigningUnavailable as e:
            raise ExchangeRefused(str(e), code="exchange-unavailable") from None

    def export(self, actor: Actor, trajectory_id: UUID, to_organisation: str, *,
               via: Via = NO_VIA) -> Exported:
        """Seal her bundle for `to_organisation` (a registered partner) and record it.
        Raises ExchangeRefused, TrajectoryNotFound, RuleRefused (the aggregate's rules:
        `handover-not-prepared`, `handover-prepared-for-another`) and the write path's."""
        partner = Partners(self.db).get(to_organisation.strip())
        if partner is None:
            raise ExchangeRefused(
                f"{to_organisation.strip()[:100]!r} is not a registered partner"
                " organisation: register its installation's card first"
                " (trajectory keys partner add FILE)", code="partner-unknown")
        for attempt in range(3):
            try:
                return self._export(actor, trajectory_id, partner, via)
            except VersionConflict:
                # Someone recorded on her file while the bundle was made: made again from
                # the file as it is now, so the bundle holds what her file holds.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _export(self, actor: Actor, trajectory_id: UUID, partner: Partner,
                via: Via) -> Exported:
        now = self.app.clock()
        today = amsterdam_date(now)
        visible_row(self.db, actor, trajectory_id, today=today,
                    grace_days=self.app.settings.aftercare_grace_days, writing=True, now=now)
        t = self.app.get(trajectory_id)
        # The aggregate's rules first, on the file as it is: no bundle is sealed for a
        # handover that was not prepared (or prepared for someone else).
        probe = RecordHandoverExport(to_organisation=partner.organisation,
                                     bundle_hash="0" * 64)
        t.handle(probe, self.app.meta(actor, None, now), self.app.protocol_of(t))
        bundle, version = bundle_of(self.app, trajectory_id, actor.organisation, today)
        sealed, digest = seal_bundle(_encoder.encode(bundle), sender=actor.organisation,
                                     receiver=partner, signer=self._signer(now), now=now)

        def rows(tid: UUID) -> list[RowWrite]:
            return [
                RowWrite("exchange_exports", {
                    "bundle_hash": digest, "trajectory_id": str(tid),
                    "to_organisation": partner.organisation,
                    "exported_at": now.isoformat(), "acknowledged_at": None}),
                AccessEntry.by(actor, at=now, action="export", outcome="ok",
                               trajectory_id=str(tid), client=via.client,
                               request_id=via.request_id).marked(self.db).row(),
            ]

        written = self.path.record(
            actor, trajectory_id,
            RecordHandoverExport(to_organisation=partner.organisation, bundle_hash=digest),
            expected_version=version, via=via, extra=rows)
        log.info("handover_exported", trajectory_id=str(trajectory_id), bundle_hash=digest)
        return Exported(sealed, digest, written)

    def take_in(self, actor: Actor, data: bytes, *, via: Via = NO_VIA
                ) -> TakenIn | AcknowledgementTakenIn:
        """Take in a sealed file: a bundle (her trajectory opens here, `actor` her
        coordinator) or an acknowledgement (the acceptance is recorded on the sender's
        trajectory by `actor`). Raises ExchangeRefused, and the write path's refusals."""
        kind = kind_of(data)
        try:
            if kind == BUNDLE_FORMAT:
                taken: TakenIn | AcknowledgementTakenIn = self._take_in_bundle(
                    actor, data, via)
            elif kind == ACKNOWLEDGEMENT_FORMAT:
                taken = self._take_in_acknowledgement(actor, data, via)
            else:
                raise ExchangeRefused("the file is not a handover bundle or acknowledgement",
                                      code="file-unreadable")
        except ExchangeRefused as e:
            log.warning("exchange_file_refused", code=e.code, user_id=actor.user_id)
            raise
        log.info("exchange_file_taken_in", kind=type(taken).__name__,
                 trajectory_id=str(taken.trajectory_id), bundle_hash=taken.bundle_hash)
        return taken

    def _ours(self, actor: Actor) -> list[str]:
        return sorted({*installation_organisations(self.db), actor.organisation} - {""})

    def _take_in_bundle(self, actor: Actor, data: bytes, via: Via) -> TakenIn:
        now = self.app.clock()
        decrypter = self._decrypter(now)
        try:
            opened = open_bundle(data, partners=Partners(self.db).all(),
                                 ours=dict.fromkeys(self._ours(actor), decrypter))
        except SealRefused as e:
            raise ExchangeRefused(str(e), code=e.code) from None
        if opened.receiver != actor.organisation:
            raise ExchangeRefused(
                f"the bundle is addressed to {opened.receiver[:100]!r}: take it in as a"
                " coordinator of that organisation",
                code="addressed-to-another-organisation")
        if self.db.fetchone("SELECT trajectory_id FROM exchange_imports WHERE bundle_hash = ?",
                            [opened.bundle_hash]) is not None:
            raise ExchangeRefused("this bundle was taken in already",
                                  code="bundle-imported-already")
        try:
            bundle = msgspec.json.decode(opened.content, type=HandoverBundle)
        except msgspec.DecodeError:
            raise ExchangeRefused("the bundle's content is not a handover of this version",
                                  code="file-unreadable") from None
        if bundle.format != BUNDLE_CONTENT:
            raise ExchangeRefused("the bundle's content is not a handover of this version",
                                  code="file-unreadable")
        command = OpenTrajectory(
            intake_date=amsterdam_date(now),
            victim_status=bundle.victim_status,
            nationality=bundle.nationality,
            risk_profiles=list(bundle.risk_profiles),
            setting=bundle.setting,
            referral_source=opened.sender[:200],
            legal_framework=bundle.legal_framework[:200] or "-",
            identity=bundle.identity,
            risk_assessment_instrument=bundle.risk_assessment_instrument[:200] or "-",
            risk_assessment_result=bundle.risk_assessment_result[:10_000],
        )

        def rows(tid: UUID) -> list[RowWrite]:
            return [RowWrite("exchange_imports", {
                "bundle_hash": opened.bundle_hash, "trajectory_id": str(tid),
                "sender": opened.sender, "bundle": data.decode(),
                "imported_at": now.isoformat(), "acknowledged_at": None})]

        written = self.path.open(
            actor, command, via=via, extra=rows,
            received=Received(opened.sender, opened.bundle_hash, earlier_care(bundle)))
        return TakenIn(written.trajectory_id, opened.sender, opened.bundle_hash)

    def _take_in_acknowledgement(self, actor: Actor, data: bytes, via: Via
                                 ) -> AcknowledgementTakenIn:
        try:
            ack = open_acknowledgement(data, partners=Partners(self.db).all(),
                                       ours=set(self._ours(actor)))
        except SealRefused as e:
            raise ExchangeRefused(str(e), code=e.code) from None
        row = self.db.fetchone(
            "SELECT trajectory_id, to_organisation FROM exchange_exports WHERE bundle_hash = ?",
            [ack.bundle_hash])
        if row is None or str(row["to_organisation"]) != ack.sender:
            raise ExchangeRefused(
                "no bundle with this hash was sent from here to the organisation that"
                " acknowledges it", code="bundle-unknown")
        tid = UUID(str(row["trajectory_id"]))
        now = self.app.clock()
        confirmation = reasons.signed_acknowledgement(
            ack.sender, ack.accepted_by, ack.accepted_on.isoformat(), ack.bundle_hash[:16])

        def rows(_: UUID) -> list[RowWrite]:
            return [RowWrite("exchange_exports", {
                "bundle_hash": ack.bundle_hash, "trajectory_id": str(tid),
                "to_organisation": ack.sender,
                "exported_at": str(self._exported_at(ack.bundle_hash)),
                "acknowledged_at": now.isoformat()}, upsert_on=("bundle_hash",))]

        accepted_on = min(ack.accepted_on, amsterdam_date(now))
        self.path.record(actor, tid, AcceptHandover(confirmation=confirmation,
                                                    occurred_on=accepted_on.isoformat()),
                         via=via, extra=rows)
        return AcknowledgementTakenIn(tid, ack.sender, ack.bundle_hash, ack.accepted_on)

    def _exported_at(self, bundle_hash: str) -> str:
        row = self.db.fetchone("SELECT exported_at FROM exchange_exports WHERE bundle_hash = ?",
                               [bundle_hash])
        return str(row["exported_at"]) if row else ""

    def acknowledge(self, actor: Actor, trajectory_id: UUID, accepted_by: str) -> bytes:
        """The signed acknowledgement that her trajectory here, opened from a bundle, was
        accepted (by `accepted_by`, the receiving worker's name). Raises ExchangeRefused,
        TrajectoryNotFound."""
        now = self.app.clock()
        visible_row(self.db, actor, trajectory_id, today=amsterdam_date(now),
                    grace_days=self.app.settings.aftercare_grace_days, writing=True, now=now)
        row = self.db.fetchone(
            "SELECT bundle_hash, sender FROM exchange_imports WHERE trajectory_id = ?",
            [str(trajectory_id)])
        if row is None:
            raise ExchangeRefused("she was not taken in from a handover bundle",
                                  code="not-received")
        ack = Acknowledgement(
            bundle_hash=str(row["bundle_hash"]), sender=actor.organisation,
            receiver=str(row["sender"]), accepted_on=amsterdam_date(now),
            accepted_by=accepted_by.strip()[:200])
        sealed = seal_acknowledgement(ack, signer=self._signer(now), now=now)
        with self.db.transaction() as tx:
            tx.execute("UPDATE exchange_imports SET acknowledged_at = ? WHERE bundle_hash = ?",
                       [now.isoformat(), ack.bundle_hash])
            tx.write(AccessEntry.by(actor, at=now, action="export", outcome="ok",
                                    trajectory_id=str(trajectory_id)).marked(self.db).row())
        return sealed

    def imported(self, organisation: str) -> list[ImportedBundle]:
        rows = self.db.fetchall(
            "SELECT i.bundle_hash, i.trajectory_id, i.sender, i.imported_at,"
            " i.acknowledged_at FROM exchange_imports i JOIN trajectory_index x"
            " ON x.trajectory_id = i.trajectory_id WHERE x.organisation = ?"
            " ORDER BY i.imported_at DESC", [organisation])
        return [ImportedBundle(str(r["bundle_hash"]), str(r["trajectory_id"]),
                               str(r["sender"]), str(r["imported_at"]),
                               None if r["acknowledged_at"] is None
                               else str(r["acknowledged_at"])) for r in rows]

    def received_bundle(self, trajectory_id: UUID) -> bytes | None:
        """The bundle she came with, as it came (encrypted to this installation)."""
        row = self.db.fetchone("SELECT bundle FROM exchange_imports WHERE trajectory_id = ?",
                               [str(trajectory_id)])
        return str(row["bundle"]).encode() if row else None
