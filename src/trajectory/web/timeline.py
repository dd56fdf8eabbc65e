"""A trajectory's timeline, laid out for an inline SVG: phases as bands over time, and
lanes for runaways, safety (analyses, signals, the police), trauma therapy, education, the
handover and aftercare, with the legend that names every colour it uses.

Phases have a colour family of their own (teal to slate), apart from therapy's purple,
education's green and the handover's blue: a bar's colour must say one thing.

Which fact shows in which lane, as a mark or as a bar from its day on, is declared with
the fact (`trajectory.facts`); the spans (phases, runaways, therapy, aftercare), which
pair a start with an end, are laid out here.

Pure: events in, shapes out (coordinates in the SVG's own units; the template draws them
and the page scales the SVG to its width). Entries marked in error are left out, as they
are from the state; a corrected date moves its mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import get_args

from trajectory.aggregates.corrections import Corrections
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.closure import (
    TrajectoryClosed,
)
from trajectory.aggregates.events.handover import AftercareEnded, AftercareStarted
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.phasing import PhaseAdvanced, PhaseRegressed
from trajectory.aggregates.events.runaway import RunawayEnded, RunawayReported
from trajectory.aggregates.events.treatment import TraumaTherapyCompleted, TraumaTherapyStarted
from trajectory.facts import FACTS, LaneName, OnTimeline
from trajectory.web.i18n import N_, Translator

LANES: dict[type[TrajectoryEvent], OnTimeline] = {
    fact.event: fact.lane
    for fact in FACTS
    if fact.lane is not None and fact.lane.shape != "span"
}
"""The events that show as a mark, or as a bar from their day on."""

WIDTH = 800
LABEL_W = 130
"""Room for the longest lane label ("Traumabehandeling") in the SVG's own units."""
AHEAD = 18
"""Room right of today: what started today (a new phase) still shows as a bar."""
LANE_H = 30
TOP = 8
AXIS_H = 26


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    css: str
    title: str
    text: str = ""


@dataclass(frozen=True)
class Mark:
    x: float
    css: str
    title: str


@dataclass
class Lane:
    label: str
    y: float
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def written(self) -> list[str]:
        """What the lane shows, as text in the order of the days: the list under the
        drawing, which a phone's reader taps nothing to read (a title shows on hover)."""
        shown = sorted([(b.x, b.title) for b in self.bars] + [(m.x, m.title) for m in self.marks],
                       key=lambda item: item[0])
        return [title for _, title in shown]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Key:
    """One entry of the legend: the class its swatch shares with what it explains, and
    whether that is a bar, a mark or the line of today."""

    css: str
    label: str
    shape: str = "bar"


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    lane_height: int
    label_width: int
    lanes: list[Lane]
    ticks: list[Tick]
    today_x: float
    start: date
    end: date
    legend: list[Key] = field(default_factory=list)


MARK_NAMES: dict[str, str] = {
    "milestone": N_("Education milestone"),
    "handover": N_("Handover step"),
    "police": N_("Police"),
}
"""The legend's words for a mark that more than one fact draws."""


def legend(t: Translator, phases: int) -> list[Key]:
    """Every colour the timeline may use, in lane order: the phases it shows, the spans,
    then each kind of mark (from the list of facts), and today's line."""
    keys = [Key(f"phase-{min(n, 6)}", t("Phase %(phase)s", phase=n)) for n in range(1, phases + 1)]
    keys += [Key("runaway", t.event("RunawayReported")),
             Key("therapy", t("Trauma therapy")),
             Key("education", t.event("EducationArranged")),
             Key("aftercare", t("Aftercare"))]
    seen: set[str] = set()
    for fact in FACTS:
        lane = fact.lane
        if lane is None or lane.shape != "mark" or lane.css in seen:
            continue
        seen.add(lane.css)
        name = MARK_NAMES.get(lane.css)
        keys.append(Key(lane.css, t(name) if name else t.event(fact.event.__name__), "mark"))
    keys.append(Key("today", t("Today"), "line"))
    return keys


def build(t: Translator, events: Iterable[TrajectoryEvent], end: date) -> Timeline:
    stream = list(events)
    corrections = Corrections.of(stream)
    day_of = corrections.occurred_on
    live = [
        e for e in stream if corrections.counts(e.originator_version) and e.corrects() is None
    ]
    start = next(
        (e.occurred_on for e in live if isinstance(e, TrajectoryOpened)),
        min((e.occurred_on for e in live), default=end),
    )
    closed = next((day_of(e) for e in live if isinstance(e, TrajectoryClosed)), None)
    stop = max(min(end, closed) if closed else end, start + timedelta(days=1))
    span = (stop - start).days or 1
    plot = WIDTH - LABEL_W - 10 - AHEAD

    def x(day: date) -> float:
        day = min(max(day, start), stop)
        return round(LABEL_W + plot * (day - start).days / span, 1)

    def bar(a: date, b: date, css: str, title: str, text: str = "") -> Bar:
        left, right = x(a), x(b)
        # What runs until today is at least as wide as the room ahead, so a phase that
        # began today is seen (and numbered) at once; anything else at least a sliver.
        least = AHEAD - 2.0 if b >= stop else 2.0
        return Bar(left, max(right - left, least), css, title, text)

    names = get_args(LaneName)
    labels = (t("Phase"), t("Runaways"), t("Safety"), t("Trauma therapy"), t("Education"),
              t("Handover"), t("Aftercare"))
    lanes = {
        n: Lane(label=label, y=TOP + i * LANE_H)
        for i, (n, label) in enumerate(zip(names, labels, strict=True))
    }

    # Phases: from intake in phase 1, each advance or regression starts a new band.
    phase, since = 1, start
    aftercare_from: date | None = None
    aftercare_to: date | None = None
    runaway_from: date | None = None
    therapy_from: date | None = None
    for e in live:
        day = day_of(e)
        if isinstance(e, (PhaseAdvanced, PhaseRegressed)):
            lanes["phases"].bars.append(_phase_bar(t, bar, phase, since, day))
            phase, since = e.to_phase, day
        elif isinstance(e, AftercareStarted):
            lanes["phases"].bars.append(_phase_bar(t, bar, phase, since, day))
            aftercare_from = day
        elif isinstance(e, AftercareEnded):
            aftercare_to = day
        elif isinstance(e, RunawayReported):
            runaway_from = day
        elif isinstance(e, RunawayEnded) and runaway_from is not None:
            lanes["runaway"].bars.append(
                bar(runaway_from, day, "runaway", _span(t, t.event("RunawayReported"),
                                                          runaway_from, day))
            )
            runaway_from = None
        elif isinstance(e, TraumaTherapyStarted):
            therapy_from = day
        elif isinstance(e, TraumaTherapyCompleted) and therapy_from is not None:
            lanes["therapy"].bars.append(
                bar(therapy_from, day, "therapy", _span(t, t.event("TraumaTherapyStarted"),
                                                          therapy_from, day))
            )
            therapy_from = None
        elif (lane := LANES.get(type(e))) is not None:
            if lane.shape == "onward":
                lanes[lane.name].bars.append(bar(day, stop, lane.css, _at(t, e, day)))
            else:
                lanes[lane.name].marks.append(Mark(x(day), lane.css, _at(t, e, day)))
    if aftercare_from is None:
        lanes["phases"].bars.append(_phase_bar(t, bar, phase, since, stop))
    else:
        until = aftercare_to or stop
        lanes["aftercare"].bars.insert(
            0, bar(aftercare_from, until, "aftercare", _span(t, t.value("aftercare"),
                                                             aftercare_from, until))
        )
    if runaway_from is not None:
        lanes["runaway"].bars.append(
            bar(runaway_from, stop, "runaway open",
                _span(t, t.event("RunawayReported"), runaway_from, None))
        )
    if therapy_from is not None:
        lanes["therapy"].bars.insert(
            0, bar(therapy_from, stop, "therapy", _span(t, t.event("TraumaTherapyStarted"),
                                                         therapy_from, None))
        )
    ordered = [lanes[n] for n in names]
    height = TOP + len(ordered) * LANE_H + AXIS_H
    return Timeline(
        width=WIDTH,
        height=height,
        lane_height=LANE_H,
        label_width=LABEL_W,
        lanes=ordered,
        ticks=_ticks(t, start, stop, x),
        today_x=x(stop),
        start=start,
        end=stop,
        legend=legend(t, max((int(b.text) for b in lanes["phases"].bars if b.text.isdigit()),
                             default=1)),
    )


def _phase_bar(
    t: Translator, bar: Callable[[date, date, str, str, str], Bar], phase: int, a: date, b: date
) -> Bar:
    title = _span(t, t("Phase %(phase)s", phase=phase), a, b)
    return bar(a, b, f"phase phase-{min(phase, 6)}", title, str(phase))


def _span(t: Translator, what: str, a: date, b: date | None) -> str:
    return f"{what}: {t.span(a, b)}"


def _at(t: Translator, e: TrajectoryEvent, day: date) -> str:
    return f"{t.event(type(e).__name__)}: {t.date(day)}"


def _ticks(
    t: Translator, start: date, stop: date, x: Callable[[date], float]
) -> list[Tick]:
    """Month starts (or quarters, for long trajectories) along the axis, by the month's
    name ("mei '26"): "5-2026" reads as a day."""
    months: list[date] = []
    day = date(start.year, start.month, 1)
    while day <= stop:
        if day >= start:
            months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = 1 if len(months) <= 8 else 3 if len(months) <= 24 else 12
    chosen: Sequence[date] = [m for m in months if (m.month - 1) % step == 0] or [start]
    return [Tick(x(m), t.month_short(m)) for m in chosen]
