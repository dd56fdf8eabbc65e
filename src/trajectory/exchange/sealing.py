"""Sealed files between installations: a handover bundle, and its acknowledgement.

A bundle travels from one installation to another by whatever way the two organisations
use (a secure mail, a portal, a stick by hand): the file itself must keep it safe. So it is
**encrypted to the receiving installation** (X25519 with a key made for this one bundle,
HKDF-SHA256, AES-256-GCM: only the holder of the receiver's private key reads it) and
**signed by the sending installation** (Ed25519, its installation key: the receiver knows
who sent it and that not a byte changed). The header (who to whom, when) is readable,
authenticated as the ciphertext's associated data and covered by the signature, so that
an importer can say "this was meant for another organisation" without being able to read
it, and cannot be fooled by a changed address.

The acknowledgement goes back the same way, signed by the receiver; it holds no personal
data (the bundle's hash, who accepted, on which day), so it is signed and not encrypted.

What a bundle holds, and what an import does with it, is `exchange.handover`'s; this module
knows bytes, keys and refusals only.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

BUNDLE_FORMAT = "trajectory-handover-bundle/1"
ACKNOWLEDGEMENT_FORMAT = "trajectory-handover-acknowledgement/1"
_MAX_FILE = 50 * 1024 * 1024


class SealRefused(Exception):
    """A file that is not taken in: `code` says why (`file-unreadable`, `sender-unknown`,
    `file-altered`, `addressed-elsewhere`)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise SealRefused("the file is not a sealed file of trajectory", code="file-unreadable")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise SealRefused("the file is not a sealed file of trajectory",
                          code="file-unreadable") from None


def raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(raw: bytes) -> str:
    """What people compare by telephone: SHA-256 of the raw key, in groups of four."""
    digest = hashlib.sha256(b"trajectory-exchange-key:" + raw).hexdigest()[:32]
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


@dataclass(frozen=True)
class Partner:
    """Another installation's organisation, as registered here: the keys it signs with
    and is encrypted to."""

    organisation: str
    signing_key: bytes
    encryption_key: bytes


@dataclass(frozen=True)
class Opened:
    """A bundle that passed every check: its header, its content, its hash."""

    header: dict[str, Any]
    content: bytes
    bundle_hash: str

    @property
    def sender(self) -> str:
        return str(self.header["from"])

    @property
    def receiver(self) -> str:
        return str(self.header["to"])


def _digest(header: dict[str, Any], body: bytes) -> bytes:
    return hashlib.sha256(canonical(header) + b"\n" + body).digest()


def seal_bundle(
    content: bytes,
    *,
    sender: str,
    receiver: Partner,
    signer: Ed25519PrivateKey,
    now: datetime,
) -> tuple[bytes, str]:
    """The sealed file and its hash (hex), of `content` from `sender` to `receiver`."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(receiver.encryption_key))
    nonce = os.urandom(12)
    header = {
        "format": BUNDLE_FORMAT,
        "from": sender,
        "to": receiver.organisation,
        "to_key": fingerprint(receiver.encryption_key),
        "from_key": fingerprint(raw_public(signer.public_key())),
        "created_at": now.isoformat(),
        "ephemeral_key": b64(raw_public(ephemeral.public_key())),
        "nonce": b64(nonce),
    }
    key = _kdf(shared)
    ciphertext = AESGCM(key).encrypt(nonce, content, canonical(header))
    digest = _digest(header, ciphertext)
    signature = signer.sign(BUNDLE_FORMAT.encode() + b"\n" + digest)
    sealed = canonical({"header": header, "ciphertext": b64(ciphertext),
                        "signature": b64(signature)})
    return sealed, digest.hex()


def _kdf(shared: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=BUNDLE_FORMAT.encode()).derive(shared)


def _parse(data: bytes, expected_format: str) -> dict[str, Any]:
    if len(data) > _MAX_FILE:
        raise SealRefused("the file is too large for a sealed file", code="file-unreadable")
    try:
        parsed = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise SealRefused("the file is not a sealed file of trajectory",
                          code="file-unreadable") from None
    header = parsed.get("header") if isinstance(parsed, dict) else None
    if not isinstance(header, dict) or header.get("format") != expected_format:
        raise SealRefused("the file is not a sealed file of trajectory of this kind",
                          code="file-unreadable")
    for name in ("from", "to"):
        if not isinstance(header.get(name), str):
            raise SealRefused("the file is not a sealed file of trajectory",
                              code="file-unreadable")
    return parsed  # type: ignore[no-any-return]


def kind_of(data: bytes) -> str | None:
    """Which kind of sealed file this is (a bundle or an acknowledgement), if either."""
    try:
        parsed = msgspec.json.decode(data[:_MAX_FILE])
    except msgspec.DecodeError:
        return None
    header = parsed.get("header") if isinstance(parsed, dict) else None
    if isinstance(header, dict) and header.get("format") in (BUNDLE_FORMAT,
                                                           ACKNOWLEDGEMENT_FORMAT):
        return str(header["format"])
    return None


def _verify(signed_by: bytes, signature: bytes, message: bytes) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(signed_by).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise SealRefused(
            "the signature does not match: the file was changed after it was sealed, or it"
            " was not sealed by the organisation it names", code="file-altered") from None


def open_bundle(
    data: bytes,
    *,
    partners: dict[str, Partner],
    ours: dict[str, X25519PrivateKey],
) -> Opened:
    """Check and open a bundle: signed by a registered partner (`partners`, by
    organisation), unchanged, addressed to one of our organisations (`ours`: organisation
    -> the installation's private encryption key). Raises SealRefused."""
    parsed = _parse(data, BUNDLE_FORMAT)
    header: dict[str, Any] = parsed["header"]
    partner = partners.get(header["from"])
    if partner is None:
        raise SealRefused(
            f"the sender {header['from'][:100]!r} is not registered here; register its"
            " installation's public keys first", code="sender-unknown")
    ciphertext = unb64(parsed.get("ciphertext"))
    digest = _digest(header, ciphertext)
    _verify(partner.signing_key, unb64(parsed.get("signature")),
            BUNDLE_FORMAT.encode() + b"\n" + digest)
    private = ours.get(header["to"])
    if private is None or header.get("to_key") != fingerprint(
            raw_public(private.public_key())):
        raise SealRefused(
            f"the bundle is addressed to {header['to'][:100]!r}, not to an organisation of"
            " this installation", code="addressed-elsewhere")
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(
            unb64(header.get("ephemeral_key"))))
        content = AESGCM(_kdf(shared)).decrypt(unb64(header.get("nonce")), ciphertext,
                                               canonical(header))
    except (InvalidTag, ValueError):
        raise SealRefused("the bundle cannot be decrypted: it was changed",
                          code="file-altered") from None
    return Opened(header=header, content=content, bundle_hash=digest.hex())


@dataclass(frozen=True)
class Acknowledgement:
    bundle_hash: str
    sender: str
    """Who acknowledges: the receiving organisation."""
    receiver: str
    """To whom: the sending organisation."""
    accepted_on: date
    accepted_by: str
    """The receiving worker's name, as her organisation gives it."""


def seal_acknowledgement(ack: Acknowledgement, *, signer: Ed25519PrivateKey,
                         now: datetime) -> bytes:
    header = {
        "format": ACKNOWLEDGEMENT_FORMAT,
        "from": ack.sender,
        "to": ack.receiver,
        "bundle_hash": ack.bundle_hash,
        "accepted_on": ack.accepted_on.isoformat(),
        "accepted_by": ack.accepted_by,
        "created_at": now.isoformat(),
    }
    signature = signer.sign(ACKNOWLEDGEMENT_FORMAT.encode() + b"\n" + canonical(header))
    return canonical({"header": header, "signature": b64(signature)})


def open_acknowledgement(data: bytes, *, partners: dict[str, Partner],
                         ours: set[str]) -> Acknowledgement:
    """Check an acknowledgement: signed by the registered partner it names, unchanged,
    addressed to one of our organisations. Raises SealRefused."""
    parsed = _parse(data, ACKNOWLEDGEMENT_FORMAT)
    header: dict[str, Any] = parsed["header"]
    partner = partners.get(header["from"])
    if partner is None:
        raise SealRefused(f"the sender {header['from'][:100]!r} is not registered here",
                          code="sender-unknown")
    _verify(partner.signing_key, unb64(parsed.get("signature")),
            ACKNOWLEDGEMENT_FORMAT.encode() + b"\n" + canonical(header))
    if header["to"] not in ours:
        raise SealRefused(
            f"the acknowledgement is addressed to {header['to'][:100]!r}, not to an"
            " organisation of this installation", code="addressed-elsewhere")
    try:
        return Acknowledgement(
            bundle_hash=str(header["bundle_hash"]), sender=header["from"],
            receiver=header["to"], accepted_on=date.fromisoformat(str(header["accepted_on"])),
            accepted_by=str(header.get("accepted_by", ""))[:200],
        )
    except (KeyError, ValueError):
        raise SealRefused("the acknowledgement is incomplete", code="file-unreadable") from None
