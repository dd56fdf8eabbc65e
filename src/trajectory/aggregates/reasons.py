"""The reasons the aggregate writes itself into an automatic fact, in one place.

When a regression lowers her freedoms (`PermissionsCapped.cause`), a contact assessed as
prohibited is cut off (`NetworkContactRestricted.reason`) or a receiving installation's
signed acknowledgement records her acceptance (`HandoverAccepted.confirmation`,
`trajectory.exchange.handover`), no person typed the reason: the application wrote it,
in English, and stored events keep it as written. The pages read such
a reason back into its parts (`read`) and say it in the page's language; free text a
person typed never matches, since only these exact shapes do.

Never change a shape: stored events hold the text it made.
"""

from __future__ import annotations

import re

REGRESSION = "regression from phase {from_phase} to {to_phase}"
RISK_ASSESSED = "risk assessed as {risk}"
SIGNED_ACKNOWLEDGEMENT = (
    "signed acknowledgement of {sender}: accepted by {accepted_by} on {accepted_on}"
    " (bundle {bundle})"
)
NOT_RECORDED = "not recorded"
"""What an intake without a risk-assessment instrument stores as the instrument."""

_SHAPES: dict[str, re.Pattern[str]] = {
    "regression": re.compile(r"regression from phase (?P<from_phase>\d+) to (?P<to_phase>\d+)"),
    "risk-assessed": re.compile(r"risk assessed as (?P<risk>[a-z_]+)"),
    "not-recorded": re.compile(re.escape(NOT_RECORDED)),
    "acknowledged": re.compile(
        r"signed acknowledgement of (?P<sender>.+): accepted by (?P<accepted_by>.*)"
        r" on (?P<accepted_on>\d{4}-\d{2}-\d{2}) \(bundle (?P<bundle>[0-9a-f]+)\)"),
}


def regression(from_phase: int, to_phase: int) -> str:
    return REGRESSION.format(from_phase=from_phase, to_phase=to_phase)


def risk_assessed(risk: str) -> str:
    return RISK_ASSESSED.format(risk=risk)


def signed_acknowledgement(sender: str, accepted_by: str, accepted_on: str,
                           bundle: str) -> str:
    return SIGNED_ACKNOWLEDGEMENT.format(sender=sender, accepted_by=accepted_by or "-",
                                         accepted_on=accepted_on, bundle=bundle)


def read(text: str) -> tuple[str, dict[str, str]] | None:
    """The kind of an automatic reason and its parts, or None for anything else."""
    for kind, shape in _SHAPES.items():
        found = shape.fullmatch(text)
        if found:
            return kind, found.groupdict()
    return None
