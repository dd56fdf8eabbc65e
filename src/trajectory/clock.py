"""Time as an argument: a clock is a function returning the current UTC time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def amsterdam_date(moment: datetime) -> date:
    """The calendar day in Amsterdam, where the care happens."""
    return moment.astimezone(AMSTERDAM).date()


LARGEST_OFFSET = timedelta(hours=14)
"""No clock on earth is further from UTC (Kiribati, +14:00; the last is -12:00)."""
FIRST_MOMENT = datetime(1, 1, 2, tzinfo=UTC)
LAST_MOMENT = datetime(9998, 12, 31, tzinfo=UTC)
"""A moment is read only between these: a day away from the calendar's ends, so that
moving it to UTC or to Amsterdam, or to the end of its day, never overflows."""


def parse_moment(value: str) -> datetime:
    """An RFC 3339 time with its offset, as the moment in UTC; the one reading of a time
    for every entry point (API, pages, command line).

    Raises ValueError with the reason (the value is not echoed), also for a time that reads but is
    no moment anyone means: an offset beyond ±14:00, or a moment at the calendar's ends
    (year 1 at +14:00 is before the year 1 in UTC, and every step after would fail).
    """
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("not an RFC 3339 time") from None
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("needs a UTC offset (e.g. Z or +01:00)")
    if abs(offset) > LARGEST_OFFSET:
        raise ValueError("has an offset beyond ±14:00")
    if not FIRST_MOMENT <= moment <= LAST_MOMENT:
        raise ValueError("lies outside the years 1 to 9998")
    return moment.astimezone(UTC)


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
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{value!r} is not a date or an RFC 3339 time") from None
    try:
        moment = parse_moment(value)
    except ValueError as e:
        raise ValueError(f"{value!r} {e}") from None
    return amsterdam_date(moment), moment


def end_of_day(day: date) -> datetime:
    """The last moment of an Amsterdam calendar day, in UTC: what was known "on" a day is
    what was recorded up to and including this moment."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=AMSTERDAM)
    return (end - timedelta(microseconds=1)).astimezone(UTC)
