"""Sealed files between installations: only the addressee reads a bundle, a changed byte
or another signer is refused, and an acknowledgement proves who accepted."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from trajectory.exchange.sealing import (
    ACKNOWLEDGEMENT_FORMAT,
    BUNDLE_FORMAT,
    Acknowledgement,
    Partner,
    SealRefused,
    kind_of,
    open_acknowledgement,
    open_bundle,
    raw_public,
    seal_acknowledgement,
    seal_bundle,
)

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class Installation:
    def __init__(self, organisation: str):
        self.organisation = organisation
        self.signer = Ed25519PrivateKey.generate()
        self.decrypter = X25519PrivateKey.generate()

    def as_partner(self) -> Partner:
        return Partner(self.organisation, raw_public(self.signer.public_key()),
                       raw_public(self.decrypter.public_key()))


@pytest.fixture
def north() -> Installation:
    return Installation("Jeugdzorg Noord")


@pytest.fixture
def south() -> Installation:
    return Installation("Jeugdzorg Zuid")


def seal(sender: Installation, receiver: Installation, content: bytes = b'{"a": 1}'
         ) -> tuple[bytes, str]:
    return seal_bundle(content, sender=sender.organisation, receiver=receiver.as_partner(),
                       signer=sender.signer, now=NOW)


def test_the_addressee_opens_what_was_sealed_for_her(north: Installation,
                                                     south: Installation) -> None:
    # given a bundle from north to south
    sealed, digest = seal(north, south, b"her handover")
    # when south opens it with north registered
    opened = open_bundle(sealed, partners={north.organisation: north.as_partner()},
                         ours={south.organisation: south.decrypter})
    # then she reads the content, from north, under the hash the sender recorded
    assert (opened.content, opened.sender, opened.receiver) == (
        b"her handover", north.organisation, south.organisation)
    assert opened.bundle_hash == digest
    assert kind_of(sealed) == BUNDLE_FORMAT
    assert b"her handover" not in sealed


def test_a_changed_byte_is_refused_as_altered(north: Installation,
                                             south: Installation) -> None:
    sealed, _ = seal(north, south)
    # when one character of the ciphertext (or the header) changes
    for tampered in (sealed.replace(b'"ciphertext":"', b'"ciphertext":"A', 1),
                     sealed.replace(b"2026-12-04", b"2026-12-05", 1)):
        with pytest.raises(SealRefused) as refused:
            open_bundle(tampered, partners={north.organisation: north.as_partner()},
                        ours={south.organisation: south.decrypter})
        assert refused.value.code in ("file-altered", "file-unreadable")
    # and a signature by someone else under north's name is refused too
    impostor = Installation(north.organisation)
    forged, _ = seal(impostor, south)
    with pytest.raises(SealRefused) as refused:
        open_bundle(forged, partners={north.organisation: north.as_partner()},
                    ours={south.organisation: south.decrypter})
    assert refused.value.code == "file-altered"


def test_a_bundle_for_another_installation_is_refused(north: Installation,
                                                     south: Installation) -> None:
    third = Installation("Jeugdzorg West")
    sealed, _ = seal(north, third)
    with pytest.raises(SealRefused) as refused:
        open_bundle(sealed, partners={north.organisation: north.as_partner()},
                    ours={south.organisation: south.decrypter})
    assert refused.value.code == "addressed-elsewhere"
    # and an unknown sender is named as such
    with pytest.raises(SealRefused) as unknown:
        open_bundle(seal(north, south)[0], partners={}, ours={south.organisation:
                                                             south.decrypter})
    assert unknown.value.code == "sender-unknown"
    with pytest.raises(SealRefused) as garbage:
        open_bundle(b"not json", partners={}, ours={})
    assert garbage.value.code == "file-unreadable"


def test_an_acknowledgement_proves_who_accepted(north: Installation,
                                               south: Installation) -> None:
    ack = Acknowledgement(bundle_hash="ab" * 32, sender=south.organisation,
                          receiver=north.organisation, accepted_on=date(2026, 12, 4),
                          accepted_by="M. de Vries")
    sealed = seal_acknowledgement(ack, signer=south.signer, now=NOW)
    assert kind_of(sealed) == ACKNOWLEDGEMENT_FORMAT
    opened = open_acknowledgement(sealed, partners={south.organisation: south.as_partner()},
                                  ours={north.organisation})
    assert opened == ack
    with pytest.raises(SealRefused) as altered:
        open_acknowledgement(sealed.replace(b"2026-12-04", b"2026-12-01", 1),
                             partners={south.organisation: south.as_partner()},
                             ours={north.organisation})
    assert altered.value.code == "file-altered"
