"""What the write path refuses before any rule of the protocol runs: input that names a
field (a date that does not read, a date before 1900, an idempotency key that does not fit
or was used for another request).

A leaf module: every adapter imports it to translate these into its own words (the API
into a 422 problem naming the field, the pages into a sentence at the field), and it
imports nothing of theirs. The English `detail` and `message` are the API's words; they
are part of its contract, so they do not change.
"""

from __future__ import annotations

from datetime import date

from trajectory.aggregates.errors import TrajectoryError

EARLIEST = date(1900, 1, 1)
"""No fact about a girl in care happened before this: an earlier date is a typo (and the
arithmetic on it, ages and days since intake, would go wrong downstream)."""


class InputRefused(TrajectoryError):
    """Input the write path refuses, naming the field.

    `detail` is the sentence about the whole request, `message` the words at the field,
    `rule` a stable code when the refusal is one the API names (else None), `code` what
    kind of refusal it is (for an adapter to choose its own words)."""

    code = "input-refused"
    rule: str | None = None

    def __init__(self, field: str, detail: str, message: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail
        self.message = message


class DateUnreadable(InputRefused):
    """`occurred_on` reads neither as a date nor as an RFC 3339 time with an offset."""

    code = "date-unreadable"

    def __init__(self, field: str, reason: str):
        super().__init__(
            field,
            f"{field} must be a date (YYYY-MM-DD) or an RFC 3339 time with an offset",
            reason,
        )


class DateTooEarly(InputRefused):
    """A date before 1900-01-01 (EARLIEST)."""

    code = "date-too-early"

    def __init__(self, field: str):
        super().__init__(
            field,
            f"{field} lies before {EARLIEST.isoformat()}",
            f"before {EARLIEST.isoformat()}",
        )


KEY_FIELD = "Idempotency-Key"
"""The field an idempotency refusal names: the header's name, as the API has it."""


class IdempotencyKeyInvalid(InputRefused):
    """A key that is not 1 to 200 visible ASCII characters."""

    code = "idempotency-key-invalid"

    def __init__(self) -> None:
        super().__init__(
            KEY_FIELD, "Idempotency-Key must be 1 to 200 visible ASCII characters", "invalid"
        )


class IdempotencyKeyReused(InputRefused):
    """The key answered another request before: replaying that answer would be a lie,
    and recording this one would break the promise of the key."""

    code = "idempotency-key-reused"
    rule = "idempotency-key-reused"

    def __init__(self) -> None:
        super().__init__(
            KEY_FIELD,
            "this Idempotency-Key was used before with a different request",
            "reused with another body",
        )
