"""What-if replay: a girl's recorded decisions judged again under a proposed protocol.

Pure (events in, a report out; no I/O, no clock): the store walk and the output are
`trajectory.protocol_replay`'s. Her history is not re-simulated: what was recorded stays
what happened, and each decision is asked again, on the day it happened and against the
state she was in just before it, whether the proposed protocol would have accepted it:
- a phase advance and the start of aftercare (`rules.check_transition_target` and
  `rules.check_advance`, with the waivers recorded, as far as they waive a criterion of
  the proposed protocol);
- a permission raised and a network contact restored (the proposed phase's caps);
then, day by day, which permissions and contacts stood above the proposed caps while she
was in care and for how many days; and, on the day of the report, which attention items
would be due or overdue under the proposed protocol and are not under her own.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import msgspec

from trajectory.aggregates.errors import RuleRefused
from trajectory.aggregates.events.handover import AftercareStarted
from trajectory.aggregates.events.network import NetworkContactRestored
from trajectory.aggregates.events.phasing import PermissionChanged, PhaseAdvanced, Waiver
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import ContactLevel, contact_rank, level_rank
from trajectory.protocol import rules
from trajectory.protocol.attention import attention_items
from trajectory.protocol.floor import HANDOVER_STEPS
from trajectory.protocol.model import Phase, Protocol


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded decision the proposed protocol would have refused."""

    position: int
    on: date
    decision: str  # phase-advance, aftercare-start, permission, contact-restored
    rule: str
    unmet: tuple[str, ...] = ()
    to_phase: int | None = None
    subject: str | None = None  # the permission kind, or the contact's risk


class AboveCap(msgspec.Struct, frozen=True, kw_only=True):
    """A permission (by kind) or a network contact (by risk) above the proposed caps."""

    what: str  # permission or contact
    subject: str
    days: int
    highest: str


class AttentionChange(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    due_on: date
    became: str  # due (not due under her own protocol) or overdue


class GirlReport(msgspec.Struct, frozen=True, kw_only=True):
    number: int  # her place in the run: pseudonymous, for reading the report
    trajectory_id: str
    organisation: str
    protocol: str  # her own, name and version
    events: int
    refusals: tuple[Refusal, ...] = ()
    above_caps: tuple[AboveCap, ...] = ()
    attention: tuple[AttentionChange, ...] = ()

    @property
    def affected(self) -> bool:
        return bool(self.refusals or self.above_caps or self.attention)


# The areas whose facts can change a permission, a contact, her phase or her status; the
# others (signals, sessions, analyses: most of a log) leave what stands above the caps as
# it was, and are not looked at again for it.
_MOVES_CAPS = frozenset(
    f"trajectory.aggregates.events.{area}"
    for area in ("intake", "phasing", "network", "handover", "closure")
)


def _spec(protocol: Protocol, phase: int) -> Phase:
    """The phase's caps; a phase the proposed protocol lacks has its last one's."""
    return protocol.phase_spec(min(phase, protocol.last_phase))


def _waivers(
    recorded: Iterable[Waiver], protocol: Protocol, to_phase: int | None
) -> list[Waiver]:
    """The recorded waivers as far as they waive a criterion the proposed protocol asks."""
    criteria = rules.criteria_for(protocol, to_phase)
    keep = [w for w in recorded if w.criterion in criteria]
    return keep if to_phase is not None else [
        w for w in keep if w.criterion not in HANDOVER_STEPS
    ]


def _judge(event: Any, state: TrajectoryState, protocol: Protocol) -> Refusal | None:
    """Would the proposed protocol have accepted this recorded decision?"""
    on: date = event.occurred_on
    position: int = event.originator_version
    try:
        if isinstance(event, PhaseAdvanced):
            rules.check_transition_target(state, protocol, event.to_phase)
            rules.check_advance(
                state, protocol, event.to_phase,
                _waivers(event.waivers, protocol, event.to_phase), on,
            )
        elif isinstance(event, AftercareStarted):
            rules.check_advance(state, protocol, None, _waivers(event.waivers, protocol, None), on)
        elif isinstance(event, PermissionChanged):
            cap = _spec(protocol, state.phase).caps[event.kind]
            if level_rank(event.kind, event.level) > level_rank(event.kind, cap):
                return Refusal(
                    position=position, on=on, decision="permission",
                    rule="phase-permission-cap", subject=event.kind,
                )
        elif isinstance(event, NetworkContactRestored):
            contact = state.contacts.get(event.contact_id)
            if contact is not None:
                cap_level = _contact_cap(protocol, state.phase, contact.risk)
                if contact_rank(event.level) > contact_rank(cap_level):
                    return Refusal(
                        position=position, on=on, decision="contact-restored",
                        rule="network-contact-cap", subject=contact.risk,
                    )
    except RuleRefused as refused:
        decision = "phase-advance" if isinstance(event, PhaseAdvanced) else "aftercare-start"
        return Refusal(
            position=position, on=on, decision=decision, rule=refused.code,
            unmet=tuple(refused.unmet),
            to_phase=event.to_phase if isinstance(event, PhaseAdvanced) else None,
        )
    return None


def _contact_cap(protocol: Protocol, phase: int, risk: str) -> ContactLevel:
    if risk == "prohibited":
        return "none"
    return _spec(protocol, phase).network[risk]  # type: ignore[index]


def _above(state: TrajectoryState, protocol: Protocol) -> dict[tuple[str, str], str]:
    """(what, subject) -> level, for what stands above the proposed caps now (in care)."""
    if state.status != "in_care":
        return {}
    spec = _spec(protocol, state.phase)
    out: dict[tuple[str, str], str] = {}
    for kind, level in state.permissions.items():
        if level_rank(kind, level) > level_rank(kind, spec.caps[kind]):
            out[("permission", kind)] = level
    for contact in state.contacts.values():
        if contact_rank(contact.level) > contact_rank(
            _contact_cap(protocol, state.phase, contact.risk)
        ):
            key = ("contact", contact.risk)
            if key not in out or _rank(key, contact.level) > _rank(key, out[key]):
                out[key] = contact.level
    return out


def _rank(key: tuple[str, str], level: str) -> int:
    if key[0] == "contact":
        return contact_rank(level)  # type: ignore[arg-type]
    return level_rank(key[1], level)  # type: ignore[arg-type]


class _Days:
    """Days above the caps per (what, subject), counted between the days facts happened."""

    def __init__(self) -> None:
        self.since: dict[tuple[str, str], date] = {}
        self.days: dict[tuple[str, str], int] = {}
        self.highest: dict[tuple[str, str], str] = {}

    def at(self, day: date, now_above: dict[tuple[str, str], str]) -> None:
        for key in list(self.since):
            if key not in now_above:
                self._close(key, day)
        for key, level in now_above.items():
            self.since.setdefault(key, day)
            self.days.setdefault(key, 0)
            previous = self.highest.get(key, level)
            self.highest[key] = level if _rank(key, level) > _rank(key, previous) else previous

    def _close(self, key: tuple[str, str], day: date) -> None:
        start = self.since.pop(key)
        self.days[key] = self.days.get(key, 0) + max((day - start).days, 0)

    def end(self, day: date) -> tuple[AboveCap, ...]:
        for key in list(self.since):
            self._close(key, day)
        # Above the caps for no whole day: a step inside one decision (a contact assessed
        # as prohibited, then lowered with it), not a day she lived above them.
        return tuple(
            AboveCap(what=what, subject=subject, days=days, highest=self.highest[(what, subject)])
            for (what, subject), days in sorted(self.days.items())
            if days > 0
        )


def replay_trajectory(
    events: Iterable[Any],
    proposed: Protocol,
    own: Protocol | None,
    as_of: date,
    *,
    number: int = 0,
) -> GirlReport:
    """Her events, in order, judged under `proposed`; `own` is the protocol she was opened
    under (None: not installed here, then no attention items are compared). Facts that
    happened after `as_of` are left out."""
    aggregate: Any = None
    refusals: list[Refusal] = []
    days = _Days()
    clock: date | None = None
    count = 0
    for event in events:
        count += 1
        if aggregate is None:
            aggregate = event.mutate(None)
        elif event.occurred_on > as_of:
            continue  # not known on the day of the report: neither judged nor folded
        else:
            refusal = _judge(event, aggregate.state, proposed)
            if refusal is not None:
                refusals.append(refusal)
            # Only her state matters here: folded without the library's version checks,
            # which a left-out later fact would trip.
            event.apply(aggregate)
        clock = event.occurred_on if clock is None else max(clock, event.occurred_on)
        if type(event).__module__ in _MOVES_CAPS:
            days.at(clock, _above(aggregate.state, proposed))
    if aggregate is None:
        raise ValueError("a trajectory has at least its opening event")
    state: TrajectoryState = aggregate.state
    return GirlReport(
        number=number,
        trajectory_id=str(aggregate.id),
        organisation=state.organisation,
        protocol=f"{state.protocol_name} {state.protocol_version}",
        events=count,
        refusals=tuple(refusals),
        above_caps=days.end(max(as_of, clock or as_of)),
        attention=_attention_changes(state, proposed, own, as_of),
    )


def _attention_changes(
    state: TrajectoryState, proposed: Protocol, own: Protocol | None, as_of: date
) -> tuple[AttentionChange, ...]:
    if own is None:
        return ()
    before = {item.code: item for item in attention_items(state, own, as_of)}
    changes = []
    for item in attention_items(state, proposed, as_of):
        old = before.get(item.code)
        if item.overdue and (old is None or not old.overdue):
            changes.append(AttentionChange(code=item.code, due_on=item.due_on, became="overdue"))
        elif old is None:
            changes.append(AttentionChange(code=item.code, due_on=item.due_on, became="due"))
    return tuple(changes)


class ReplayTotals(msgspec.Struct, kw_only=True):
    """The whole run: counts over every girl replayed."""

    girls: int = 0
    events: int = 0
    # Girls of a setting the proposed protocol would not be chosen for: not replayed.
    other_setting: int = 0
    girls_affected: int = 0
    refused: dict[str, int] = msgspec.field(default_factory=dict)  # decision -> count
    refused_by_rule: dict[str, int] = msgspec.field(default_factory=dict)
    unmet: dict[str, int] = msgspec.field(default_factory=dict)  # criterion -> count
    above_cap_days: dict[str, int] = msgspec.field(default_factory=dict)  # what:subject
    above_cap_girls: int = 0
    attention_due: int = 0
    attention_overdue: int = 0

    def add(self, girl: GirlReport) -> None:
        self.girls += 1
        self.events += girl.events
        self.girls_affected += girl.affected
        for r in girl.refusals:
            self.refused[r.decision] = self.refused.get(r.decision, 0) + 1
            self.refused_by_rule[r.rule] = self.refused_by_rule.get(r.rule, 0) + 1
            for criterion in r.unmet:
                self.unmet[criterion] = self.unmet.get(criterion, 0) + 1
        for a in girl.above_caps:
            key = f"{a.what}:{a.subject}"
            self.above_cap_days[key] = self.above_cap_days.get(key, 0) + a.days
        self.above_cap_girls += bool(girl.above_caps)
        for change in girl.attention:
            if change.became == "overdue":
                self.attention_overdue += 1
            else:
                self.attention_due += 1
