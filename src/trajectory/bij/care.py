"""A girl's care as Beleidsinformatie Jeugd sees it, read from her events.

One `CareRecord` per trajectory: who she is (the protocol's items about the young person),
her care (start, end, referrer, form, crisis, reason of ending) and its outcome. Read from
the decrypted events, never from a read model: the items are personal data that no
projection keeps. An entry marked in error does not count; of several outcome records the
last counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import cast
from uuid import UUID

from trajectory.aggregates.events.analysis import TreatmentPlanSet
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import EntryMarkedInError, TrajectoryClosed
from trajectory.aggregates.events.intake import TrajectoryOpened, YouthCareItemsRecorded
from trajectory.aggregates.events.outcomes import CareOutcomeRecorded, GoalOutcome
from trajectory.aggregates.vocabulary import (
    CareForm,
    EndReason,
    OutcomeAnswer,
    OutcomeInformant,
    Referrer,
    Sex,
)
from trajectory.application import TrajectoryApplication
from trajectory.bij.codes import end_reason_of


@dataclass(frozen=True)
class CareOutcome:
    """The answers of the outcome questions (the last `CareOutcomeRecorded`)."""

    satisfied: OutcomeAnswer
    without_help: OutcomeAnswer
    informant: OutcomeInformant
    goals: tuple[GoalOutcome, ...] = ()


@dataclass(frozen=True)
class CareRecord:
    trajectory_id: str
    organisation: str
    bsn: str
    date_of_birth: date
    sex: Sex
    municipality: str
    referrer: Referrer | None
    care_form: CareForm | None
    started_in_crisis: bool
    start: date
    end: date | None = None
    end_reason: EndReason | None = None
    outcome: CareOutcome | None = None
    plan_goals: tuple[str, ...] = ()

    def ended_between(self, first: date, last: date) -> bool:
        return self.end is not None and first <= self.end <= last

    def in_care_between(self, first: date, last: date) -> bool:
        return self.start <= last and (self.end is None or self.end >= first)


def care_record(trajectory_id: UUID | str, events: Iterable[TrajectoryEvent]) -> CareRecord:
    """Her care from her events (the first is the opening)."""
    stream = list(events)
    in_error = {e.position for e in stream if isinstance(e, EntryMarkedInError)}
    opened = stream[0]
    assert isinstance(opened, TrajectoryOpened)
    closed: TrajectoryClosed | None = None
    outcome: CareOutcomeRecorded | None = None
    goals: tuple[str, ...] = ()
    items: dict[str, object] = {
        "bsn": opened.identity.bsn, "sex": opened.sex, "municipality": opened.municipality,
        "referrer": opened.referrer, "care_form": opened.care_form,
        "started_in_crisis": opened.started_in_crisis,
    }
    for event in stream[1:]:
        if event.originator_version in in_error:
            continue
        if isinstance(event, YouthCareItemsRecorded):
            # only the items given (not empty, not None) replace what was known
            items.update({name: value for name in items
                          if (value := getattr(event, name)) not in ("", None)})
        elif isinstance(event, TrajectoryClosed):
            closed = event
        elif isinstance(event, CareOutcomeRecorded):
            outcome = event
        elif isinstance(event, TreatmentPlanSet):
            goals = event.goals
    end_reason: EndReason | None = None
    if closed is not None:
        # A closure recorded before issue 20 has none: mapped as it would be today.
        end_reason = closed.end_reason or end_reason_of(closed.reason, closed.destination)
    return CareRecord(
        trajectory_id=str(trajectory_id),
        organisation=opened.organisation,
        bsn=cast(str, items["bsn"]),
        date_of_birth=opened.identity.date_of_birth,
        sex=cast(Sex, items["sex"]),
        municipality=cast(str, items["municipality"]),
        referrer=cast(Referrer | None, items["referrer"]),
        care_form=cast(CareForm | None, items["care_form"]),
        started_in_crisis=cast(bool, items["started_in_crisis"]),
        start=opened.occurred_on,
        end=closed.occurred_on if closed is not None else None,
        end_reason=end_reason,
        outcome=None if outcome is None else CareOutcome(
            satisfied=outcome.satisfied, without_help=outcome.without_help,
            informant=outcome.informant, goals=outcome.goals),
        plan_goals=goals,
    )


def care_records(
    app: TrajectoryApplication, organisation: str | None = None
) -> Iterator[CareRecord]:
    """Every girl's care in the installation (or one organisation), by id; an erased girl
    has no index row and is not read."""
    for row in app.index(organisation):
        tid = UUID(str(row["trajectory_id"]))
        yield care_record(tid, app.stream(tid))
