"""The organisation's duties as its quality staff read them: every fact of its stream,
elements 1 and 9 on a day, and the open improvement actions (overdue first).

For the organisation's own quality officer and admin: staff are named, girls never (the
stream holds none)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from trajectory.organisation.aggregate import Organisation, organisation_id
from trajectory.organisation.elements import (
    AttentionOut,
    OrganisationElementOut,
    open_actions,
    organisation_elements,
)


class TrainingOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    staff_name: str
    training: str
    on: date


class AppointmentOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    staff_name: str
    from_on: date
    until_on: date | None


class ReflectionOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    kind: str
    on: date
    participants: int


class ClimateAssessmentOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    instrument: str
    on: date
    score: str
    conclusion: str


class AnalysisOut(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    signal_kinds: list[str]
    period_from: str
    period_to: str
    analysis: str
    action: str
    owner: str
    due_on: date
    analysed_on: date
    done_on: date | None


class OrganisationDutiesOut(msgspec.Struct, frozen=True, kw_only=True):
    organisation: str
    id: UUID
    version: int
    as_of: date
    elements: list[OrganisationElementOut]
    attention: list[AttentionOut]
    trainings: list[TrainingOut]
    appointments: list[AppointmentOut]
    reflections: list[ReflectionOut]
    climate_assessments: list[ClimateAssessmentOut]
    analyses: list[AnalysisOut]


def duties(
    organisation: str, stream: Organisation | None, as_of: date, today: date
) -> OrganisationDutiesOut:
    """What the stream holds (nothing yet: empty lists, both elements missing)."""
    state = stream.state if stream is not None else None
    return OrganisationDutiesOut(
        organisation=organisation,
        id=organisation_id(organisation),
        version=stream.version if stream is not None else 0,
        as_of=as_of,
        elements=organisation_elements(state, as_of),
        attention=open_actions(state, today),
        trainings=[
            TrainingOut(position=t.position, staff_name=t.staff_name, training=t.training,
                        on=t.on)
            for t in (state.trainings if state else [])
        ],
        appointments=[
            AppointmentOut(position=a.position, staff_name=a.staff_name, from_on=a.from_on,
                           until_on=a.until_on)
            for a in (state.appointments if state else [])
        ],
        reflections=[
            ReflectionOut(position=r.position, kind=r.kind, on=r.on, participants=r.participants)
            for r in (state.reflections if state else [])
        ],
        climate_assessments=[
            ClimateAssessmentOut(position=c.position, instrument=c.instrument, on=c.on,
                                 score=c.score, conclusion=c.conclusion)
            for c in (state.climate_assessments if state else [])
        ],
        analyses=[
            AnalysisOut(
                position=a.position, signal_kinds=list(a.signal_kinds),
                period_from=a.period_from, period_to=a.period_to, analysis=a.analysis,
                action=a.action, owner=a.owner, due_on=a.due_on, analysed_on=a.analysed_on,
                done_on=a.done_on,
            )
            for a in (state.analyses.values() if state else [])
        ],
    )
