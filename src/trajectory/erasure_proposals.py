"""When a file may be erased, and by whom: the one rule every entry point asks.

Erasing a girl's file cannot be undone, so it is refused unless it is lawful and
deliberate. Lawful: her retention period has truly ended (the protocol's years after her
care ended), or a destruction request was granted, or a court ordered it (its reference
is kept). Deliberate: one admin proposes, a second admin of the same organisation
approves, typing her short id; the proposer cannot approve her own proposal. The API, the
web pages and the command line call this module; none of them decides on its own.

The only act of one person is the scheduled retention run of the command line
(`erase_expired`): the law itself decided, on a date that has passed.

After an erasure her pseudonymised rows may not stay behind in research exports kept on
the server: every kept export that holds her is destroyed, and its manifest is replaced
by a notice that says so (`trajectory.research.kept`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from uuid import UUID

import structlog

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.erasure import Erasure, erase
from trajectory.persistence.database import Row, RowWrite, Transaction
from trajectory.research.kept import destroy_exports_holding, export_root
from trajectory.retention import retention_expires_on

log = structlog.get_logger("trajectory.erasure_proposals")

LAWFUL_GROUNDS: tuple[str, ...] = ("retention-expired", "request-granted", "court-order")
"""The grounds on which a file may be erased. There is no "other"."""

SHORT_ID_LENGTH = 8


def short_id(trajectory_id: str | UUID) -> str:
    """The first characters of her id, as the pages show it: what the approver types."""
    return str(trajectory_id)[:SHORT_ID_LENGTH]


@dataclass(frozen=True)
class Proposal:
    proposal_id: str
    trajectory_id: str
    organisation: str
    proposed_by: str
    proposed_at: datetime
    reason: str
    legal_ground: str
    court_reference: str | None
    approved_by: str | None
    approved_at: datetime | None

    @property
    def short_id(self) -> str:
        return short_id(self.trajectory_id)


class RetentionNotExpired(RuleRefused):
    """Her retention period has not ended yet: the refusal names the day it does."""

    code = "retention-not-expired"

    def __init__(self, expires_on: date):
        super().__init__(f"her retention period runs until {expires_on.isoformat()}")
        self.expires_on = expires_on


class ProposalNotFound(Exception):
    """No open proposal with this id in the caller's organisation."""


def check_ground(
    app: TrajectoryApplication, trajectory_id: str, legal_ground: str, court_reference: str | None
) -> None:
    """Refuse (RuleRefused) unless the ground holds for her file today."""
    if legal_ground not in LAWFUL_GROUNDS:
        raise RuleRefused(
            f"an erasure needs a lawful ground: {', '.join(LAWFUL_GROUNDS)}",
            code="erasure-ground-not-lawful",
        )
    if legal_ground == "retention-expired":
        expires = retention_expires_on(app, trajectory_id)
        if expires is None:
            raise RuleRefused(
                "her care has not ended, so her retention period has not begun",
                code="retention-not-begun",
            )
        today = amsterdam_date(app.clock())
        if today < expires:
            raise RetentionNotExpired(expires)
    elif legal_ground == "request-granted":
        row = app.db.fetchone(
            "SELECT destruction_status FROM trajectory_index WHERE trajectory_id = ?",
            [trajectory_id],
        )
        if row is None or row["destruction_status"] != "granted":
            raise RuleRefused(
                "no destruction request of hers has been granted",
                code="destruction-request-not-granted",
            )
    elif not (court_reference or "").strip():
        raise RuleRefused(
            "an erasure on a court order needs the order's reference",
            code="court-reference-required",
        )


def _organisation_of(app: TrajectoryApplication, trajectory_id: UUID, by: Actor) -> str:
    row = app.db.fetchone(
        "SELECT organisation FROM trajectory_index WHERE trajectory_id = ?", [str(trajectory_id)]
    )
    if row is None:
        if app.keys is not None and app.keys.is_erased(trajectory_id):
            raise TrajectoryErased(trajectory_id)
        raise TrajectoryNotFound(trajectory_id)
    if row["organisation"] != by.organisation:
        raise TrajectoryNotFound(trajectory_id)
    return str(row["organisation"])


def propose(
    app: TrajectoryApplication,
    trajectory_id: UUID,
    *,
    by: Actor,
    reason: str,
    legal_ground: str,
    court_reference: str | None = None,
    client: str | None = None,
    request_id: str | None = None,
) -> Proposal:
    """Record one admin's proposal to erase her file; nothing is erased yet."""
    tid = str(trajectory_id)
    with _logged_refusal(app, by, tid, client, request_id):
        organisation = _organisation_of(app, trajectory_id, by)
        if not reason.strip():
            raise RuleRefused("an erasure needs a reason", code="reason-required")
        check_ground(app, tid, legal_ground, court_reference)
    now = app.clock()
    reference = (court_reference or "").strip() or None
    if legal_ground != "court-order":
        reference = None
    proposal = Proposal(
        proposal_id=secrets.token_hex(8),
        trajectory_id=tid,
        organisation=organisation,
        proposed_by=by.user_id,
        proposed_at=now,
        reason=reason.strip(),
        legal_ground=legal_ground,
        court_reference=reference,
        approved_by=None,
        approved_at=None,
    )
    with app.db.transaction() as tx:
        tx.write(
            RowWrite(
                "erasure_proposals",
                {
                    "proposal_id": proposal.proposal_id,
                    "trajectory_id": tid,
                    "organisation": organisation,
                    "proposed_by": by.user_id,
                    "proposed_at": now.isoformat(),
                    "reason": proposal.reason,
                    "legal_ground": legal_ground,
                    "court_reference": reference,
                    "approved_by": None,
                    "approved_at": None,
                },
            ),
            _entry(by, now, tid, "proposed", client, request_id).row(),
        )
    return proposal


def approve(
    app: TrajectoryApplication,
    proposal_id: str,
    *,
    by: Actor,
    confirmation: str,
    export_dir: Path | None = None,
    client: str | None = None,
    request_id: str | None = None,
) -> Erasure:
    """A second admin approves: her file is erased, and kept exports holding her go."""
    try:
        proposal = open_proposal(app, proposal_id, by)
    except ProposalNotFound:
        # Not hers to approve (another organisation's, or none at all): still an attempt
        # to erase, on record, and on the girl's own log when there is one.
        row = app.db.fetchone(
            "SELECT trajectory_id FROM erasure_proposals WHERE proposal_id = ?", [proposal_id]
        )
        tid = str(row["trajectory_id"]) if row else None
        AccessLog(app.db).append(_entry(by, app.clock(), tid, "denied", client, request_id))
        raise
    with _logged_refusal(app, by, proposal.trajectory_id, client, request_id):
        if proposal.proposed_by == by.user_id:
            raise RuleRefused(
                "an erasure needs two admins: the one who proposed it cannot approve it",
                code="erasure-needs-two-admins",
            )
        if confirmation.strip().lower() != proposal.short_id.lower():
            raise RuleRefused(
                f"type her short id ({proposal.short_id}) to confirm",
                code="confirmation-mismatch",
            )
        # The ground is judged again now: a request may have been reconsidered since.
        check_ground(app, proposal.trajectory_id, proposal.legal_ground,
                     proposal.court_reference)
    now = app.clock()

    def mark_approved(tx: Transaction, _tid: str) -> None:
        tx.execute(
            "UPDATE erasure_proposals SET approved_by = ?, approved_at = ?"
            " WHERE proposal_id = ? AND approved_at IS NULL",
            [by.user_id, now.isoformat(), proposal.proposal_id],
        )

    erasure = erase(
        app,
        UUID(proposal.trajectory_id),
        by=by,
        reason=_reason_with_reference(proposal),
        legal_ground=proposal.legal_ground,
        client=client,
        request_id=request_id,
        hooks=(mark_approved,),
    )
    _destroy_kept_exports(app, export_dir, erasure)
    return erasure


def erase_expired(
    app: TrajectoryApplication,
    trajectory_id: UUID,
    *,
    by: Actor,
    reason: str,
    export_dir: Path | None = None,
    client: str | None = None,
) -> Erasure:
    """The scheduled retention run: one operator erases a file whose retention period has
    passed (the law decided; nobody chose). Any other ground needs two admins."""
    tid = str(trajectory_id)
    if app.db.fetchone("SELECT 1 AS one FROM trajectory_index WHERE trajectory_id = ?", [tid]):
        check_ground(app, tid, "retention-expired", None)
    erasure = erase(
        app, trajectory_id, by=by, reason=reason, legal_ground="retention-expired", client=client
    )
    _destroy_kept_exports(app, export_dir, erasure)
    return erasure


def refuse_alone(legal_ground: str) -> RuleRefused:
    """What one person is told who tries to erase on their own."""
    return RuleRefused(
        "an erasure needs two admins: one proposes it (POST /admin/erasures), a second of"
        f" the same organisation approves it; {legal_ground!r} cannot be erased by one person",
        code="erasure-needs-two-admins",
    )


def _reason_with_reference(proposal: Proposal) -> str:
    text = f"{proposal.reason} (proposed by {proposal.proposed_by})"
    if proposal.court_reference:
        text += f" [court order {proposal.court_reference}]"
    return text


def _destroy_kept_exports(
    app: TrajectoryApplication, export_dir: Path | None, erasure: Erasure
) -> None:
    """`export_dir` None: where the web pages keep them (TRAJECTORY_EXPORT_DIR)."""
    if app.keys is None:
        return
    root = export_dir if export_dir is not None else export_root(app.settings)
    try:
        destroy_exports_holding(
            root, app.keys, app.db, UUID(erasure.trajectory_id), erasure.erased_at
        )
    except OSError as e:  # the erasure stands; the operator must remove the export by hand
        log.error("kept_export_not_destroyed", trajectory_id=erasure.trajectory_id,
                  error_type=type(e).__name__)


@contextmanager
def _logged_refusal(
    app: TrajectoryApplication, by: Actor, tid: str, client: str | None, request_id: str | None
) -> Iterator[None]:
    """A refused erasure is an attempt on her file: it leaves its entry (then the refusal
    goes on to the caller)."""
    try:
        yield
    except RuleRefused:
        AccessLog(app.db).append(_entry(by, app.clock(), tid, "refused", client, request_id))
        raise
    except (TrajectoryNotFound, TrajectoryErased):
        AccessLog(app.db).append(_entry(by, app.clock(), tid, "denied", client, request_id))
        raise


def _entry(
    by: Actor,
    now: datetime,
    tid: str | None,
    outcome: str,
    client: str | None,
    request_id: str | None,
) -> AccessEntry:
    return AccessEntry.by(by, at=now, action="erase", outcome=outcome, trajectory_id=tid,
                          client=client, request_id=request_id)


_COLUMNS = (
    "proposal_id, trajectory_id, organisation, proposed_by, proposed_at, reason,"
    " legal_ground, court_reference, approved_by, approved_at"
)


def _proposal(r: Row) -> Proposal:
    def moment(value: object) -> datetime | None:
        return datetime.fromisoformat(str(value)) if value else None

    proposed_at = moment(r["proposed_at"])
    assert proposed_at is not None
    return Proposal(
        proposal_id=str(r["proposal_id"]),
        trajectory_id=str(r["trajectory_id"]),
        organisation=str(r["organisation"]),
        proposed_by=str(r["proposed_by"]),
        proposed_at=proposed_at,
        reason=str(r["reason"]),
        legal_ground=str(r["legal_ground"]),
        court_reference=str(r["court_reference"]) if r["court_reference"] else None,
        approved_by=str(r["approved_by"]) if r["approved_by"] else None,
        approved_at=moment(r["approved_at"]),
    )


def open_proposal(app: TrajectoryApplication, proposal_id: str, by: Actor) -> Proposal:
    """The proposal, if it is open and of the caller's organisation (else not found)."""
    row = app.db.fetchone(
        f"SELECT {_COLUMNS} FROM erasure_proposals WHERE proposal_id = ?", [proposal_id[:64]]
    )
    if row is None or row["organisation"] != by.organisation or row["approved_at"]:
        raise ProposalNotFound(proposal_id)
    proposal = _proposal(row)
    if app.keys is not None and app.keys.is_erased(UUID(proposal.trajectory_id)):
        raise ProposalNotFound(proposal_id)
    return proposal


def open_proposals(app: TrajectoryApplication, organisation: str) -> list[Proposal]:
    """Her organisation's proposals still waiting for a second admin, oldest first."""
    rows = app.db.fetchall(
        f"SELECT {_COLUMNS} FROM erasure_proposals WHERE organisation = ?"
        " AND approved_at IS NULL ORDER BY proposed_at, proposal_id",
        [organisation],
    )
    out = [_proposal(r) for r in rows]
    if app.keys is None:
        return out
    return [p for p in out if not app.keys.is_erased(UUID(p.trajectory_id))]
