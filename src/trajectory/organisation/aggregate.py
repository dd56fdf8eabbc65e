"""The Organisation aggregate: one per organisation, the write side of its own duties.

A command's rules are checked first (refusals raise `RuleRefused` with a stable code and
trigger nothing); then its event is triggered with the hash chain, as a trajectory's are.
The stream's id is derived from the organisation's name (`organisation_id`), so that
every process finds the same stream without a lookup table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from trajectory.aggregates.chained import HashChained
from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.trajectory import Meta
from trajectory.organisation import commands as oc
from trajectory.organisation import events as ev
from trajectory.protocol import rules

if TYPE_CHECKING:
    from trajectory.organisation.state import OrganisationState


NAMESPACE = UUID("6f1d2b7e-3c4a-5e8f-9a0b-1c2d3e4f5a6b")
"""The namespace of organisation stream ids. Never change it: stored streams carry ids
made with it."""


def organisation_id(organisation: str) -> UUID:
    """The stream id of an organisation: the same name gives the same id, everywhere."""
    return uuid5(NAMESPACE, "organisation:" + organisation)


class Organisation(HashChained):
    """One organisation's own duties (core elements 1 and 9, signal analyses)."""

    if TYPE_CHECKING:  # set by OrganisationStreamOpened.apply and every event's mutate
        state: OrganisationState
        head_hash: str

    def __init__(self) -> None:
        """Called once when the opening event is applied; the event sets the state."""

    @classmethod
    def open(cls, organisation: str, meta: Meta) -> Organisation:
        """The organisation's stream, begun by its first recorded duty."""
        event_class = ev.OrganisationStreamOpened
        kwargs: dict[str, Any] = {
            "occurred_on": meta.today,
            "recorded_by": meta.recorded_by,
            "organisation": organisation,
        }
        return cls._opened(event_class, organisation_id(organisation), kwargs,
                           meta.recorded_at)

    def _record(self, event_class: type[Any], meta: Meta, **fields: Any) -> None:
        rules.check_occurred_not_in_future(meta.occurred_on, meta.today)
        self.trigger_event(
            event_class,
            occurred_on=meta.occurred_on,
            recorded_by=meta.recorded_by,
            recorded_at=meta.recorded_at,
            **fields,
        )

    def handle(self, command: oc.OrganisationCommand, meta: Meta) -> None:
        """Run one command: its rules, then its event."""
        if isinstance(command, oc.RecordTraining):
            self._record(
                ev.TrainingRecorded, meta,
                staff_name=_named(command.staff_name), training=command.training,
            )
        elif isinstance(command, oc.AppointAandachtsfunctionaris):
            if command.until_on is not None and command.until_on <= meta.occurred_on:
                raise RuleRefused(
                    "the appointment must end after it begins", code="appointment-ends-first",
                    unmet=["until_on"],
                )
            self._record(
                ev.AandachtsfunctionarisAppointed, meta,
                staff_name=_named(command.staff_name), until_on=command.until_on,
            )
        elif isinstance(command, oc.RecordReflectionSession):
            self._record(
                ev.ReflectionSessionHeld, meta,
                kind=command.kind, participants=command.participants,
            )
        elif isinstance(command, oc.RecordClimateAssessment):
            self._record(
                ev.PedagogicalClimateAssessed, meta,
                instrument=command.instrument.strip(), score=command.score.strip(),
                conclusion=command.conclusion,
            )
        elif isinstance(command, oc.RecordSignalAnalysis):
            self._analyse(command, meta)
        else:
            self._complete(command, meta)

    def _analyse(self, command: oc.RecordSignalAnalysis, meta: Meta) -> None:
        if command.period_from > command.period_to:
            raise RuleRefused(
                "the period analysed must begin before it ends", code="period-invalid",
                unmet=["period_from"],
            )
        if command.period_to > meta.occurred_on.isoformat()[:7]:
            raise RuleRefused(
                "signals can only be analysed once they happened: the period ends after the"
                " analysis", code="period-invalid", unmet=["period_to"],
            )
        if command.due_on < meta.occurred_on:
            raise RuleRefused(
                "the improvement action cannot be due before the analysis",
                code="due-before-analysis", unmet=["due_on"],
            )
        self._record(
            ev.SignalAnalysisRecorded, meta,
            signal_kinds=tuple(dict.fromkeys(command.signal_kinds)),
            period_from=command.period_from, period_to=command.period_to,
            analysis=command.analysis, action=command.action,
            owner=_named(command.owner, "owner"), due_on=command.due_on,
        )

    def _complete(self, command: oc.CompleteImprovementAction, meta: Meta) -> None:
        analysis = self.state.analyses.get(command.analysis)
        if analysis is None:
            raise RuleRefused(
                "there is no signal analysis at that position", code="analysis-unknown",
                unmet=["analysis"],
            )
        if analysis.done_on is not None:
            raise RuleRefused(
                f"the improvement action was already carried out on {analysis.done_on}",
                code="already-done", unmet=["analysis"],
            )
        if meta.occurred_on < analysis.analysed_on:
            raise RuleRefused(
                "the improvement action cannot be carried out before it was decided",
                code="done-before-analysis", unmet=["occurred_on"],
            )
        self._record(ev.ImprovementActionCompleted, meta, analysis=command.analysis)


def _named(name: str, field: str = "staff_name") -> str:
    name = name.strip()
    if not name:
        raise RuleRefused(f"{field} must name someone", code="name-missing", unmet=[field])
    return name
