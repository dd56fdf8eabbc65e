"""The published figures of one installation for one year, as a signed document.

A JSON file:
    {"format": "trajectory-national-figures/1",
     "figures": {...},                 # what is signed: the year, the two tables
     "public_key": "<base64>",         # the installation's Ed25519 public key
     "fingerprint": "ab12 cd34 ...",   # of that key, for people to compare
     "signature": "<base64>"}          # Ed25519 over the figures' canonical bytes

The figures hold only what `/statistics/victims` publishes: suppressed and rounded counts
of a closed (frozen) year, never a true small count: the document may travel anywhere.

The signature covers the canonical bytes of the `figures` object exactly as it is in the
file (JSON, keys sorted, no spaces), behind a fixed prefix that names the format, so a
signature made for anything else never verifies here. Verification reads the object as
plain JSON before it is decoded into our types: what is checked is what the file says,
not what our decoder made of it. What must not change: the format name, the prefix and
the canonical encoding; a new format gets a new name.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trajectory.projections.victims import TableOut
from trajectory.statistics.signing import PublicKey, public_key_of

FORMAT: Final = "trajectory-national-figures/1"
_PREFIX = FORMAT.encode() + b"\n"
_canonical = msgspec.json.Encoder(order="sorted")


class PublishedFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One installation's figures of one closed year: each table with one column."""

    installation: str
    year: int
    published_on: date
    small_cell_threshold: int
    rounding_base: int
    registered: TableOut
    in_care: TableOut


class SignedFigures(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: Literal["trajectory-national-figures/1"]
    figures: PublishedFigures
    public_key: str
    fingerprint: str
    signature: str


class DocumentRefused(Exception):
    """A document that is not what it claims to be: unreadable, not this format, its
    signature not made by its key, or its key not a trusted one."""


def canonical(figures: Any) -> bytes:
    """The bytes that are signed: the figures as plain JSON, keys sorted."""
    return _PREFIX + _canonical.encode(msgspec.to_builtins(figures))


def sign(figures: PublishedFigures, key: Ed25519PrivateKey) -> SignedFigures:
    public = public_key_of(key)
    signature = key.sign(canonical(figures))
    return SignedFigures(
        format=FORMAT,
        figures=figures,
        public_key=public.to_text(),
        fingerprint=public.fingerprint,
        signature=base64.b64encode(signature).decode(),
    )


def write(document: SignedFigures, path: Path) -> None:
    """Write the document (readable JSON; the signature does not depend on its layout)."""
    path.write_bytes(msgspec.json.format(msgspec.json.encode(document), indent=1) + b"\n")


def verify(data: bytes) -> tuple[PublishedFigures, PublicKey]:
    """The figures and the key that signed them, once the signature checks out against the
    key in the document. Whether that key is one to trust is the caller's question."""
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError:
        raise DocumentRefused("not a JSON document") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise DocumentRefused(f"not a {FORMAT} document")
    try:
        public = PublicKey.from_text(str(raw.get("public_key", "")))
        signature = base64.b64decode(str(raw.get("signature", "")), validate=True)
    except (ValueError, binascii.Error):
        raise DocumentRefused("its public key or signature is not readable") from None
    try:
        public.verifier().verify(signature, canonical(raw.get("figures")))
    except InvalidSignature:
        raise DocumentRefused(
            "its signature does not match its figures: the file was changed after it was"
            " signed, or signed with another key"
        ) from None
    try:
        document = msgspec.json.decode(data, type=SignedFigures)
    except msgspec.ValidationError as e:
        raise DocumentRefused(f"its figures are not in the expected shape ({e})") from None
    if document.fingerprint != public.fingerprint:
        raise DocumentRefused("its fingerprint is not that of its public key")
    return document.figures, public
