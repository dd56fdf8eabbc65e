"""The password hash verified against for unknown names is a constant (hashing it at import
cost every process start a noticeable part of its 2 s budget): it must keep the hasher's
parameters, or an unknown name would answer faster than a wrong password."""

from __future__ import annotations

from trajectory.identity.credentials import _DUMMY_HASH, _HASHER


def test_dummy_hash_has_the_hashers_parameters() -> None:
    assert not _HASHER.check_needs_rehash(_DUMMY_HASH)
    assert _HASHER.verify(_DUMMY_HASH, "not a password of anyone")
