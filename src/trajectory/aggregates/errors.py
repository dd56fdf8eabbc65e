"""Refusals: a command the rules refuse records nothing and raises one of these.

Each refusal has a stable `code` (part of the HTTP contract as the problem's `rule`) and
a plain-English message; entry-criteria refusals list the unmet criteria by code.
"""

from __future__ import annotations

from collections.abc import Sequence


class TrajectoryError(Exception):
    """Base of every error the domain raises on purpose."""


class RuleRefused(TrajectoryError):
    """The phase protocol or a domain rule refuses the command."""

    code = "rule-refused"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        unmet: Sequence[str] = (),
        fields: Sequence[str] = (),
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.unmet: tuple[str, ...] = tuple(unmet)
        self.fields: tuple[str, ...] = tuple(fields)
        """The command's fields the refusal is about (`package.safety_plan`,
        `waivers[0].justification`): where a form shows it. Empty: the whole command."""


class PermissionAboveCap(RuleRefused):
    code = "phase-permission-cap"


class EntryCriteriaUnmet(RuleRefused):
    code = "entry-criteria-unmet"


class RunawayOpen(RuleRefused):
    code = "runaway-open"


class ContactProhibited(RuleRefused):
    code = "contact-prohibited"


class ContactAboveCap(RuleRefused):
    code = "network-contact-cap"


class ArgumentRequired(RuleRefused):
    code = "argument-required"


class InvalidWaiver(RuleRefused):
    code = "waiver-invalid"


class NotInCare(RuleRefused):
    code = "not-in-care"


class AftercareEnded(RuleRefused):
    """Aftercare ended: the aftercare worker may still read the file for the grace period
    (trajectory.visibility), but records nothing more on it."""

    code = "aftercare-ended"


class EmergencyReadOnly(RuleRefused):
    """She opened the file by emergency access, to read only (trajectory.visibility): her
    organisation does not let emergency access record, or she did not ask to."""

    code = "emergency-access-read-only"


class OccurredInFuture(RuleRefused):
    code = "occurred-in-future"


class TrajectoryNotFound(TrajectoryError):
    """No trajectory with that id (or none the caller may see)."""

    def __init__(self, trajectory_id: object):
        super().__init__(f"trajectory {trajectory_id} not found")
        self.trajectory_id = trajectory_id


class VersionConflict(TrajectoryError):
    """The trajectory changed since the version the caller expected."""

    def __init__(self, expected: int, actual: int):
        super().__init__(f"expected version {expected}, the trajectory is at {actual}")
        self.expected = expected
        self.actual = actual


class WriteRefused(TrajectoryError):
    """The store refused a row of the command's transaction (not a concurrent write):
    nothing was recorded. A server-side fault, e.g. the access log could not be written."""
