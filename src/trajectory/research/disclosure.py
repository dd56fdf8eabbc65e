"""Disclosure control: bands instead of exact values, and a small-cell check (k-anonymity).

The quasi-identifiers of a girl are what someone who knows her could look up: the
organisation that took her in, her age band at intake, the month of intake and her set of
risk profiles. Every combination of them that is published must be shared by at least k
girls (k = 5 by default). Where that fails, the whole table is generalised one step at a
time (month -> quarter -> year, then the organisation dropped) for as long as that
removes more small cells than the suppression budget allows; the rows that are still in
a cell under k keep their row but lose all four quasi-identifiers (`qi_suppressed` = 1).
The manifest reports the level chosen, the steps taken and the rows suppressed.

What must not change: the band and period formats (researchers' scripts parse them).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import msgspec

from trajectory.protocol.rules import age_on

AGE_BANDS = ("<12", "12-13", "14-15", "16-17", "18+")

QUASI_IDENTIFIERS = ("organisation", "age_band", "intake_period", "risk_profiles")

QI = tuple[str, str, str, str]
"""(organisation pseudonym, age band, intake month YYYY-MM, risk profile set)."""

LEVELS = (
    "organisation, age band, month of intake, risk profiles",
    "month of intake generalised to quarter",
    "month of intake generalised to year",
    "organisation dropped; year of intake",
)
STEPS = (
    "intake_period: month -> quarter",
    "intake_period: quarter -> year",
    "organisation: dropped",
)


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


def generalise(qi: QI, level: int) -> QI:
    """The quasi-identifiers as published at a generalisation level (0 = as they are)."""
    organisation, band, month, profiles = qi
    year, mm = month[:4], int(month[5:7])
    if level == 0:
        period = month
    elif level == 1:
        period = f"{year}-Q{(mm - 1) // 3 + 1}"
    else:
        period = year
    return ("" if level >= 3 else organisation, band, period, profiles)


class SmallCellCheck(msgspec.Struct, kw_only=True):
    """What the small-cell check found and did (reported in the manifest)."""

    k: int
    quasi_identifiers: tuple[str, ...] = QUASI_IDENTIFIERS
    max_suppressed_percent: int
    level: int
    level_meaning: str
    steps: list[str]
    rows: int
    rows_in_small_cells_before: int
    rows_suppressed: int
    classes: int
    smallest_class: int | None
    passed: bool


class KAnonymity:
    """Counts quasi-identifier cells at every level while rows stream past, then decides."""

    def __init__(self, k: int, max_suppressed_percent: int):
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.max_suppressed_percent = max_suppressed_percent
        self.cells = [Counter[QI]() for _ in LEVELS]
        self.rows = 0
        self.level = 0

    def add(self, qi: QI) -> None:
        self.rows += 1
        for level, cells in enumerate(self.cells):
            cells[generalise(qi, level)] += 1

    def _rare(self, level: int) -> int:
        return sum(n for n in self.cells[level].values() if n < self.k)

    def decide(self) -> SmallCellCheck:
        """The lowest level whose small cells fit the suppression budget; else the level
        with the fewest rows in small cells (the lowest, on a tie)."""
        budget = self.rows * self.max_suppressed_percent // 100
        rare = [self._rare(level) for level in range(len(LEVELS))]
        fitting = [level for level, n in enumerate(rare) if n <= budget]
        self.level = fitting[0] if fitting else rare.index(min(rare))
        kept = [n for n in self.cells[self.level].values() if n >= self.k]
        return SmallCellCheck(
            k=self.k,
            max_suppressed_percent=self.max_suppressed_percent,
            level=self.level,
            level_meaning=LEVELS[self.level],
            steps=list(STEPS[: self.level]),
            rows=self.rows,
            rows_in_small_cells_before=rare[0],
            rows_suppressed=rare[self.level],
            classes=len(kept),
            smallest_class=min(kept) if kept else None,
            passed=all(n >= self.k for n in kept),
        )

    def publish(self, qi: QI) -> QI | None:
        """The quasi-identifiers to publish for a row, or None when they are suppressed."""
        cell = generalise(qi, self.level)
        return cell if self.cells[self.level][cell] >= self.k else None
