"""Disclosure control: generalise before suppressing, until every file is k-anonymous.

The quasi-identifiers of a girl are what someone who knows her could look up: the
organisation that took her in, her age band at intake, the month of intake and her risk
profiles. Every combination of them that is published must be shared by at least k girls
(k >= 5: never lower, anywhere). The other files must not give them back:

- who gave consent (the girl herself from 16, else a parent or guardian) tells her age:
  those columns never leave (`coding`), they have no research use;
- the days of events, spells and sequences count from her own intake and carry no date;
  but a girl still in care is observed up to the export's observation end, so her
  observed days would give back her intake date. Every girl still in care in one
  published group is therefore censored on the same day since intake: the shortest of
  the group (`censoring_day`); the end of observation minus it gives no more than the
  group's intake period. Her rows after that day are not published.

Each quasi-identifier has a hierarchy, declared once here (`HIERARCHIES`) and printed in
the codebook: a ladder of ever coarser values (age band -> wider band -> minor or adult;
month of intake -> quarter -> half year -> year; risk profiles -> the most severe one;
organisation -> its region, where the installation maps organisations to regions, see
`hierarchies`), and at its top the value withheld. The check looks for the least generalisation that
works: it tries every combination of levels, cheapest first (`COSTS`: withholding the
organisation costs most), and takes the first whose girls still in a group under k can
be protected by suppressing single cells (local suppression: one column of one group,
chosen so that the fewest cells go) within the budget (`max_suppressed_percent` of all
quasi-identifier cells). A column at the top of its ladder counts as suppressed for
every girl.

`passed` is true only when every published group is at least k girls and the suppressed
cells fit the budget. An export that does not pass is marked failed (the manifest, the
command line, the API and the page say so); its data are still protected (suppressed
where needed), but it is not fit to publish.

What must not change: the band and period formats (researchers' scripts parse them).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import msgspec

from trajectory.protocol.rules import age_on
from trajectory.research.linkage import LinkageReport

MIN_K = 5
"""k may never be set lower, anywhere (command line, API, web form)."""

AGE_BANDS = ("<12", "12-13", "14-15", "16-17", "18+", "<14", "14-17", "<18")
"""The age bands of every level of the age hierarchy (the codes of `age_band`)."""

RISK_SEVERITY = ("honour_related", "traumatised", "multi_problem", "influenceable",
                 "phase_of_life")
"""Risk profiles from most to least severe: a generalised set keeps only its most severe
profile (the codebook says so)."""

QUASI_IDENTIFIERS = ("organisation", "age_band", "intake_period", "risk_profiles")

QI = tuple[str, ...]
"""(organisation pseudonym, age band, intake month YYYY-MM, risk profile set joined by
`|`): one girl's quasi-identifiers as recorded."""

Published = tuple[str | None, ...]
"""The quasi-identifiers as published: generalised values, None where suppressed."""


def age_band(date_of_birth: date, on: date) -> str:
    age = age_on(date_of_birth, on)
    if age < 12:
        return "<12"
    if age >= 18:
        return "18+"
    low = age - age % 2
    return f"{low}-{low + 1}"


def intake_month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# -- the hierarchies ----------------------------------------------------------------------


def _same(value: str) -> str:
    return value


def _age_wider(band: str) -> str:
    return {"<12": "<14", "12-13": "<14", "14-15": "14-17", "16-17": "14-17"}.get(band, band)


def _age_adult(band: str) -> str:
    return "18+" if band == "18+" else "<18"


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def _half(month: str) -> str:
    return f"{month[:4]}-H{(int(month[5:7]) - 1) // 6 + 1}"


def _year(month: str) -> str:
    return month[:4]


def _most_severe(profiles: str) -> str:
    present = set(profiles.split("|")) if profiles else set()
    return next((p for p in RISK_SEVERITY if p in present), "")


@dataclass(frozen=True)
class Hierarchy:
    """One quasi-identifier's ladder: `steps[0]` is the value as recorded; the level past
    the last step (`top`) withholds the value. `costs[level]`: what the level loses
    (the search takes the cheapest combination that fits)."""

    column: str
    meanings: tuple[str, ...]
    steps: tuple[Callable[[str], str], ...]
    costs: tuple[int, ...]

    @property
    def top(self) -> int:
        return len(self.steps)

    def meaning(self, level: int) -> str:
        return self.meanings[level] if level < len(self.meanings) else "withheld"

    def at(self, value: str, level: int) -> str | None:
        return self.steps[level](value) if level < len(self.steps) else None


HIERARCHIES: tuple[Hierarchy, ...] = (
    Hierarchy("organisation", ("organisation (its pseudonym)",), (_same,), (0, 8)),
    Hierarchy(
        "age_band",
        ("2-year band (<12, 12-13, 14-15, 16-17, 18+)", "wider band (<14, 14-17, 18+)",
         "minor or adult (<18, 18+)"),
        (_same, _age_wider, _age_adult),
        (0, 1, 2, 4),
    ),
    Hierarchy(
        "intake_period",
        ("month (YYYY-MM)", "quarter (YYYY-Qn)", "half year (YYYY-Hn)", "year (YYYY)"),
        (_same, _quarter, _half, _year),
        (0, 1, 2, 3, 6),
    ),
    Hierarchy(
        "risk_profiles",
        ("the set of risk profiles", "the most severe profile only (honour_related,"
         " traumatised, multi_problem, influenceable, phase_of_life: in that order)"),
        (_same, _most_severe),
        (0, 2, 5),
    ),
)
OTHER_REGION = "other"
"""The region of an organisation the installation's mapping does not name."""

REGION_MEANING = ("region (its name; `other`: an organisation the installation maps to no"
                  " region)")


def organisation_hierarchy(regions: Mapping[str, str] | None) -> Hierarchy:
    """The organisation's ladder: its pseudonym -> withheld; with a mapping of
    organisation pseudonyms to regions (`parameters.regions`), pseudonym -> region ->
    withheld. Regions are published by name: they are coarse and public (the youth-care
    regions, the provinces), a pseudonym would hide nothing and lose the researcher's
    meaning. An organisation the mapping leaves out is in region `other`."""
    if not regions:
        return HIERARCHIES[0]
    table = dict(regions)

    def region(pseudonym: str) -> str:
        return table.get(pseudonym, OTHER_REGION)

    return Hierarchy("organisation", (HIERARCHIES[0].meanings[0], REGION_MEANING),
                     (_same, region), (0, 4, 8))


def hierarchies(regions: Mapping[str, str] | None = None) -> tuple[Hierarchy, ...]:
    """Every quasi-identifier's ladder, the organisation's with its regions if any."""
    return (organisation_hierarchy(regions), *HIERARCHIES[1:])


LEVELS = tuple(h.column + ": " + " -> ".join((*h.meanings, "withheld")) for h in HIERARCHIES)
"""Each hierarchy in words (for the codebook)."""


def disclosure_codebook(censoring_period: int) -> list[str]:
    """The disclosure control in words, with every hierarchy (the codebook prints it)."""
    lines = [
        "- No date of birth, no exact date: days count from intake (day 0); who gave"
        " consent never leaves (it tells her age).",
        f"- Quasi-identifiers: {', '.join(f'`{q}`' for q in QUASI_IDENTIFIERS)}. Every"
        f" published combination is shared by at least k girls (`small_cell_check.k`;"
        f" k is {MIN_K} or more, never less). Each has a hierarchy, from the value as"
        " recorded to withheld:",
        "",
        "| quasi-identifier | level | published as | cost |",
        "|---|---|---|---|",
    ]
    for h in hierarchies({"": ""}):
        for level in range(h.top + 1):
            lines.append(f"| `{h.column}` | {level} | {h.meaning(level)} | {h.costs[level]} |")
    lines += [
        "",
        "- The organisation's region level exists only where the installation maps its"
        " organisations to regions (`TRAJECTORY_ORGANISATION_REGIONS`); the mapping used is"
        " pinned in `parameters.regions` (organisation pseudonym -> region), so that"
        " `verify --export` recomputes the same. Without it (`parameters.regions` null) the"
        " organisation climbs from its pseudonym straight to withheld (level 1, cost 8)."
        " Regions are published by their name, not a pseudonym: they are coarse and public"
        " (the youth-care regions or the provinces, each with several organisations), so a"
        " name tells a researcher what a pseudonym could not and gives away no more than the"
        " k girls of its group; an organisation that is alone in its region is as visible as"
        " by its pseudonym, which is why the region level, too, must hold k girls per group."
        " `small_cell_check.columns` says per export which level was published.",
        "- Generalise before suppressing: every combination of levels is tried, cheapest"
        " (sum of costs) first; the first is taken whose girls still in a group under k can"
        " be protected by withholding single cells (one column of one group: the column"
        " that loses fewest cells) within the suppression budget"
        " (`small_cell_check.max_suppressed_percent` of all quasi-identifier cells). A"
        " column at its top counts as suppressed for every girl. `qi_suppressed` = 1 marks"
        " a girl with a withheld cell; `small_cell_check.columns` reports per column the"
        " level, the cells generalised and the cells suppressed.",
        f"- Observation of a girl still in care ends at a whole number of {censoring_period}"
        "-day periods since intake, and then on the censoring day of her published group:"
        " the shortest observation of the girls still in care in it. Her spells, weeks, day"
        " counts and events after it are not published. So the observation end minus her"
        " observed days gives back no intake date finer than the group's intake period (a"
        " survival analysis reads it as censoring: it depends on her intake period only, not"
        " on what happened to her). `small_cell_check.censored_shortened` and"
        " `censored_days_removed` count what it cost. Girls observed under 4 weeks are left"
        " out.",
        "- Age in months at each event (`events.age_months`) refines the age band, so it is"
        " published only where `age_band` is published as recorded (its level 0, not"
        " withheld); elsewhere it is empty and gives back no band that was generalised or"
        " withheld. Remaining risk: within a published group it tells the girls' ages apart"
        " (as any exact day does); declare it only when the question needs it, and the"
        " linkage check counts it like every other shared column.",
        "- Projects cannot be linked: each has its own pseudonyms and receives only the"
        " files and variables it declared (`parameters.files`, `parameters.variables`)."
        " Every export compares its declaration with every other project of the store (the"
        " columns both receive; `events` when both receive events.csv; `follow_ups`, `scores`"
        " row by row when both receive them; `timeline` when both"
        " receive any of spells, sequences, events or a day count), counts the girls unique"
        " on all of that together (`small_cell_check.linkage`) and fails above"
        " 10%. Remaining risk: a value computed from differently named columns is not"
        " seen; a closed girl's timeline keeps its days (someone who knows her exact intake"
        " and closure dates can look for her duration in her group). Declare only what the"
        " question needs.",
        "- `passed` is true only when every published group holds k girls or more, the"
        " suppressed cells fit the budget and no other project can link more than 10% of"
        " the girls; otherwise `failures` says why, and the export is marked failed"
        " (command line, API, page): not fit to publish.",
    ]
    return lines


# -- what the manifest reports ----------------------------------------------------------------


class ColumnReport(msgspec.Struct, kw_only=True):
    """What disclosure control did to one quasi-identifier."""

    column: str
    level: int
    top: int
    published_as: str
    cells_generalised: int
    """Cells published coarser than recorded (not counting suppressed ones)."""
    cells_suppressed: int
    """Cells withheld: one by one, or all of them where the column is at its top."""


class SmallCellCheck(msgspec.Struct, kw_only=True):
    """What the k-anonymity check found and did (reported in the manifest)."""

    k: int
    quasi_identifiers: tuple[str, ...] = QUASI_IDENTIFIERS
    max_suppressed_percent: int
    columns: list[ColumnReport]
    rows: int
    cells: int
    """Quasi-identifier cells: rows times quasi-identifiers."""
    cells_suppressed: int
    suppressed_percent: float
    rows_in_small_cells_before: int
    """Girls in a group under k with every value as recorded."""
    rows_with_suppression: int
    """Girls with at least one quasi-identifier withheld."""
    rows_in_small_cells_after: int
    """Girls still in a published group under k (0 when the check passed)."""
    classes: int
    smallest_class: int | None
    censored_shortened: int
    """Girls still in care whose censoring day was moved earlier, to the shortest of
    their published group (so that it gives back no intake date)."""
    censored_days_removed: int
    """Days of observation so removed, over all of them."""
    failures: list[str]
    passed: bool
    linkage: list[LinkageReport] = msgspec.field(default_factory=list)
    """Every other project of the store: what both receive, and how many girls could be
    linked on it (`linkage`)."""


# -- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    levels: tuple[int, ...]
    masks: dict[Published, frozenset[int]]
    """Generalised tuple (of a group under k) -> the columns suppressed in it."""
    rows: dict[Published, int]
    """Generalised tuple (of a group under k) -> its girls."""
    small_before: int
    """Girls in a group under k before local suppression."""
    unresolved: int
    cells_suppressed: int
    groups: Counter[Published]


class KAnonymity:
    """Counts the quasi-identifiers while rows stream past, then decides (`decide`).

    Memory: one counter per distinct combination of recorded values (bounded by the
    vocabularies, months and organisations, not by the number of girls)."""

    def __init__(self, k: int, max_suppressed_percent: int,
                 regions: Mapping[str, str] | None = None):
        if k < MIN_K:
            raise ValueError(f"k must be at least {MIN_K}")
        self.hierarchies = hierarchies(regions)
        self.k = k
        self.max_suppressed_percent = max_suppressed_percent
        self.raw = Counter[QI]()
        self.censoring: dict[QI, int] = {}
        self.rows = 0
        self.plan: _Plan | None = None
        self._group_censoring: dict[Published, int] = {}
        self._ladder: dict[tuple[int, int, str], str | None] = {}
        self._columns: dict[tuple[int, int], list[str | None]] = {}

    def add(self, qi: QI, censoring_day: int | None = None) -> None:
        """One girl's quasi-identifiers; `censoring_day`: her observed days when she is
        still in care (right-censored), else None."""
        if len(qi) != len(self.hierarchies):
            raise ValueError(f"quasi-identifiers: {len(self.hierarchies)} values, not {len(qi)}")
        self.rows += 1
        self.raw[qi] += 1
        if censoring_day is not None:
            self.censoring[qi] = min(self.censoring.get(qi, censoring_day), censoring_day)

    @property
    def budget(self) -> int:
        return self.rows * len(self.hierarchies) * self.max_suppressed_percent // 100

    def _generalise(self, qi: QI, levels: Sequence[int]) -> Published:
        """The values at these levels (each column's ladder looked up once per value)."""
        out: list[str | None] = []
        for i, (value, level) in enumerate(zip(qi, levels, strict=True)):
            key = (i, level, value)
            if key not in self._ladder:
                self._ladder[key] = self.hierarchies[i].at(value, level)
            out.append(self._ladder[key])
        return tuple(out)

    def _column(self, column: int, level: int) -> list[str | None]:
        """One column of every distinct combination (in `raw`'s order) at a level."""
        key = (column, level)
        if key not in self._columns:
            h = self.hierarchies[column]
            values = [qi[column] for qi in self.raw]
            at = {v: h.at(v, level) for v in set(values)}
            self._columns[key] = [at[v] for v in values]
        return self._columns[key]

    def _plan(self, levels: tuple[int, ...], *, bound: bool = False) -> _Plan:
        """The plan at these levels. `bound`: when its girls in small groups alone are
        over the budget (each needs a cell withheld at least), stop there: it cannot fit
        (most of the combinations tried; the search only needs to know that)."""
        cells = Counter[Published]()
        columns = [self._column(i, level) for i, level in enumerate(levels)]
        for cell, n in zip(zip(*columns, strict=True), self.raw.values(), strict=True):
            cells[cell] += n
        rare = {c: n for c, n in cells.items() if n < self.k}
        at_top = sum(self.rows for h, lv in zip(self.hierarchies, levels, strict=True)
                     if lv == h.top)
        if bound and sum(rare.values()) + at_top > self.budget:
            return _Plan(levels, {}, {}, sum(rare.values()), sum(rare.values()),
                         sum(rare.values()) + at_top, cells)
        masks: dict[Published, frozenset[int]] = {c: frozenset() for c in rare}
        local = [i for i, h in enumerate(self.hierarchies) if levels[i] < h.top]

        def masked(c: Published, mask: frozenset[int]) -> Published:
            return tuple(None if i in mask else v for i, v in enumerate(c))

        def groups_of(m: dict[Published, frozenset[int]]) -> Counter[Published]:
            g = Counter[Published]()
            for c, n in rare.items():
                g[masked(c, m[c])] += n
            return g

        withheld: Published = (None,) * len(self.hierarchies)

        def small(g: Counter[Published], c: Published, mask: frozenset[int]) -> bool:
            """Whether her published combination is shared by fewer than k girls. One
            with every value withheld is no combination: it matches every girl."""
            shown = masked(c, mask)
            return shown != withheld and g[shown] < self.k

        groups = groups_of(masks)
        still = [c for c in rare if small(groups, c, masks[c])]
        while still:
            best: tuple[int, int, int] | None = None
            best_masks = masks
            for i in local:
                trial = dict(masks)
                for c in still:
                    trial[c] = masks[c] | {i}
                if trial == masks:
                    continue
                g = groups_of(trial)
                left = sum(rare[c] for c in rare if small(g, c, trial[c]))
                added = sum(rare[c] for c in still if i not in masks[c])
                key = (left, added, i)
                if best is None or key < best:
                    best, best_masks = key, trial
            if best is None:
                break
            masks = best_masks
            groups = groups_of(masks)
            still = [c for c in rare if small(groups, c, masks[c])]
        unresolved = sum(rare[c] for c in still)
        suppressed = sum(rare[c] * len(m) for c, m in masks.items()) + at_top
        published = Counter[Published]()
        for c, n in cells.items():
            published[masked(c, masks[c]) if c in masks else c] += n
        kept = {c: m for c, m in masks.items() if m}
        return _Plan(levels, kept, {c: rare[c] for c in kept}, sum(rare.values()),
                     unresolved, suppressed, published)

    def _fits(self, plan: _Plan) -> bool:
        return plan.unresolved == 0 and plan.cells_suppressed <= self.budget

    def decide(self) -> SmallCellCheck:
        """The least generalisation that fits (see the module's docstring): every
        combination of levels, cheapest first; the first that fits. When none does, the
        one that loses fewest cells (marked failed)."""
        lattice = sorted(
            itertools.product(*(range(h.top + 1) for h in self.hierarchies)),
            key=lambda lv: (sum(h.costs[x] for h, x in zip(self.hierarchies, lv, strict=True)),
                            lv),
        )
        first = self._plan(lattice[0])
        best = next((plan for plan in (self._plan(levels, bound=True) for levels in lattice)
                     if self._fits(plan)), None)
        if best is None:  # none fits: the one that loses fewest cells, marked failed
            best = min((self._plan(levels) for levels in lattice), key=lambda p: (
                p.cells_suppressed + p.unresolved * len(self.hierarchies), lattice.index(p.levels)))
        self.plan = best
        self._censoring_of_groups()
        return self._report(self.plan, first.small_before)

    def _censoring_of_groups(self) -> None:
        groups: dict[Published, int] = {}
        for qi, day in self.censoring.items():
            group = self.publish(qi)
            groups[group] = min(groups.get(group, day), day)
        self._group_censoring = groups

    def censoring_day(self, qi: QI, observed: int) -> int:
        """The day a girl still in care is censored on: the shortest of her group."""
        return min(observed, self._group_censoring.get(self.publish(qi), observed))

    def _report(self, plan: _Plan, before: int) -> SmallCellCheck:
        columns = []
        for i, h in enumerate(self.hierarchies):
            level = plan.levels[i]
            at_top = level == h.top
            suppressed = self.rows if at_top else sum(
                plan.rows[c] for c, m in plan.masks.items() if i in m)
            columns.append(ColumnReport(
                column=h.column, level=level, top=h.top, published_as=h.meaning(level),
                cells_generalised=0 if (level == 0 or at_top) else self._changed(i, level),
                cells_suppressed=suppressed,
            ))
        cells = self.rows * len(self.hierarchies)
        withheld: Published = (None,) * len(self.hierarchies)  # (matches every girl: no group)
        small = sum(n for g, n in plan.groups.items() if n < self.k and g != withheld)
        kept = [n for n in plan.groups.values() if n >= self.k]
        failures = []
        if small:
            failures.append(f"{small} girl(s) remain in a group under k={self.k}, even with"
                            " every value withheld that may be")
        if plan.cells_suppressed > self.budget:
            failures.append(
                f"{plan.cells_suppressed} of {cells} quasi-identifier cells suppressed:"
                f" over the budget of {self.max_suppressed_percent}%"
            )
        return SmallCellCheck(
            k=self.k,
            max_suppressed_percent=self.max_suppressed_percent,
            columns=columns,
            rows=self.rows,
            cells=cells,
            cells_suppressed=plan.cells_suppressed,
            suppressed_percent=round(100 * plan.cells_suppressed / cells, 2) if cells else 0.0,
            rows_in_small_cells_before=before,
            rows_with_suppression=self.rows if any(
                lv == h.top for h, lv in zip(self.hierarchies, plan.levels, strict=True)
            ) else sum(plan.rows.values()),
            rows_in_small_cells_after=small,
            classes=len(kept),
            smallest_class=min(kept) if kept else None,
            censored_shortened=0,  # (counted by the export as it writes her rows)
            censored_days_removed=0,
            failures=failures,
            passed=not failures,
        )

    def _changed(self, column: int, level: int) -> int:
        """Cells published coarser than recorded (withheld ones are not counted here)."""
        h = self.hierarchies[column]
        return sum(n for qi, n in self.raw.items()
                   if h.at(qi[column], level) != qi[column]
                   and self.publish(qi)[column] is not None)

    def publish(self, qi: QI) -> Published:
        """A girl's quasi-identifiers as published: None where withheld."""
        assert self.plan is not None, "decide() first"
        cell = self._generalise(qi, self.plan.levels)
        mask = self.plan.masks.get(cell, frozenset())
        return tuple(None if i in mask else v for i, v in enumerate(cell))
