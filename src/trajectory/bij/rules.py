"""The rules on the data items of Beleidsinformatie Jeugd, as pure functions.

The citizen service number (burgerservicenummer, BSN) is nine digits that pass the
eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not all zeros).
A refusal names the field and never repeats the number: a refusal is logged and shown.
(Whether a municipality is one of the list is asked of the store's list, in the write
path: `trajectory.bij.municipalities`.)
"""

from __future__ import annotations

from trajectory.aggregates.errors import RuleRefused


def bsn_valid(bsn: str) -> bool:
    """Whether `bsn` is nine digits passing the eleven-test."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit() or bsn == "0" * 9:
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True))
    return (total - int(bsn[8])) % 11 == 0


def check_bsn(bsn: str, field: str = "identity.bsn") -> None:
    """An empty number is allowed (not known yet: the delivery leaves her out and says
    so); a number given must pass the eleven-test."""
    if bsn and not bsn_valid(bsn):
        raise RuleRefused(
            "the citizen service number is not valid: nine digits that pass the eleven-test",
            code="bsn-invalid", unmet=[field], fields=[field],
        )
