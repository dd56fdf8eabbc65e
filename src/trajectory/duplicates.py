"""Duplicate intakes: the same girl (name and birth date) already in care in the organisation.

Names are encrypted in the log, so they cannot be compared in the store. At intake a keyed
hash (HMAC-SHA256) of her normalised name and birth date is kept beside her index row, in
the intake's own transaction; a later intake with the same hash in the same organisation,
while the first girl is still in care or in aftercare, is a possible duplicate. The key is
derived from the master key, so the table alone says nothing: a plain hash of a name and
birth date could be reversed by trying every name and date. An erasure deletes the row in
its own transaction (`erasure.erase`), and the join with the index row (also deleted)
keeps an erased girl from matching even in between.

The key follows the master key: after a rotation, the hashes of girls taken in before it
no longer match (no false alarm; a possible duplicate is then missed until re-intake).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from trajectory.aggregates.errors import RuleRefused
from trajectory.crypto import MasterKey
from trajectory.persistence.database import Database, RowWrite

TABLE = "intake_fingerprints"  # created by persistence.schema
# A store without a master key keeps names in the clear anyway; its hashes still use a key.
_UNENCRYPTED = b"trajectory-intake-fingerprint-unencrypted-store"
_PURPOSE = b"trajectory-intake-fingerprint:"


class PossibleDuplicateIntake(RuleRefused):
    """A girl with this name and birth date is in care (or aftercare) in the organisation;
    the intake is recorded only with a reason (`duplicate_reason`)."""

    code = "possible-duplicate-intake"

    def __init__(self, matches: tuple[str, ...]):
        super().__init__(
            "a girl with this name and date of birth is already in care in this"
            " organisation; check that this is not the same girl, or give a"
            " duplicate_reason to record the intake anyway",
            unmet=["duplicate_reason"],
        )
        self.matches = matches


def normalised_name(name: str) -> str:
    """Casefolded, accents stripped, whitespace collapsed: "  Zoë  de Vries" and
    "zoe de vries" are the same name."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def fingerprint_key(master: MasterKey | None) -> bytes:
    """The HMAC key, derived from the master key for this purpose only."""
    if master is None:
        return hashlib.sha256(_UNENCRYPTED).digest()
    return hmac.new(master.key, _PURPOSE + b"v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class Fingerprints:
    key: bytes

    def of(self, name: str, date_of_birth: date) -> str:
        value = normalised_name(name).encode() + b"\x00" + date_of_birth.isoformat().encode()
        return hmac.new(self.key, value, hashlib.sha256).hexdigest()

    def row(self, trajectory_id: UUID, organisation: str, fingerprint: str) -> RowWrite:
        return RowWrite(
            TABLE,
            {
                "trajectory_id": str(trajectory_id),
                "organisation": organisation,
                "fingerprint": fingerprint,
            },
        )


def matches(db: Database, organisation: str, fingerprint: str) -> tuple[str, ...]:
    """The trajectories of the organisation with this fingerprint whose girl is still in
    care or in aftercare (a closed or erased one does not count), oldest intake first."""
    rows = db.fetchall(
        f"SELECT f.trajectory_id FROM {TABLE} f"
        " JOIN trajectory_index i ON i.trajectory_id = f.trajectory_id"
        " WHERE f.organisation = ? AND f.fingerprint = ?"
        " AND i.status IN ('in_care', 'aftercare')"
        " ORDER BY i.intake_date, f.trajectory_id",
        [organisation, fingerprint],
    )
    return tuple(str(r["trajectory_id"]) for r in rows)
