"""The installation's signing key: Ed25519, made once, kept like the other keys.

The private key is stored in the database wrapped by the master key (AES-256-GCM, as the
trajectories' data keys and the research projects' secrets are), so that it is backed up
with the store, never lies about in a file of its own, and a master-key rotation re-wraps
it in its transaction (`rewrap_signing_key`, registered by the composition root). The
public key is stored beside it in the clear: it is published (`trajectory statistics key`,
`GET /statistics/signing-key`) so that whoever combines the installations' figures can
check that a document came from this installation.

The fingerprint (SHA-256 of the raw public key, in groups of four hex digits) is what
people compare by telephone or letter; the key itself is what a program compares.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from trajectory.crypto import KeyRing, MasterKey
from trajectory.persistence.database import Database, RowWrite, Transaction
from trajectory.persistence.schema import schema_is_someone_elses

_TABLE = """CREATE TABLE IF NOT EXISTS statistics_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    wrapped_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    created_at TEXT NOT NULL
)"""
_PURPOSE = b"trajectory-statistics-signing-key"


class SigningUnavailable(Exception):
    """This installation cannot sign: its store is not encrypted (no master key)."""


@dataclass(frozen=True)
class PublicKey:
    """A published Ed25519 public key: its 32 raw bytes."""

    raw: bytes

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        """From its base64 text (as published); ValueError when it is not one."""
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (ValueError, TypeError):
            raise ValueError("not a base64 Ed25519 public key") from None
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(raw)

    def to_text(self) -> str:
        return base64.b64encode(self.raw).decode()

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(b"trajectory-statistics-key:" + self.raw).hexdigest()[:32]
        return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.raw)


def public_key_of(private: Ed25519PrivateKey) -> PublicKey:
    return PublicKey(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def create_table(db: Database) -> None:
    """The key's table, made by the owner role (`trajectory init` builds the application,
    which makes it, so that the runtime role's grants cover it); a runtime role, which
    may create nothing, finds it made."""
    with db.transaction() as tx:
        if schema_is_someone_elses(tx):
            return
        tx.execute(_TABLE)


def signing_key(keys: KeyRing | None, db: Database, now: datetime) -> Ed25519PrivateKey:
    """The installation's private key, made (and stored wrapped) the first time.

    Two processes making it at once agree on one key: the first insert wins, the other
    reads it back."""
    if keys is None:
        raise SigningUnavailable(
            "this store is not encrypted: it has no master key to keep a signing key under"
        )
    create_table(db)
    row = db.fetchone("SELECT wrapped_key FROM statistics_signing_key WHERE id = 1")
    if row is None:
        made = Ed25519PrivateKey.generate()
        with db.transaction() as tx:
            tx.write(
                RowWrite(
                    "statistics_signing_key",
                    {
                        "id": 1,
                        "wrapped_key": keys.master.wrap(_PURPOSE, made.private_bytes_raw()),
                        "public_key": public_key_of(made).to_text(),
                        "master_key_id": keys.master.key_id,
                        "created_at": now.isoformat(),
                    },
                    ignore_on=("id",),
                )
            )
        row = db.fetchone("SELECT wrapped_key FROM statistics_signing_key WHERE id = 1")
        assert row is not None
    secret = keys.master.unwrap(_PURPOSE, str(row["wrapped_key"]))
    return Ed25519PrivateKey.from_private_bytes(secret)


def installation_public_key(keys: KeyRing | None, db: Database, now: datetime) -> PublicKey:
    """The installation's public key (the key pair is made the first time it is asked)."""
    return public_key_of(signing_key(keys, db, now))


def rewrap_signing_key(tx: Transaction, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap the signing key under a new master key, in the rotation's transaction.

    Without this a rotation would leave the key under a master key about to be destroyed:
    the installation could sign nothing again under its published key. Called by
    `KeyRing.rotate`."""
    if not schema_is_someone_elses(tx):
        tx.execute(_TABLE)
    rows = tx.fetchall("SELECT wrapped_key FROM statistics_signing_key WHERE id = 1")
    for row in rows:
        secret = old.unwrap(_PURPOSE, str(row["wrapped_key"]))
        tx.execute(
            "UPDATE statistics_signing_key SET wrapped_key = ?, master_key_id = ? WHERE id = 1",
            [new.wrap(_PURPOSE, secret), new.key_id],
        )
    return len(rows)
