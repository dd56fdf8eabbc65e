"""What a quality officer asks to record on her organisation's stream.

Shape only (msgspec checks it; unknown fields refused); the rules are the aggregate's.
Every command may carry `occurred_on` (a date or an RFC 3339 time, not in the future),
as a trajectory's facts do. The organisation is the caller's, never the body's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from trajectory.commands import Command, Short, Text
from trajectory.organisation.events import (
    ReflectionKind,
    SignalKind,
    TrainingKind,
)

Month = Annotated[
    str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]


class RecordTraining(Command, kw_only=True, forbid_unknown_fields=True):
    """A professional followed the basic loverboy training or the deepening for experts."""

    staff_name: Short
    training: TrainingKind


class AppointAandachtsfunctionaris(Command, kw_only=True, forbid_unknown_fields=True):
    """A professional is aandachtsfunctionaris from `occurred_on` (until `until_on`)."""

    staff_name: Short
    until_on: date | None = None


class RecordReflectionSession(Command, kw_only=True, forbid_unknown_fields=True):
    """An intervisie, supervision or case reflection, and how many took part."""

    kind: ReflectionKind
    participants: Annotated[int, msgspec.Meta(ge=1, le=1000)]


class RecordClimateAssessment(Command, kw_only=True, forbid_unknown_fields=True):
    """An assessment of the pedagogical climate: the instrument, its score, the
    conclusion."""

    instrument: Short
    score: Short
    conclusion: Text = ""


class RecordSignalAnalysis(Command, kw_only=True, forbid_unknown_fields=True):
    """The signals of a period analysed, and the improvement action decided on."""

    signal_kinds: Annotated[list[SignalKind], msgspec.Meta(min_length=1, max_length=4)]
    period_from: Month
    period_to: Month
    analysis: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    action: Annotated[str, msgspec.Meta(min_length=1, max_length=4_000)]
    owner: Short
    due_on: date


class CompleteImprovementAction(Command, kw_only=True, forbid_unknown_fields=True):
    """The improvement action of an analysis (its position in the stream) was carried
    out on `occurred_on`."""

    analysis: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]


OrganisationCommand = (
    RecordTraining
    | AppointAandachtsfunctionaris
    | RecordReflectionSession
    | RecordClimateAssessment
    | RecordSignalAnalysis
    | CompleteImprovementAction
)
