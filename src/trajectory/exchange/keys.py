"""The keys of exchange: this installation's, and those of the installations it exchanges
with.

This installation signs with its installation key (Ed25519, `statistics.signing`: one
identity, published once) and is encrypted to with an X25519 key made here, kept like the
other keys: wrapped by the master key in the store, re-wrapped at a master-key rotation
(`rewrap_exchange_key`). Its **card** (`trajectory keys card --out FILE`) holds both public
keys and the organisations of this installation; the partner registers it
(`trajectory keys partner add FILE`), after comparing the fingerprints by telephone: a
card that came by mail proves nothing by itself.

A registered partner organisation is a row of its own; a card registered again for an
organisation replaces its keys (a partner's new installation), and the change is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import structlog
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from trajectory.crypto import KeyRing, MasterKey
from trajectory.exchange.sealing import Partner, b64, fingerprint, raw_public, unb64
from trajectory.persistence.database import Database, RowWrite, Transaction
from trajectory.persistence.schema import schema_is_someone_elses
from trajectory.statistics.signing import SigningUnavailable, public_key_of, signing_key

log = structlog.get_logger("trajectory.exchange")

CARD_FORMAT = "trajectory-installation-card/1"
_PURPOSE = b"trajectory-exchange-encryption-key"
_TABLES = (
    """CREATE TABLE IF NOT EXISTS exchange_key (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        wrapped_key TEXT NOT NULL,
        public_key TEXT NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS exchange_partners (
        organisation TEXT PRIMARY KEY,
        signing_key TEXT NOT NULL,
        encryption_key TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        registered_by TEXT NOT NULL
    )""",
)


class CardRefused(ValueError):
    """A card that is not one (unreadable, or keys of the wrong size)."""


def create_tables(db: Database) -> None:
    with db.transaction() as tx:
        if schema_is_someone_elses(tx):
            return
        for statement in _TABLES:
            tx.execute(statement)


def encryption_key(keys: KeyRing | None, db: Database, now: datetime) -> X25519PrivateKey:
    """This installation's private encryption key, made (and stored wrapped) the first
    time; two processes making it at once agree on one (the first insert wins)."""
    if keys is None:
        raise SigningUnavailable(
            "this store is not encrypted: it has no master key to keep an exchange key under"
        )
    create_tables(db)
    row = db.fetchone("SELECT wrapped_key FROM exchange_key WHERE id = 1")
    if row is None:
        made = X25519PrivateKey.generate()
        with db.transaction() as tx:
            tx.write(RowWrite(
                "exchange_key",
                {"id": 1,
                 "wrapped_key": keys.master.wrap(_PURPOSE, made.private_bytes_raw()),
                 "public_key": b64(raw_public(made.public_key())),
                 "master_key_id": keys.master.key_id,
                 "created_at": now.isoformat()},
                ignore_on=("id",),
            ))
        row = db.fetchone("SELECT wrapped_key FROM exchange_key WHERE id = 1")
        assert row is not None
    return X25519PrivateKey.from_private_bytes(
        keys.master.unwrap(_PURPOSE, str(row["wrapped_key"])))


def rewrap_exchange_key(tx: Transaction, old: MasterKey, new: MasterKey) -> int:
    """Re-wrap the exchange key in the master-key rotation's transaction."""
    if not schema_is_someone_elses(tx):
        for statement in _TABLES:
            tx.execute(statement)
    rows = tx.fetchall("SELECT wrapped_key FROM exchange_key WHERE id = 1")
    for row in rows:
        secret = old.unwrap(_PURPOSE, str(row["wrapped_key"]))
        tx.execute("UPDATE exchange_key SET wrapped_key = ?, master_key_id = ? WHERE id = 1",
                   [new.wrap(_PURPOSE, secret), new.key_id])
    return len(rows)


@dataclass(frozen=True)
class Card:
    """An installation's public keys and the organisations it holds."""

    organisations: tuple[str, ...]
    signing_key: bytes
    encryption_key: bytes

    def to_bytes(self) -> bytes:
        return msgspec.json.encode({
            "format": CARD_FORMAT,
            "organisations": list(self.organisations),
            "signing_key": b64(self.signing_key),
            "encryption_key": b64(self.encryption_key),
            "fingerprints": {"signing": fingerprint(self.signing_key),
                             "encryption": fingerprint(self.encryption_key)},
        }, order="sorted")

    @classmethod
    def from_bytes(cls, data: bytes) -> Card:
        try:
            parsed: Any = msgspec.json.decode(data)
        except msgspec.DecodeError:
            raise CardRefused("the file is not an installation card") from None
        if not isinstance(parsed, dict) or parsed.get("format") != CARD_FORMAT:
            raise CardRefused("the file is not an installation card")
        organisations = parsed.get("organisations")
        if (not isinstance(organisations, list) or not organisations
                or not all(isinstance(o, str) and o.strip() for o in organisations)):
            raise CardRefused("the card names no organisation")
        try:
            signing, encryption = (unb64(parsed.get("signing_key")),
                                   unb64(parsed.get("encryption_key")))
        except Exception:
            raise CardRefused("the card's keys are unreadable") from None
        if len(signing) != 32 or len(encryption) != 32:
            raise CardRefused("the card's keys are not 32 bytes each")
        return cls(tuple(organisations), signing, encryption)

    @property
    def fingerprints(self) -> tuple[str, str]:
        return fingerprint(self.signing_key), fingerprint(self.encryption_key)


def our_card(keys: KeyRing | None, db: Database, organisations: list[str],
             now: datetime) -> Card:
    """This installation's card for `organisations` (those it holds)."""
    signer = signing_key(keys, db, now)
    return Card(tuple(organisations), public_key_of(signer).raw,
                raw_public(encryption_key(keys, db, now).public_key()))


class Partners:
    """The organisations of other installations this one exchanges with."""

    def __init__(self, db: Database):
        """The tables are the composition root's to create, with the store's own."""
        self.db = db

    def register(self, card: Card, *, by: str, now: datetime) -> list[str]:
        """Register (or re-register) every organisation of the card; returns them."""
        known = self.all()
        replaced = [o for o in card.organisations if o in known and (
            known[o].signing_key, known[o].encryption_key) != (card.signing_key,
                                                                card.encryption_key)]
        with self.db.transaction() as tx:
            for organisation in card.organisations:
                tx.write(RowWrite(
                    "exchange_partners",
                    {"organisation": organisation, "signing_key": b64(card.signing_key),
                     "encryption_key": b64(card.encryption_key),
                     "registered_at": now.isoformat(), "registered_by": by},
                    upsert_on=("organisation",),
                ))
        signing, encryption = card.fingerprints
        log.info("exchange_partner_registered", organisations=list(card.organisations),
                 keys_replaced=replaced, signing_key=signing, encryption_key=encryption,
                 by=by)
        return list(card.organisations)

    def all(self) -> dict[str, Partner]:
        rows = self.db.fetchall(
            "SELECT organisation, signing_key, encryption_key FROM exchange_partners"
            " ORDER BY organisation")
        return {str(r["organisation"]): Partner(str(r["organisation"]),
                                                unb64(r["signing_key"]),
                                                unb64(r["encryption_key"]))
                for r in rows}

    def get(self, organisation: str) -> Partner | None:
        return self.all().get(organisation)
