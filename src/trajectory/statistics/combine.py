"""The national table, added up from the installations' published figures.

No installation hands over a girl's record or a true small count: each publishes its own
suppressed and rounded figures (`trajectory statistics publish`), and the national table
is their sum. The rule, cell by cell (one year, one row of one table):

- every installation published the cell: the national count is the sum of the published
  counts. Each of those is its installation's true count rounded to a multiple of 5, so
  the sum is a multiple of 5 too, within 2 per installation of the true national count;
  it is not rounded again.
- any installation suppressed the cell: its count is unknown (1 to 4, or any size where it
  was suppressed as a complement), so the national cell is suppressed too. A sum that
  left it out would understate the figure, and one that guessed it would invent one.
  Only the national table's own rules can show more than a source did, and they do not
  here: a cell once suppressed stays suppressed.
- then the national table is suppressed again by the same rules as an installation's
  (`publishable`): a sum under 5 (other than 0) is suppressed, and in a breakdown that adds
  up to a shown row a single suppressed cell takes the next smallest with it, so that no
  suppressed cell is worked out from the national totals either. Percentages are of the
  national published counts.

The documents must agree on what they count: the same format, small-cell threshold and
rounding base, and the same rows; one installation's year counts once (two documents
signed by one key for one year are refused: the sum would count her twice).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from trajectory.projections.victims import (
    ROUNDING_BASE,
    SMALL_CELL,
    TABLES,
    Cell,
    CellOut,
    TableName,
    TableOut,
    layout,
    publishable,
    table_out,
)
from trajectory.statistics.document import PublishedFigures
from trajectory.statistics.signing import PublicKey

RULE = (
    "A national count is the sum of the installations' published counts (each rounded to"
    " a multiple of 5; the sum is not rounded again). A cell any installation suppressed"
    " is suppressed nationally; then small sums, and the one other cell that would give a"
    " suppressed cell away by subtraction, are suppressed as in every installation's table."
)


class CombineRefused(Exception):
    """Documents that cannot be added up honestly; `source` names the file."""

    def __init__(self, source: str, message: str):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


@dataclass(frozen=True)
class Source:
    """A verified document: where it came from (a file name), its figures, its key, and
    whether that key is on the trusted list given."""

    name: str
    figures: PublishedFigures
    key: PublicKey
    trusted: bool


class SourceOut(msgspec.Struct, frozen=True, kw_only=True):
    installation: str
    year: int
    fingerprint: str
    trusted: bool
    """Its key was on the trusted list given; false: only its own embedded key vouches
    for it (compare the fingerprint with the installation's published one)."""


class HiddenOut(msgspec.Struct, frozen=True, kw_only=True):
    """A national cell that is unknown because installations suppressed their part of it:
    which ones (what their own documents already say), so that the reader knows why."""

    year: int
    table: TableName
    key: str
    installations: list[str]


class NationalOut(msgspec.Struct, frozen=True, kw_only=True):
    """The national table: the same two tables, a column per year."""

    years: list[int]
    sources: list[SourceOut]
    small_cell_threshold: int
    rounding_base: int
    rule: str
    registered: TableOut
    in_care: TableOut
    hidden_by_sources: list[HiddenOut] = []


def combine(sources: Sequence[Source]) -> NationalOut:
    """Add the sources up into the national table, after checking they may be added."""
    if not sources:
        raise CombineRefused("(none)", "no documents to combine")
    seen: dict[tuple[str, int], str] = {}
    for source in sources:
        _check(source)
        key = (source.key.fingerprint, source.figures.year)
        if key in seen:
            raise CombineRefused(
                source.name,
                f"the same installation's figures of {source.figures.year} are also in"
                f" {seen[key]}: each installation's year counts once",
            )
        seen[key] = source.name
    years = sorted({s.figures.year for s in sources})
    tables: dict[TableName, TableOut] = {}
    hidden_by: list[HiddenOut] = []
    for table in TABLES:
        lines = layout(table)
        columns = []
        for year in years:
            sums: Counter[Cell] = Counter()
            hidden: dict[Cell, list[str]] = {}
            for source in (s for s in sources if s.figures.year == year):
                rows = getattr(source.figures, table).rows
                for line, row in zip(lines, rows, strict=True):
                    cell: CellOut = row.cells[0]
                    if cell.suppressed or cell.n is None:
                        hidden.setdefault(line.cell, []).append(source.figures.installation)
                    else:
                        sums[line.cell] += cell.n
            columns.append(publishable(sums, lines, hidden=hidden, round_counts=False))
            hidden_by += [
                HiddenOut(year=year, table=table, key=line.cell[1],
                          installations=sorted(hidden[line.cell]))
                for line in lines if line.cell in hidden
            ]
        tables[table] = table_out(table, lines, columns)
    return NationalOut(
        years=years,
        sources=[
            SourceOut(installation=s.figures.installation, year=s.figures.year,
                      fingerprint=s.key.fingerprint, trusted=s.trusted)
            for s in sorted(sources, key=lambda s: (s.figures.year, s.figures.installation))
        ],
        small_cell_threshold=SMALL_CELL,
        rounding_base=ROUNDING_BASE,
        rule=RULE,
        registered=tables["registered"],
        in_care=tables["in_care"],
        hidden_by_sources=hidden_by,
    )


def _check(source: Source) -> None:
    """The document counts what this version counts, as this version publishes it."""
    f = source.figures
    if (f.small_cell_threshold, f.rounding_base) != (SMALL_CELL, ROUNDING_BASE):
        raise CombineRefused(
            source.name,
            f"published with small cells under {f.small_cell_threshold} and rounding to"
            f" {f.rounding_base}; the national table uses {SMALL_CELL} and {ROUNDING_BASE}",
        )
    for table in TABLES:
        rows = getattr(f, table).rows
        want = [(line.cell[0], line.cell[1], line.parent) for line in layout(table)]
        if [(r.group, r.key, r.parent) for r in rows] != want:
            raise CombineRefused(source.name, f"its {table} table has other rows")
        for row in rows:
            if len(row.cells) != 1:
                raise CombineRefused(source.name, "a published document holds one year")
            n = row.cells[0].n
            if n is not None and (n < 0 or n % ROUNDING_BASE):
                raise CombineRefused(
                    source.name, f"{row.key}: {n} is not a published (rounded) count"
                )
