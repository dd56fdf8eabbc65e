"""Out of view: the girls an organisation has lost sight of, and why. A pure function of
a trajectory's state, its protocol and a day, read by the organisation's list
(`GET /out-of-view`), the handover view, the aftercare worker's list and the quality
figures alike, so that none of them can disagree.

She is out of view when
- her aftercare contact is overdue: no contact that reached her within the agreed
  interval (the handover package's frequency; the protocol's default when none);
- contact attempts failed: since the last contact that reached her, the protocol's number
  of attempts did not reach her, or the first of them is the protocol's number of days
  old;
- she left care without a warm handover (argued when it was recorded): from that day on,
  until a contact reaches her;
- her handover was not accepted in time after the warm handover meeting.

Each reason, once it holds, holds on every later day until a new fact clears it. So
`out_of_view_windows` gives, for her state alone, each reason with `since` (the day the
list shows) and `applies_from` (the first day it holds); the read model stores these and
asks `applies_from <= today`, and `out_of_view` is the same windows read for one day.
Facts marked in error count nowhere (their evidence is gone from the state), and a
corrected day counts as corrected.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import msgspec

from trajectory.aggregates.state import TrajectoryState
from trajectory.protocol.model import Protocol

OutOfViewReason = Literal[
    "aftercare-contact-overdue",
    "contact-attempts-failed",
    "left-without-handover",
    "handover-not-accepted",
]


class OutOfView(msgspec.Struct, frozen=True, kw_only=True):
    """One reason she is out of view, and since which day."""

    reason: OutOfViewReason
    since: date


def contact_interval_days(state: TrajectoryState, protocol: Protocol) -> int:
    """Days between aftercare contacts: as agreed in the handover package, or the
    protocol's default."""
    agreed = state.handover.contact_every_days
    return agreed if agreed else protocol.attention.aftercare_contact_interval_days


def last_reached(state: TrajectoryState) -> date | None:
    """The last day a contact reached her (in aftercare, or after she left)."""
    return state.latest("aftercare-contact")


def failed_attempts(state: TrajectoryState) -> list[date]:
    """The days of the contact attempts that did not reach her since the last that did."""
    since = last_reached(state)
    return sorted(
        e.on
        for e in state.evidence.get("aftercare-contact-failed", ())
        if since is None or e.on > since
    )


def in_aftercare(state: TrajectoryState) -> bool:
    return state.status == "aftercare" and state.aftercare_ended_on is None


def next_contact_due(state: TrajectoryState, protocol: Protocol) -> date | None:
    """The last day by which a contact must reach her (None: she is not in aftercare)."""
    if not in_aftercare(state):
        return None
    since = last_reached(state) or state.aftercare_started_on or state.intake_date
    return since + timedelta(days=contact_interval_days(state, protocol))


class OutOfViewWindow(msgspec.Struct, frozen=True, kw_only=True):
    """One reason she is, or will be, out of view as her record stands: `since` is the
    day the contract shows, `applies_from` the first day on which the reason holds.

    Every reason, once it holds, holds on every later day until a new fact changes her
    record (a contact that reaches her, an acceptance): so a stored window answers "out of
    view on day D?" with `applies_from <= D`, for any D, until her next event."""

    reason: OutOfViewReason
    since: date
    applies_from: date


def out_of_view_windows(state: TrajectoryState, protocol: Protocol) -> list[OutOfViewWindow]:
    """Every reason that holds now or will hold on a later day without a new fact, with
    the day it starts to hold; earliest first. Independent of the day asked about: the
    read model stores these, and `out_of_view` keeps those that hold on its day."""
    a = protocol.attention
    found: list[OutOfViewWindow] = []
    left = state.left_without_handover_on
    if left is not None:
        reached = last_reached(state)
        if reached is None or reached < left:
            found.append(
                OutOfViewWindow(reason="left-without-handover", since=left, applies_from=left)
            )
    due = next_contact_due(state, protocol)
    if due is not None:
        overdue_from = due + timedelta(days=1)
        found.append(
            OutOfViewWindow(
                reason="aftercare-contact-overdue", since=overdue_from, applies_from=overdue_from
            )
        )
        failed = failed_attempts(state)
        if failed:
            first = failed[0]
            # Too many attempts: from the day the last of them was made; fewer: once the
            # first is the protocol's number of days old.
            by_days = first + timedelta(days=a.aftercare_unreached_days)
            if len(failed) >= a.aftercare_failed_attempts:
                by_count = failed[a.aftercare_failed_attempts - 1]
                applies_from = min(by_count, by_days)
            else:
                applies_from = by_days
            found.append(
                OutOfViewWindow(
                    reason="contact-attempts-failed", since=first, applies_from=applies_from
                )
            )
    meeting = state.latest("handover-meeting")
    if state.status == "in_care" and meeting is not None and not state.has("handover-accepted"):
        late_from = meeting + timedelta(days=a.handover_acceptance_within_days + 1)
        found.append(
            OutOfViewWindow(reason="handover-not-accepted", since=late_from, applies_from=late_from)
        )
    found.sort(key=lambda w: (w.since, w.reason))
    return found


def out_of_view(state: TrajectoryState, protocol: Protocol, today: date) -> list[OutOfView]:
    """Why she is out of view on `today` (empty: she is in view), earliest first."""
    return [
        OutOfView(reason=w.reason, since=w.since)
        for w in out_of_view_windows(state, protocol)
        if w.applies_from <= today
    ]
