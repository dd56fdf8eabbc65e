"""Time as an argument: a clock is a function returning the current UTC time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def amsterdam_date(moment: datetime) -> date:
    """The calendar day in Amsterdam, where the care happens."""
    return moment.astimezone(AMSTERDAM).date()


def parse_occurred(value: str | None, now: datetime) -> tuple[date, datetime | None]:
    """`occurred_on` as given by a caller: a date or an RFC 3339 time (with offset).

    Returns the Amsterdam calendar day and, when a time was given, that moment in UTC.
    Raises ValueError with a message fit for the caller.
    """
    if value is None:
        return amsterdam_date(now), None
    if len(value) == 10:
        try:
            return date.fromisoformat(value), None
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} needs a UTC offset (e.g. Z or +01:00)")
    moment = moment.astimezone(UTC)
    return amsterdam_date(moment), moment
