"""Outcomes as facts: revictimisation, and the follow-up measurements (effectmeting).

What research asks of this work (does she stay out of exploitation, where does she live,
school or work, is she still in view) is recorded here as facts of her file, in care and
after it: a closed file takes them too. The product stores the scores of validated
instruments; it ships no instrument.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    CareStage,
    FollowUpNotPossibleReason,
    GoalAttained,
    LivingSituation,
    LoverboyContact,
    OutcomeAnswer,
    OutcomeInformant,
    QualificationLevel,
    RevictimisationDay,
    RevictimisationKind,
    RevictimisationSource,
    SchoolOrWork,
)

Score = Annotated[float, msgspec.Meta(ge=-100_000, le=100_000)]
InstrumentName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class InstrumentScore(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """The scores of one validated instrument taken at a measurement (its name and
    version as published, the total, and subscale scores by the instrument's own names)."""

    name: InstrumentName
    version: Annotated[str, msgspec.Meta(max_length=100)] = ""
    total: Score
    subscales: Annotated[dict[InstrumentName, Score], msgspec.Meta(max_length=50)] = {}

    def __post_init__(self) -> None:
        # A score is a float. One given as a whole number from Python (`total=14`) would
        # be hashed as an int when recorded and read back as 14.0, and its chain would
        # no longer verify; decoding from JSON already gives floats.
        msgspec.structs.force_setattr(self, "total", float(self.total))
        msgspec.structs.force_setattr(
            self, "subscales", {k: float(v) for k, v in self.subscales.items()})


def follow_up_code(moment: int) -> str:
    """The evidence code of a follow-up moment (months after care; 0: at its end): one
    record per moment, a measurement or why it was not possible."""
    return f"follow-up:{moment}"


class RevictimisationReported(TrajectoryEvent):
    """A new exploitation or contact with a loverboy became known.

    `occurred_on` is the day it happened or the day it became known, as `day_is` says;
    `stage` is where she was then (in care, in aftercare, after closure), derived from
    her file."""

    kind: RevictimisationKind
    day_is: RevictimisationDay
    known_via: RevictimisationSource
    police_involved: bool
    stage: CareStage
    note: str = ""

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence("revictimisation", position, self.occurred_on)


class FollowUpMeasured(TrajectoryEvent):
    """A follow-up measurement (effectmeting) at one of the protocol's moments.

    `moment`: months after residential care ended (0: at its end). How she is doing:
    where she lives, school or work, revictimisation and runaways since the last one,
    contact with the loverboy or his network, and instrument scores."""

    moment: int
    living_situation: LivingSituation
    school_or_work: SchoolOrWork
    qualification: QualificationLevel
    revictimised_since: bool
    runaways_since: int
    loverboy_contact: LoverboyContact
    instruments: tuple[InstrumentScore, ...] = ()
    note: str = ""

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(follow_up_code(self.moment), position, self.occurred_on)


class FollowUpNotPossible(TrajectoryEvent):
    """A follow-up measurement could not be made, for a reason (itself data).

    Not reached, refused, deceased, or another reason with a note; it settles the moment
    as a measurement does."""

    moment: int
    reason: FollowUpNotPossibleReason
    note: str = ""

    def fold(self, state: TrajectoryState, position: int) -> None:
        state.add_evidence(follow_up_code(self.moment), position, self.occurred_on)


class GoalOutcome(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One goal of her treatment plan, and whether it was attained at the end of care."""

    goal: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    attained: GoalAttained


class CareOutcomeRecorded(TrajectoryEvent):
    """The outcome of her care, asked when it ended (the national outcome criteria of
    Beleidsinformatie Jeugd, `trajectory.bij`): her satisfaction with the use of the care,
    whether she can go on without help, who answered, and per goal of the treatment plan
    whether it was attained. A later record replaces an earlier one for the delivery."""

    satisfied: OutcomeAnswer
    without_help: OutcomeAnswer
    informant: OutcomeInformant
    goals: tuple[GoalOutcome, ...] = ()
    note: str = ""
