"""The rules of the phase protocol: pure functions of state, protocol and a given day.

Used twice: by the aggregate to refuse a command before anything is recorded, and by the
read side to show what is due. No I/O and no clock here; `today` is always passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from trajectory.aggregates.errors import (
    ArgumentRequired,
    ContactAboveCap,
    ContactProhibited,
    EntryCriteriaUnmet,
    InvalidWaiver,
    NotInCare,
    OccurredInFuture,
    PermissionAboveCap,
    RuleRefused,
    RunawayOpen,
)
from trajectory.aggregates.events.handover import WithoutHandover
from trajectory.aggregates.events.phasing import CappedContact, CappedPermission, Waiver
from trajectory.aggregates.state import TrajectoryState
from trajectory.aggregates.vocabulary import (
    PERMISSION_KINDS,
    ComenshaDecision,
    ConsentGiver,
    ContactLevel,
    ContinuationDecision,
    Destination,
    Level,
    PermissionKind,
    PlacementKind,
    contact_rank,
    level_rank,
    scale_for,
)

# Re-exported: the floor's criteria, where the rules (and their callers) use them.
from trajectory.protocol.floor import HANDOVER_STEPS as HANDOVER_STEPS
from trajectory.protocol.floor import RUNAWAY_CHECKS as RUNAWAY_CHECKS
from trajectory.protocol.model import Criterion, Protocol

# Criteria that are met when the state holds evidence of the same name.
_EVIDENCE_CRITERIA: frozenset[str] = frozenset(
    {
        "safety-analysis",
        "medical-assessment",
        "care-analysis",
        "treatment-plan",
        "placement",
        "education",
        "trauma-therapy",
        "family-involvement",
        "comensha-decision",
        "handover-prepared",
        "handover-meeting",
        "handover-accepted",
    }
)


# The evidence each check after a runaway asks for (dated on or after her return).
_RUNAWAY_EVIDENCE: dict[str, str] = {
    "medical-after-runaway": "medical-assessment",
    "safety-after-runaway": "safety-analysis",
}


def has_text(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def check_occurred_not_in_future(occurred_on: date, today: date) -> None:
    if occurred_on > today:
        raise OccurredInFuture(
            f"occurred_on {occurred_on.isoformat()} is after today ({today.isoformat()})"
        )


def check_not_before_current_phase(state: TrajectoryState, occurred_on: date) -> None:
    """A phase decision cannot predate the start of the phase she is in."""
    entered = state.phase_entered_on or state.intake_date
    if occurred_on < entered:
        raise RuleRefused(
            f"she entered phase {state.phase} on {entered.isoformat()}; a transition cannot"
            f" be dated {occurred_on.isoformat()}",
            code="occurred-before-current-phase",
        )


def check_in_care(state: TrajectoryState) -> None:
    """Phase, permission and network decisions belong to the time in care."""
    if state.status != "in_care":
        raise NotInCare(f"the trajectory is in status {state.status}, not in care")


def check_not_closed(state: TrajectoryState) -> None:
    if state.status == "closed":
        raise RuleRefused("the trajectory is closed", code="trajectory-closed")


def check_permission_within_cap(
    state: TrajectoryState, protocol: Protocol, kind: PermissionKind, level: Level
) -> None:
    # The kind may come from a URL path: an unknown one is a refusal, not a KeyError.
    if kind not in PERMISSION_KINDS:
        raise RuleRefused(
            f"{kind!r} is not a permission; use one of {', '.join(PERMISSION_KINDS)}",
            code="permission-kind-unknown",
        )
    if level not in scale_for(kind):
        raise RuleRefused(
            f"{level!r} is not a level of {kind}; use one of {', '.join(scale_for(kind))}",
            code="permission-level-invalid",
            fields=["level"],
        )
    cap = protocol.phase_spec(state.phase).caps[kind]
    if level_rank(kind, level) > level_rank(kind, cap):
        raise PermissionAboveCap(
            f"in phase {state.phase} {kind} is allowed at most {cap!r}, not {level!r}"
        )


def check_contact_restorable(
    state: TrajectoryState, protocol: Protocol, contact_id: str, level: ContactLevel
) -> None:
    contact = state.contacts.get(contact_id)
    if contact is None:
        raise RuleRefused(f"no network contact {contact_id}", code="contact-unknown")
    if contact.risk == "prohibited":
        raise ContactProhibited("a prohibited contact is never restored")
    if level == "none":
        raise RuleRefused("restoring needs a level above none", code="contact-level-invalid")
    cap = protocol.phase_spec(state.phase).network[contact.risk]
    if contact_rank(level) > contact_rank(cap):
        raise ContactAboveCap(
            f"in phase {state.phase} a {contact.risk} contact is allowed at most {cap!r},"
            f" not {level!r}"
        )


def check_contact_known(state: TrajectoryState, contact_id: str) -> None:
    if contact_id not in state.contacts:
        raise RuleRefused(f"no network contact {contact_id}", code="contact-unknown")


def contact_level_after_risk(
    state: TrajectoryState, protocol: Protocol, contact_id: str, risk: str
) -> ContactLevel:
    """The highest level a contact may keep once its risk is (re)assessed."""
    level = state.contacts[contact_id].level
    if risk == "prohibited":
        return "none"
    cap = protocol.phase_spec(state.phase).network[risk]  # type: ignore[index]
    return cap if contact_rank(level) > contact_rank(cap) else level


def criterion_met(
    criterion: Criterion,
    state: TrajectoryState,
    protocol: Protocol,
    today: date,
    to_phase: int | None,
) -> bool:
    """Whether one entry criterion holds for a transition to `to_phase` (None: aftercare)."""
    if criterion in _EVIDENCE_CRITERIA:
        # Evidence counts from the day it happened: a backdated transition cannot lean
        # on a fact that came later.
        return any(e.on <= today for e in state.evidence.get(criterion, ()))
    if criterion == "no-open-runaway":
        return state.open_runaway is None
    if criterion in _RUNAWAY_EVIDENCE:
        returned = state.last_runaway_ended_on
        if returned is None or returned > today:
            return True
        return any(
            returned <= e.on <= today
            for e in state.evidence.get(_RUNAWAY_EVIDENCE[criterion], ())
        )
    if criterion == "min-days-in-phase":
        days = 0 if to_phase is None else protocol.phase_spec(to_phase).min_days_in_previous_phase
        entered = state.phase_entered_on or state.intake_date
        return (today - entered).days >= days
    if criterion == "care-analysis-current":
        last = state.latest("care-analysis")
        interval = protocol.attention.care_analysis_interval_days
        return last is not None and (today - last).days <= interval
    raise AssertionError(f"unhandled criterion {criterion}")  # pragma: no cover


def criteria_for(protocol: Protocol, to_phase: int | None) -> tuple[Criterion, ...]:
    """Entry criteria of a phase; `None` means leaving care for aftercare. The floor's
    are always among them, whatever the protocol says: the checks after a runaway, and
    for aftercare the steps of the warm handover (a protocol built in code, not loaded
    from a file, cannot leave them out either)."""
    if to_phase is None:
        listed = protocol.aftercare.entry_criteria
        floor = (*HANDOVER_STEPS, *RUNAWAY_CHECKS)
    else:
        listed = protocol.phase_spec(to_phase).entry_criteria
        floor = RUNAWAY_CHECKS
    return listed + tuple(c for c in floor if c not in listed)


def unmet_criteria(
    state: TrajectoryState, protocol: Protocol, to_phase: int | None, today: date
) -> list[Criterion]:
    return [
        c
        for c in criteria_for(protocol, to_phase)
        if not criterion_met(c, state, protocol, today, to_phase)
    ]


def check_waivers(
    waivers: Sequence[Waiver], criteria: Sequence[Criterion]
) -> None:
    seen: set[str] = set()
    for n, w in enumerate(waivers):
        if w.criterion not in criteria:
            raise InvalidWaiver(
                f"{w.criterion!r} is not an entry criterion of this transition",
            )
        if w.criterion == "no-open-runaway":
            raise InvalidWaiver("an open runaway cannot be waived")
        if not has_text(w.justification):
            raise InvalidWaiver(f"waiving {w.criterion!r} needs a justification",
                                fields=[f"waivers[{n}].justification"])
        if w.criterion in seen:
            raise InvalidWaiver(f"{w.criterion!r} is waived twice")
        seen.add(w.criterion)


@dataclass(frozen=True)
class Advance:
    """An accepted advance: which criteria were met and which were waived."""

    criteria_met: tuple[str, ...]
    waivers: tuple[Waiver, ...]


def check_transition_target(state: TrajectoryState, protocol: Protocol, to_phase: int) -> None:
    check_in_care(state)
    if not 1 <= to_phase <= protocol.last_phase:
        raise RuleRefused(
            f"protocol {protocol.name} has phases 1 to {protocol.last_phase}, not {to_phase}",
            code="phase-unknown",
        )
    if to_phase == state.phase:
        raise RuleRefused(f"she is already in phase {to_phase}", code="phase-unchanged")
    if to_phase > state.phase + 1:
        raise RuleRefused(
            f"phases are taken one at a time: from {state.phase} the next is {state.phase + 1}",
            code="phase-skip",
        )


def check_advance(
    state: TrajectoryState,
    protocol: Protocol,
    to_phase: int | None,
    waivers: Sequence[Waiver],
    today: date,
    *,
    criteria: tuple[Criterion, ...] | None = None,
) -> Advance:
    """Check an advance to `to_phase` (None: into aftercare); return what was met/waived.
    `criteria`: these instead of the protocol's (the closure asks only the floor)."""
    if state.open_runaway is not None:
        raise RunawayOpen(
            f"she ran away on {state.open_runaway.since.isoformat()} and has not returned;"
            " no phase may be advanced",
            unmet=["no-open-runaway"],
        )
    if criteria is None:
        criteria = criteria_for(protocol, to_phase)
    check_waivers(waivers, criteria)
    waived = {w.criterion for w in waivers}
    unmet = [
        c
        for c in criteria
        if c not in waived and not criterion_met(c, state, protocol, today, to_phase)
    ]
    if unmet:
        raise EntryCriteriaUnmet(
            f"entry criteria not met: {', '.join(unmet)}", unmet=unmet
        )
    met = tuple(c for c in criteria if c not in waived)
    return Advance(criteria_met=met, waivers=tuple(waivers))


# -- the end of residential care -------------------------------------------------------------


def check_destination(state: TrajectoryState, destination: Destination | None) -> None:
    """Every ending of care says where she goes; closing after aftercare may lean on the
    destination recorded when aftercare started."""
    if destination is None and state.destination is None:
        raise RuleRefused(
            "ending care is a decision with a destination: say where she goes (destination)",
            code="destination-required",
            unmet=["destination"],
        )


def missing_handover(state: TrajectoryState) -> list[str]:
    """The steps of a warm handover not (yet) taken; empty: the handover was warm."""
    return [step for step in HANDOVER_STEPS if not state.has(step)]


def check_handover_for_ending(
    state: TrajectoryState, without_handover: WithoutHandover | None, *, transfer: bool
) -> None:
    """Care ends after a warm handover (meeting held, handover accepted) or, without one,
    with the reason argued (`without_handover`); then she is out of view at once. An
    argument after a warm handover is refused: it would flag her out of view for nothing.
    A transfer mid-care needs the handover package whatever else: the package travels."""
    if transfer and not state.has("handover-prepared"):
        raise RuleRefused(
            "a transfer to another organisation needs the handover package; prepare it first",
            code="handover-package-required",
            unmet=["handover-prepared"],
        )
    missing = missing_handover(state)
    if not missing:
        if without_handover is not None:
            raise RuleRefused(
                "the handover was warm: there is nothing to argue (leave out without_handover)",
                code="without-handover-pointless",
            )
        return
    if without_handover is None:
        raise RuleRefused(
            "care ends with a warm handover, or without one argued (without_handover);"
            f" missing: {', '.join(missing)}",
            code="handover-required",
            unmet=missing,
        )
    if not has_text(without_handover.argument):
        raise ArgumentRequired(
            "ending care without a warm handover needs its argument",
            code="without-handover-argument-required",
            fields=["without_handover.argument"],
        )


def check_no_handover_waived(waivers: Sequence[Waiver]) -> None:
    """A handover step is not waived at the end of care: ending care without one is
    argued (`without_handover`), and flags her out of view."""
    for w in waivers:
        if w.criterion in HANDOVER_STEPS:
            raise InvalidWaiver(
                f"{w.criterion!r} is not waived at the end of care; argue the missing"
                " handover instead (without_handover, on closure)"
            )


def left_out_of_view(state: TrajectoryState) -> bool:
    """She left care without a warm handover and no contact has reached her since."""
    left = state.left_without_handover_on
    if left is None:
        return False
    reached = state.latest("aftercare-contact")
    return reached is None or reached < left


def check_continuation_argued(decision: ContinuationDecision, argument: str | None) -> None:
    if decision == "refused" and not has_text(argument):
        raise ArgumentRequired(
            "her refusal of care after 18 needs its argument",
            code="continuation-argument-required",
            fields=["argument"],
        )


def turns_18_on(date_of_birth: date) -> date:
    """Her 18th birthday (born on 29 February: 1 March in a year without one)."""
    try:
        return date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:
        return date(date_of_birth.year + 18, 3, 1)


def caps_for_phase(
    state: TrajectoryState, protocol: Protocol, phase: int
) -> tuple[tuple[CappedPermission, ...], tuple[CappedContact, ...]]:
    """Permissions and contacts above `phase`'s caps, and the level each is lowered to."""
    spec = protocol.phase_spec(phase)
    permissions = []
    for kind in PERMISSION_KINDS:
        current = state.permissions.get(kind, "none")
        cap = spec.caps[kind]
        if level_rank(kind, current) > level_rank(kind, cap):
            permissions.append(CappedPermission(kind=kind, from_level=current, to_level=cap))
    contacts = []
    for contact in state.contacts.values():
        cap_level: ContactLevel = (
            "none" if contact.risk == "prohibited" else spec.network[contact.risk]
        )
        if contact_rank(contact.level) > contact_rank(cap_level):
            contacts.append(
                CappedContact(
                    contact_id=contact.contact_id, from_level=contact.level, to_level=cap_level
                )
            )
    return tuple(permissions), tuple(contacts)


def check_reason_given(reason: str | None, what: str) -> None:
    if not has_text(reason):
        raise ArgumentRequired(f"{what} needs a reason", code="reason-required",
                               fields=["reason"])


def check_ambulatory_placement_safe(
    state: TrajectoryState, kind: PlacementKind, on: date
) -> None:
    """Ambulatory treatment only where safety is guaranteed (the floor): an ambulatory
    placement, or any placement of a girl taken in as ambulatory, needs a safety analysis
    recorded on or before its day."""
    if kind != "ambulatory" and state.setting != "ambulatory":
        return
    if not any(e.on <= on for e in state.evidence.get("safety-analysis", ())):
        raise RuleRefused(
            "an ambulatory placement is accepted only after a safety analysis: record that"
            " first",
            code="ambulatory-safety-analysis-required",
            unmet=["safety-analysis"],
        )


def check_placement_argued(kind: PlacementKind, argument: str | None) -> None:
    """Homogeneous girls' group unless: any other placement carries its argument."""
    if kind != "homogeneous_group" and not has_text(argument):
        raise ArgumentRequired(
            f"a placement other than a homogeneous girls' group ({kind}) needs an argument",
            code="placement-argument-required",
            fields=["argument"],
        )


def check_comensha_argued(
    decision: ComenshaDecision, consent_by: ConsentGiver | None, argument: str | None
) -> None:
    """Register unless: not registering, or registering without a name, is argued."""
    if decision == "registered_by_name" and consent_by is None:
        raise ArgumentRequired(
            "registering by name needs the consent of a parent, guardian or the girl (16+)",
            code="comensha-consent-required",
            fields=["consent_by"],
        )
    if decision != "registered_by_name" and not has_text(argument):
        raise ArgumentRequired(
            f"the decision {decision!r} needs an argument (register unless)",
            code="comensha-argument-required",
            fields=["argument"],
        )


def check_consent_giver(consent_by: ConsentGiver | None, date_of_birth: date, on: date) -> None:
    if consent_by == "girl" and age_on(date_of_birth, on) < 16:
        raise RuleRefused(
            "a girl can give consent herself only from 16", code="consent-too-young"
        )


MIN_DISCIPLINES = 2
"""A care analysis is multidisciplinary: at least this many disciplines took part."""


def check_disciplines(disciplines: Sequence[str]) -> None:
    distinct = {d.strip().lower() for d in disciplines if d.strip()}
    if len(distinct) < MIN_DISCIPLINES:
        raise RuleRefused(
            "a care analysis is multidisciplinary: at least two disciplines",
            code="care-analysis-disciplines",
            fields=["disciplines"],
        )


HANDOVER_PACKAGE_TEXTS = ("sexual_development", "loverboy_problem", "safety_plan",
                          "aftercare_plan")
"""What the handover package must say in words (its `agreements` may be empty)."""


def check_police_involvement(measures: Sequence[str], police_involved: bool) -> None:
    """A safety analysis says once whether the police are involved: "police involved" as
    a measure beside "police involved: no" would record a contradiction."""
    if "police_involved" in measures and not police_involved:
        raise RuleRefused(
            "the measures name the police as involved, but police_involved is false;"
            " say it once: police_involved true, or leave the measure out",
            code="police-involvement-contradicted",
            fields=["police_involved"],
        )


def age_on(date_of_birth: date, on: date) -> int:
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def days_between(start: date, end: date) -> int:
    return (end - start).days


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)


def check_research_consent_giver(given_by: ConsentGiver, date_of_birth: date, on: date) -> None:
    """From 16 she decides herself; before 16 a parent or guardian consents."""
    age = age_on(date_of_birth, on)
    if given_by == "girl" and age < 16:
        raise RuleRefused(
            "a girl can give consent herself only from 16; ask a parent or guardian",
            code="consent-too-young",
        )
    if given_by != "girl" and age >= 16:
        raise RuleRefused(
            "from 16 she gives consent herself, not a parent or guardian",
            code="consent-by-girl-from-16",
        )


def check_destruction_requester(requested_by: ConsentGiver, date_of_birth: date, on: date) -> None:
    """Who may ask to destroy the file early: the girl from 12; before 16 also a parent."""
    age = age_on(date_of_birth, on)
    if requested_by == "girl" and age < 12:
        raise RuleRefused(
            "a child under 12 cannot request destruction herself; a parent or guardian can",
            code="destruction-requester-too-young",
        )
    if requested_by != "girl" and age >= 16:
        raise RuleRefused(
            "from 16 only she herself can request the destruction of her file",
            code="destruction-by-girl-from-16",
        )


def destruction_deadline(received_on: date) -> date:
    """A request to destroy is honoured within three months of receipt."""
    month = received_on.month + 3
    year = received_on.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in range(received_on.day, 0, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def check_signals_discussed(
    discussed_with_her: bool, discussed_on: date | None, today: date
) -> None:
    """The signals were discussed with her on a day, or not at all: a day without the
    discussion (or the discussion without its day, or a day still to come) is refused."""
    if discussed_with_her and discussed_on is None:
        raise RuleRefused(
            "say on which day the signals were discussed with her (discussed_on)",
            code="signals-discussed-on-required",
            unmet=["discussed_on"],
            fields=["discussed_on"],
        )
    if not discussed_with_her and discussed_on is not None:
        raise RuleRefused(
            "a day of discussion belongs to signals discussed with her (discussed_with_her)",
            code="signals-discussed-on-unexpected",
            unmet=["discussed_on"],
            fields=["discussed_on"],
        )
    if discussed_on is not None and discussed_on > today:
        raise RuleRefused(
            "the day the signals were discussed with her lies in the future",
            code="signals-discussed-on-future",
            unmet=["discussed_on"],
            fields=["discussed_on"],
        )
