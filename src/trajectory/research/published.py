"""One girl's rows as published, after disclosure control has decided.

The small-cell check (`disclosure.KAnonymity`) decides on every girl's quasi-identifiers
at once; this module applies its decision to one girl's rows: her quasi-identifiers in
trajectories.csv, and, for a girl still in care, the censoring day of her published
group (the shortest observation of the girls still in care in it): her spells, weekly
sequence, day counts and `observed_days` end there, and her events after it are not
published (counted as after her observation), so that the export's end of observation
minus her observed days gives back no intake date finer than her group's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trajectory.research.coding import Value
from trajectory.research.disclosure import QUASI_IDENTIFIERS, Published
from trajectory.research.timeline import AFT, RUN, STILL_IN_CARE, Spell, periodic, weekly


def trajectory_values(values: dict[str, Any], qi: Published) -> None:
    """Her quasi-identifiers in her trajectories.csv row (None: an empty cell)."""
    for name, value in zip(QUASI_IDENTIFIERS, qi, strict=True):
        values[name] = value or None
    values["qi_suppressed"] = int(any(v is None for v in qi))


def publish_ages(rows: Sequence[list[Value]], qi: Published, age_level: int) -> None:
    """Her age in months at each event (the last column of events.csv) only where her age
    band is published as recorded: where it was generalised or withheld, exact ages would
    give it back, so they are left empty."""
    if age_level != 0 or qi[QUASI_IDENTIFIERS.index("age_band")] is None:
        for row in rows:
            row[-1] = None


def censor(summary: dict[str, Any], rows: Sequence[list[Value]], spells: Sequence[Spell],
           periods: list[str], day: int, phases: int, month_starts: Sequence[int] | None = None,
           ) -> tuple[list[list[Value]], list[Spell], list[str]]:
    """A girl still in care, censored on `day` (at most her observed days): her rows
    within [0, day), her spells to it (the last right-censored: still in care), her
    sequence in the same unit (weeks, or the months beginning on `month_starts`), and her
    summary's day counts and observed days to match."""
    observed = int(summary["observed_days"])
    if day >= observed:
        return list(rows), list(spells), periods
    kept_rows = [r for r in rows if not isinstance(r[3], int) or r[3] < day]
    cut = [Spell(s.begin, min(s.end, day - 1), s.state, s.censoring)
           for s in spells if s.begin < day]
    if cut:
        last = cut[-1]
        cut[-1] = Spell(last.begin, last.end, last.state, STILL_IN_CARE)
    days: dict[str, int] = {}
    for spell in cut:
        days[spell.state] = days.get(spell.state, 0) + spell.days
    summary["observed_days"] = day
    for n in range(1, phases + 1):
        if f"days_p{n}" in summary:
            summary[f"days_p{n}"] = days.get(f"P{n}", 0)
    summary["runaway_days"] = days.get(RUN, 0)
    summary["aftercare_days"] = days.get(AFT, 0)
    summary["events"] = len(kept_rows)
    if month_starts is None:
        return kept_rows, cut, weekly(cut, day)
    return kept_rows, cut, periodic(cut, day, [m for m in month_starts if m < day])
