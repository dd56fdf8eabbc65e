"""The evidence rules of the core-element matrix: per core element, what counts as
evidence, when it is due, and what makes it missing. Declared once (`RULES`); the matrix
judges every element by them (`judge`), and the documentation's table (docs/core-elements.md)
is written from them (`python -m trajectory.protocol.evidence docs/core-elements.md`; a test
checks that the page is what the code says).

Why rules and not "one event per element": an inspector reads the matrix as "this element
was applied". One case conference is not chain cooperation and aftercare, one permission
change is not phasing: a token event must never make an element `evidenced`. So each rule
asks for the facts that together are the element (a warm handover, its acceptance and an
aftercare contact that reached her; a phase advance after time lived in the phase, with no
permission ever above its phase's cap; ...), and elements that must be kept up (the safety
analysis and the medical assessment after every runaway, the care analysis every interval)
lapse when they are not.

Two readings of one rule: while she is in care, an element that must be kept up reads as
it stands that day; once care ended (aftercare started or the file closed), it reads over
the whole time in care. An element with no fixed deadline is due while she is in care and
missing when care ended without it.

This module is pure: facts in (codes, kinds, days, positions), a verdict out. No I/O, no
clock. The facts are the read model's rows (`core_elements.FactRow`): what each event
contributes is declared with the fact in `trajectory.facts` (its element and code) and
completed by the projection (`core_elements.facts_of`) where the event's fields matter.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

ElementStatus = Literal["evidenced", "waived", "due", "missing", "not_applicable"]
FactKind = Literal["evidence", "waiver", "due", "breach", "exception"]
"""What a stored fact is to its element: `evidence` (it contributes; the rule says whether
it suffices), `waiver` (an entry criterion set aside with a justification), `due` (it makes
the element due again: her return after a runaway), `breach` (it undoes the element: a
permission above the phase's cap), `exception` (the element was argued away: care ended
without a warm handover, with its reason and argument)."""

ELEMENTS: dict[int, str] = {
    1: "professionals know the problem",
    2: "signals recognised, risk assessment",
    3: "follow-up steps: network analysis, police report discussed",
    4: "CoMensha registration",
    5: "safety first",
    6: "acute medical care",
    7: "problem, risk, needs and strengths analysis",
    8: "parents and network involved",
    9: "positive pedagogical climate",
    10: "clear phases",
    11: "trauma processing",
    12: "education from day one",
    13: "self-worth and self-determination",
    14: "healthy relationships and sexuality",
    15: "chain cooperation and aftercare",
}
ORGANISATION_LEVEL = frozenset({1, 9})


@dataclass(frozen=True)
class ElementRule:
    """One element's rule, in words (English; the documentation's table) and in the
    judgement below. `kept`: evidence that must be kept up, so an element evidenced on one
    day may lapse on a later one."""

    element: int
    evidence: str
    due: str
    missing: str
    not_enough: str
    kept: bool = False
    level: Literal["trajectory", "organisation"] = "trajectory"


RULES: dict[int, ElementRule] = {
    rule.element: rule
    for rule in (
        ElementRule(
            1,
            evidence="Organisation level (training, experts, aandachtsfunctionarissen,"
            " reflection): not judged per trajectory.",
            due="-",
            missing="-",
            not_enough="-",
            level="organisation",
        ),
        ElementRule(
            2,
            evidence="A risk-assessment instrument recorded at intake, and the signals"
            " interpreted together with at least one other discipline"
            " (`SignalsInterpreted`, together, two or more disciplines); on the later of"
            " the two.",
            due="Within the protocol's safety-analysis days of intake"
            " (`safety_analysis_within_days`).",
            missing="After that day, or when care ended, without both.",
            not_enough="An instrument alone; signals interpreted by one discipline, or by"
            " several one by one.",
        ),
        ElementRule(
            3,
            evidence="A network analysis (a network contact registered with its risk), the"
            " police report discussed (or filed), and the signals discussed with her"
            " (`SignalsInterpreted`, discussed with her); on the latest of the three.",
            due="By the first care analysis (`care_analysis_first_within_days`).",
            missing="After that day, or when care ended, without all three.",
            not_enough="Any one or two of the three.",
        ),
        ElementRule(
            4,
            evidence="The report sent to CoMensha (`ComenshaReportSent`, after a decision"
            " to register her, by name or by date of birth only), on the day it was sent;"
            " or a decision not to register her, argued (register unless), as the last"
            " decision, on its day.",
            due="Within `comensha_decision_within_days` of intake: the report, not only the"
            " decision.",
            missing="After that day, or when care ended, without a report sent or an argued"
            " decision not to register.",
            not_enough="A decision to register her without the report sent.",
        ),
        ElementRule(
            5,
            evidence="A structured safety analysis; and after every runaway, a new one"
            " since her return.",
            due="Within `safety_analysis_within_days` of intake; after a return, within"
            " `after_runaway_within_days`.",
            missing="After the deadline without one; after a return, when the new analysis"
            " is overdue (in care: the last return; once care ended: any return).",
            not_enough="The intake's analysis after a runaway that was never followed by"
            " one.",
            kept=True,
        ),
        ElementRule(
            6,
            evidence="A medical assessment (acute care); and after every runaway, a new one"
            " since her return.",
            due="Within `safety_analysis_within_days` of intake; after a return, within"
            " `after_runaway_within_days`.",
            missing="As element 5, for the medical assessment.",
            not_enough="The intake's assessment after a runaway that was never followed by"
            " one.",
            kept=True,
        ),
        ElementRule(
            7,
            evidence="A multidisciplinary care analysis (two or more disciplines), repeated"
            " every `care_analysis_interval_days` (91) while in care.",
            due="The first within `care_analysis_first_within_days`; then each within the"
            " interval of the last.",
            missing="In care: the last analysis is older than the interval. Once care ended:"
            " any gap longer than the interval between analyses, or between the last and"
            " the end of care (a gap covered by a waiver of `care-analysis-current` reads"
            " `waived`).",
            not_enough="One analysis at the start of a longer stay.",
            kept=True,
        ),
        ElementRule(
            8,
            evidence="Parents or network involved (family involvement recorded, or a"
            " family/system therapy), based on the network analysis (a network contact"
            " registered); on the later of the two.",
            due="By the first care analysis (`care_analysis_first_within_days`).",
            missing="After that day, or when care ended, without both.",
            not_enough="Family involvement without a network analysis, or the reverse.",
        ),
        ElementRule(
            9,
            evidence="Organisation level (the pedagogical climate): not judged per"
            " trajectory.",
            due="-",
            missing="-",
            not_enough="-",
            level="organisation",
        ),
        ElementRule(
            10,
            evidence="Phases lived under the protocol: a phase advance after at least the"
            " protocol's minimum days in the phase she left (at least one day), and no"
            " permission ever above her phase's cap; on the day of that advance.",
            due="While she is in care.",
            missing="When care ended without such an advance; at once and for good when a"
            " permission was above its phase's cap (`above-cap:<kind>`).",
            not_enough="A permission change; an advance on the day she entered the phase"
            " (an advance whose minimum days were waived reads `waived`).",
        ),
        ElementRule(
            11,
            evidence="Trauma therapy started and under way: a session held (or the therapy"
            " completed) after it started; on that day.",
            due="While she is in care.",
            missing="When care ended without a session.",
            not_enough="A therapy started without a session.",
        ),
        ElementRule(
            12,
            evidence="Education arranged (school progress, qualifications and leisure add to"
            " it; where she goes after care is recorded when care ends).",
            due="Within `education_within_days` of intake.",
            missing="After that day, or when care ended, without education arranged.",
            not_enough="Progress, a qualification or leisure without education arranged.",
        ),
        ElementRule(
            13,
            evidence="A delivered intervention for self-worth and self-determination:"
            " resilience training, body-oriented work, social or problem-solving skills.",
            due="While she is in care.",
            missing="When care ended without one.",
            not_enough="Another kind of intervention.",
        ),
        ElementRule(
            14,
            evidence="A delivered intervention on relationships and sexuality:"
            " psycho-education on relationships or on sexuality, an experiential expert.",
            due="While she is in care.",
            missing="When care ended without one.",
            not_enough="Another kind of intervention.",
        ),
        ElementRule(
            15,
            evidence="A warm handover (the meeting with her, the sending and the receiving"
            " worker), accepted by the receiver, and an aftercare contact that reached her"
            " after aftercare started; on that contact's day. Closed from care after a warm"
            " handover accepted by a receiver elsewhere: on the day of closure (her aftercare"
            " is the receiver's). Ending care without a warm handover, with its reason and"
            " argument, reads `waived` (an argued exception).",
            due="While she is in care; after aftercare started, until"
            " `aftercare_contact_interval_days` after its start.",
            missing="Then, without a contact that reached her; when care ended otherwise"
            " without a warm handover and no argued exception.",
            not_enough="A case conference; a handover prepared or a meeting without"
            " acceptance and contact; a contact that did not reach her.",
        ),
    )
}
KEPT: frozenset[int] = frozenset(e for e, rule in RULES.items() if rule.kept)


# -- the judgement ----------------------------------------------------------------------------


class FactLike(typing.Protocol):
    """A stored fact (a row of the read model): what the rules read of it."""

    @property
    def position(self) -> int: ...
    @property
    def element(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def occurred_on(self) -> date: ...


@dataclass(frozen=True)
class Span:
    """One trajectory's days and the protocol numbers its rules need (fixed at intake)."""

    intake: date
    care_ended_on: date | None
    aftercare_started_on: date | None
    deadlines: dict[int, date]
    care_analysis_interval_days: int
    min_days_in_phase: dict[int, int]
    """Phase entered -> minimum days in the phase before it."""
    after_runaway_within_days: int
    aftercare_contact_interval_days: int


@dataclass
class Verdict:
    status: ElementStatus
    evidenced_on: date | None = None
    due_on: date | None = None
    positions: list[int] = field(default_factory=list)
    waivers: list[FactLike] = field(default_factory=list)


@dataclass
class _Facts:
    """One trajectory's facts up to the day asked, by code and by element."""

    by_code: dict[str, list[FactLike]]
    by_element: dict[int, list[FactLike]]

    @classmethod
    def of(cls, facts: Iterable[FactLike]) -> _Facts:
        by_code: dict[str, list[FactLike]] = {}
        by_element: dict[int, list[FactLike]] = {}
        for f in sorted(facts, key=lambda f: (f.occurred_on, f.position)):
            by_code.setdefault(f.code, []).append(f)
            by_element.setdefault(f.element, []).append(f)
        return cls(by_code, by_element)

    def code(self, *codes: str, kind: str = "evidence") -> list[FactLike]:
        found = [f for c in codes for f in self.by_code.get(c, []) if f.kind == kind]
        return sorted(found, key=lambda f: (f.occurred_on, f.position))

    def prefixed(self, prefix: str, kind: str = "evidence") -> list[FactLike]:
        found = [
            f
            for c, fs in self.by_code.items()
            if c.startswith(prefix)
            for f in fs
            if f.kind == kind
        ]
        return sorted(found, key=lambda f: (f.occurred_on, f.position))

    def of_element(self, element: int, kind: str) -> list[FactLike]:
        return [f for f in self.by_element.get(element, []) if f.kind == kind]


def _first(facts: Sequence[FactLike]) -> date | None:
    return facts[0].occurred_on if facts else None


def _all_of(*firsts: date | None) -> date | None:
    """The day the last of several required facts was there (None: one is missing)."""
    if any(d is None for d in firsts):
        return None
    return max(d for d in firsts if d is not None)


def _positions(*groups: Sequence[FactLike]) -> list[int]:
    return sorted({f.position for g in groups for f in g})


def _settle(
    evidenced_on: date | None,
    waivers: Sequence[FactLike],
    ended: bool,
    due_on: date | None,
    as_of: date,
) -> ElementStatus:
    """The status of an element judged once: evidenced, else waived, else missing (past its
    deadline, or care ended), else due."""
    if evidenced_on is not None:
        return "evidenced"
    if waivers:
        return "waived"
    if ended or (due_on is not None and as_of > due_on):
        return "missing"
    return "due"


def judge(element: int, span: Span, facts: Iterable[FactLike], as_of: date) -> Verdict:
    """One element of one trajectory on `as_of`, from its facts that happened by then."""
    return judge_all(span, facts, as_of, (element,))[element]


def judge_all(
    span: Span,
    facts: Iterable[FactLike],
    as_of: date,
    elements: Iterable[int] = ELEMENTS,
) -> dict[int, Verdict]:
    """Every element (or those asked) of one trajectory on `as_of`: her facts sorted once."""
    seen = _Facts.of(f for f in facts if f.occurred_on <= as_of)
    ended = span.care_ended_on is not None and span.care_ended_on <= as_of
    return {
        e: Verdict("not_applicable")
        if e in ORGANISATION_LEVEL
        else _JUDGES.get(e, _single)(e, span, seen, as_of, ended)
        for e in elements
    }


_Judge = typing.Callable[[int, Span, _Facts, date, bool], Verdict]


def _single(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """Any evidence of the element suffices (13, 14)."""
    evidence = seen.of_element(element, "evidence")
    waivers = seen.of_element(element, "waiver")
    due_on = span.deadlines.get(element)
    on = _first(evidence)
    return Verdict(
        _settle(on, waivers, ended, due_on, as_of), on, due_on, _positions(evidence), waivers
    )


def _comensha(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """Registration with CoMensha (4): the report sent, or an argued decision not to
    register. The source's element is the report ("slachtoffers worden gemeld bij
    CoMensha"); a decision to register that is never carried out registers nobody, and the
    national figures would not count her.

    The deadline is the protocol's `comensha_decision_within_days` from intake, for the
    report and not only the decision: it is the one number the protocol sets for the
    element, the consent a report by name needs is asked before the decision (the decision
    records who gave it), so sending is an administrative step of days; and a deadline
    counted from the decision would reward a late decision with more time. A report sent
    after the deadline still evidences the element from its day on (the matrix reads
    `missing` only in between).

    The decision not to register counts while it is the last decision: a later decision
    to register (new signals) makes the report due again. A report sent always counts
    (the write path accepts one only after a decision to register)."""
    reports = seen.code("comensha-report-sent")
    decisions = seen.prefixed("comensha-decision:")
    waivers = seen.of_element(element, "waiver")
    due_on = span.deadlines.get(element)
    on = _first(reports)
    if on is None and decisions and decisions[-1].code == "comensha-decision:not_registered":
        on = decisions[-1].occurred_on
    status = _settle(on, waivers, ended, due_on, as_of)
    return Verdict(status, on, due_on, _positions(decisions, reports), waivers)


def _together(*required: tuple[str, ...]) -> _Judge:
    """Every one of several facts (each any of its codes), on the day the last was there
    (2, 3, 8)."""

    def rule(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
        groups = [seen.code(*codes) for codes in required]
        on = _all_of(*(_first(g) for g in groups))
        waivers = seen.of_element(element, "waiver")
        due_on = span.deadlines.get(element)
        status = _settle(on, waivers, ended, due_on, as_of)
        return Verdict(status, on, due_on, _positions(*groups), waivers)

    return rule


def _after_runaway(code: str, criterion: str) -> _Judge:
    """Evidence at intake, and again after every return from a runaway (5, 6)."""

    def rule(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
        evidence = seen.code(code)
        waivers = seen.of_element(element, "waiver")
        returns = seen.code("runaway-returned", kind="due")
        due_on = span.deadlines.get(element)
        first = _first(evidence)
        positions = _positions(evidence)
        if first is None:
            status = _settle(None, waivers, ended, due_on, as_of)
            return Verdict(status, None, due_on, positions, waivers)
        if ended and span.care_ended_on is not None:
            judged = [r for r in returns if r.occurred_on <= span.care_ended_on]
        else:
            judged = returns[-1:]
        window = span.after_runaway_within_days
        worst: ElementStatus = "evidenced"
        worst_due: date | None = None
        for r in judged:
            if any(e.occurred_on >= r.occurred_on for e in evidence):
                continue
            deadline = r.occurred_on + timedelta(days=window)
            if any(
                w.occurred_on >= r.occurred_on and w.code == criterion for w in waivers
            ):
                outcome: ElementStatus = "waived"
            elif not ended and as_of <= deadline:
                outcome = "due"
            else:
                outcome = "missing"
            if _RANK[outcome] > _RANK[worst]:
                worst, worst_due = outcome, deadline
        if worst == "evidenced":
            return Verdict("evidenced", first, None, positions, waivers)
        return Verdict(worst, None, worst_due, positions, waivers)

    return rule


_RANK: dict[ElementStatus, int] = {
    "evidenced": 0, "waived": 1, "due": 2, "missing": 3, "not_applicable": -1,
}


def _care_analysis(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """Every interval while in care (7)."""
    analyses = seen.code("care-analysis")
    waivers = seen.of_element(element, "waiver")
    positions = _positions(analyses)
    interval = timedelta(days=span.care_analysis_interval_days)
    if not analyses:
        due_on = span.deadlines.get(element)
        status = _settle(None, waivers, ended, due_on, as_of)
        return Verdict(status, None, due_on, positions, waivers)
    first = analyses[0].occurred_on
    if not ended or span.care_ended_on is None:
        last = analyses[-1].occurred_on
        due_on = last + interval
        since = [w for w in waivers if w.occurred_on >= last]
        if as_of <= due_on:
            return Verdict("evidenced", first, due_on, positions, since)
        status = "waived" if since else "missing"
        return Verdict(status, None, due_on, positions, since)
    end = span.care_ended_on
    days = [a.occurred_on for a in analyses if a.occurred_on <= end] or [first]
    lapses = [
        (start, stop)
        for start, stop in zip(days, [*days[1:], end], strict=True)
        if stop - start > interval
    ]
    if not lapses:
        return Verdict("evidenced", first, None, positions, [])
    covered = [
        any(start <= w.occurred_on <= stop for w in waivers) for start, stop in lapses
    ]
    status = "waived" if all(covered) else "missing"
    lapse = lapses[covered.index(False)] if not all(covered) else lapses[0]
    return Verdict(status, None, lapse[0] + interval, positions, waivers)


def _phases(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """A phase lived: an advance after the minimum days in the phase left; no permission
    above its phase's cap, ever (10)."""
    moves = sorted(
        seen.prefixed("phase-advanced:") + seen.prefixed("phase-regressed:"),
        key=lambda f: (f.occurred_on, f.position),
    )
    breaches = [f for f in seen.by_element.get(element, []) if f.kind == "breach"]
    waivers = seen.of_element(element, "waiver")
    positions = _positions(seen.of_element(element, "evidence"), breaches)
    if breaches:
        return Verdict("missing", None, None, positions, waivers)
    entered = span.intake
    lived: date | None = None
    for move in moves:
        phase = int(move.code.rsplit(":", 1)[1])
        if move.code.startswith("phase-advanced:"):
            needed = max(1, span.min_days_in_phase.get(phase, 0))
            if (move.occurred_on - entered).days >= needed:
                lived = move.occurred_on
                break
        entered = move.occurred_on
    status = _settle(lived, waivers, ended, None, as_of)
    return Verdict(status, lived, None, positions, waivers)


def _trauma(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """Therapy started and under way (11)."""
    started = seen.code("trauma-therapy")
    under_way = seen.code("therapy-session", "therapy-completed")
    waivers = seen.of_element(element, "waiver")
    on = None
    if started:
        after = [f for f in under_way if f.occurred_on >= started[0].occurred_on]
        on = _first(after)
    status = _settle(on, waivers, ended, span.deadlines.get(element), as_of)
    return Verdict(status, on, None, _positions(started, under_way), waivers)


def _education(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """Education arranged; the rest of element 12 adds to it (12)."""
    arranged = seen.code("education")
    waivers = seen.of_element(element, "waiver")
    due_on = span.deadlines.get(element)
    on = _first(arranged)
    status = _settle(on, waivers, ended, due_on, as_of)
    return Verdict(status, on, due_on, _positions(seen.of_element(element, "evidence")), waivers)


def _aftercare(element: int, span: Span, seen: _Facts, as_of: date, ended: bool) -> Verdict:
    """A warm handover, accepted, and aftercare that reached her; or an argued exception
    (15)."""
    meeting = seen.code("handover-meeting")
    accepted = seen.code("handover-accepted")
    contacts = seen.code("aftercare-contact")
    exceptions = seen.code("without-handover", kind="exception")
    positions = _positions(seen.of_element(element, "evidence"), exceptions)
    started = span.aftercare_started_on
    reached = [
        c for c in contacts if started is not None and started <= c.occurred_on
    ]
    warm = _all_of(_first(meeting), _first(accepted))
    on = _all_of(warm, _first(reached))
    if on is None and warm is not None and started is None and ended:
        # Closed from care after a warm handover, accepted: the receiver (another
        # organisation, adult care) keeps her in view; her aftercare is not recorded here.
        on = span.care_ended_on
    if on is not None:
        return Verdict("evidenced", on, None, positions, [])
    if exceptions:
        return Verdict("waived", None, None, positions, exceptions)
    if started is not None and started <= as_of:
        due_on = started + timedelta(days=span.aftercare_contact_interval_days)
        status: ElementStatus = "due" if as_of <= due_on else "missing"
        return Verdict(status, None, due_on, positions, [])
    return Verdict("missing" if ended else "due", None, None, positions, [])


_JUDGES: dict[int, _Judge] = {
    4: _comensha,
    2: _together(("risk-assessment",), ("signals-interpreted",)),
    3: _together(
        ("network-analysis",),
        ("police-report-discussed", "police-report-filed"),
        ("signals-discussed",),
    ),
    5: _after_runaway("safety-analysis", "safety-after-runaway"),
    6: _after_runaway("medical-assessment", "medical-after-runaway"),
    7: _care_analysis,
    8: _together(
        ("family-involvement", "intervention:family_system_therapy"), ("network-analysis",)
    ),
    10: _phases,
    11: _trauma,
    12: _education,
    15: _aftercare,
}


# -- the documentation's table ----------------------------------------------------------------


def markdown() -> str:
    """docs/core-elements.md: the rules as a table, written from `RULES`."""
    lines = [
        "# The core-element matrix: evidence rules",
        "",
        "Written from `src/trajectory/protocol/evidence.py` (`RULES`) by",
        "`python -m trajectory.protocol.evidence docs/core-elements.md`; a test fails when this",
        "page and the code disagree. Edit the rules there, then run the command.",
        "",
        "The matrix (`GET /quality/core-elements?as_of=`, the quality page) gives every",
        "element of every trajectory a status on a day: `evidenced` (since when, by which",
        "entries), `waived` (an entry criterion set aside with a justification, or an argued",
        "exception), `due` (not yet past its deadline), `missing`, or `not_applicable`",
        "(organisation level). One event is not evidence of an element: each rule names",
        "what counts, and what does not count on its own.",
        "",
        "While she is in care, an element that must be kept up (5, 6, 7) reads as it stands",
        "that day; once care ended (aftercare started or the file closed) it reads over the",
        "whole time in care. The numbers in `backticks` are the protocol's `[attention]`",
        "settings, fixed for a trajectory at intake.",
        "",
        "| element | counts as evidence | due | missing when | not enough on its own |",
        "|---|---|---|---|---|",
    ]
    for number, rule in RULES.items():
        cells = [f"{number}. {ELEMENTS[number]}", rule.evidence, rule.due, rule.missing,
                 rule.not_enough]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or check) docs/core-elements.md.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--check", action="store_true", help="fail when the file differs")
    args = parser.parse_args(argv)
    text = markdown()
    if args.check:
        if not args.out.exists() or args.out.read_text() != text:
            print(f"{args.out} differs from the rules; regenerate it", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
