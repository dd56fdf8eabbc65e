"""The organisation stream's facts: what the organisation did for its professionals and
its climate, and what it learnt from its signals.

Past-tense facts, stored once and never edited. The hash chain is the trajectory's
(`aggregates.hashing`): a field added to one of these later needs a default, which is then
left out of the hash while it holds it. `fold` only assigns.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from eventsourcing.domain import Aggregate

from trajectory.organisation.state import (
    Analysis,
    Appointment,
    ClimateAssessment,
    OrganisationState,
    Reflection,
    Training,
)

TrainingKind = Literal["basic", "deepening"]
"""`basic`: the basic loverboy training for every professional; `deepening`: the
deepening for the organisation's experts."""
ReflectionKind = Literal["intervisie", "supervision", "case_reflection"]
SignalKind = Literal["loverboy", "sexual_abuse", "boundary_crossing", "runaway"]
"""The signals an analysis looks back on (as the quality signals count them)."""


class OrganisationEvent(Aggregate.Event):
    """Base of the organisation stream's events: when it happened (the Amsterdam day),
    who recorded it, and the chain (`prev_hash`, `hash`)."""

    occurred_on: date
    recorded_by: str
    prev_hash: str
    hash: str

    def mutate(self, aggregate: Any) -> Any:
        aggregate = super().mutate(aggregate)
        aggregate.head_hash = self.hash
        return aggregate

    def apply(self, aggregate: Any) -> None:
        self.fold(aggregate.state, self.originator_version)

    def fold(self, state: OrganisationState, position: int) -> None:
        """Change `state` to include this fact. Assign only: never check, never fail."""


class OrganisationStreamOpened(OrganisationEvent, Aggregate.Created):
    """The organisation's stream began (with its first recorded duty)."""

    organisation: str

    def apply(self, aggregate: Any) -> None:
        aggregate.state = OrganisationState(organisation=self.organisation)


class TrainingRecorded(OrganisationEvent):
    """A professional followed a training: the basic loverboy training, or the deepening
    for experts."""

    staff_name: str
    training: TrainingKind

    def fold(self, state: OrganisationState, position: int) -> None:
        state.trainings.append(
            Training(position, self.staff_name, self.training, self.occurred_on)
        )


class AandachtsfunctionarisAppointed(OrganisationEvent):
    """A professional was appointed aandachtsfunctionaris (from `occurred_on`, until
    `until_on` when the appointment has an end)."""

    staff_name: str
    until_on: date | None

    def fold(self, state: OrganisationState, position: int) -> None:
        state.appointments.append(
            Appointment(position, self.staff_name, self.occurred_on, self.until_on)
        )


class ReflectionSessionHeld(OrganisationEvent):
    """A reflection session was held: intervisie, supervision or a case reflection."""

    kind: ReflectionKind
    participants: int

    def fold(self, state: OrganisationState, position: int) -> None:
        state.reflections.append(
            Reflection(position, self.kind, self.occurred_on, self.participants)
        )


class PedagogicalClimateAssessed(OrganisationEvent):
    """The pedagogical climate was assessed with an instrument, with a score and a
    conclusion."""

    instrument: str
    score: str
    conclusion: str

    def fold(self, state: OrganisationState, position: int) -> None:
        state.climate_assessments.append(
            ClimateAssessment(
                position, self.instrument, self.occurred_on, self.score, self.conclusion
            )
        )


class SignalAnalysisRecorded(OrganisationEvent):
    """The signals of a period were analysed, and an improvement action was decided: who
    carries it out and by when (plan-do-check-act)."""

    signal_kinds: tuple[SignalKind, ...]
    period_from: str
    """The first month analysed (YYYY-MM)."""
    period_to: str
    """The last month analysed (YYYY-MM)."""
    analysis: str
    action: str
    owner: str
    due_on: date

    def fold(self, state: OrganisationState, position: int) -> None:
        state.analyses[position] = Analysis(
            position=position,
            signal_kinds=self.signal_kinds,
            period_from=self.period_from,
            period_to=self.period_to,
            analysis=self.analysis,
            action=self.action,
            owner=self.owner,
            due_on=self.due_on,
            analysed_on=self.occurred_on,
        )


class ImprovementActionCompleted(OrganisationEvent):
    """The improvement action of an analysis (by its position) was carried out, on
    `occurred_on`."""

    analysis: int

    def fold(self, state: OrganisationState, position: int) -> None:
        done = state.analyses.get(self.analysis)
        if done is not None:
            done.done_on = self.occurred_on


EVENTS: tuple[type[OrganisationEvent], ...] = (
    OrganisationStreamOpened,
    TrainingRecorded,
    AandachtsfunctionarisAppointed,
    ReflectionSessionHeld,
    PedagogicalClimateAssessed,
    SignalAnalysisRecorded,
    ImprovementActionCompleted,
)
"""Every event the stream may hold: the store decodes nothing else."""
