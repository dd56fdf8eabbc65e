"""The organisation stream's state: its facts as folded, in the order recorded.

Not snapshotted: a stream holds tens of facts a year, read whole. Plain data; the rules
that read it are `organisation.elements`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Training:
    position: int
    staff_name: str
    training: str
    on: date


@dataclass(frozen=True)
class Appointment:
    position: int
    staff_name: str
    from_on: date
    until_on: date | None


@dataclass(frozen=True)
class Reflection:
    position: int
    kind: str
    on: date
    participants: int


@dataclass(frozen=True)
class ClimateAssessment:
    position: int
    instrument: str
    on: date
    score: str
    conclusion: str


@dataclass
class Analysis:
    """A signal analysis with its improvement action; `done_on` once carried out."""

    position: int
    signal_kinds: tuple[str, ...]
    period_from: str
    period_to: str
    analysis: str
    action: str
    owner: str
    due_on: date
    analysed_on: date
    done_on: date | None = None


@dataclass
class OrganisationState:
    organisation: str
    trainings: list[Training] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    reflections: list[Reflection] = field(default_factory=list)
    climate_assessments: list[ClimateAssessment] = field(default_factory=list)
    analyses: dict[int, Analysis] = field(default_factory=dict)
