"""The combining rule, cell by cell, on figures made by the installations' own
suppression: published counts add up; a cell any source suppressed stays suppressed; the
national table is suppressed again by the same rules; documents that count otherwise, or
one installation's year twice, are refused."""

from __future__ import annotations

from collections import Counter
from datetime import date

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trajectory.projections.victims import (
    TABLES,
    Cell,
    TableName,
    layout,
    publishable,
    table_out,
)
from trajectory.statistics.combine import CombineRefused, Source, combine
from trajectory.statistics.document import DocumentRefused, PublishedFigures, sign, verify
from trajectory.statistics.signing import public_key_of


def source(name: str, counts: dict[str, int], *, year: int = 2025,
           key: Ed25519PrivateKey | None = None) -> Source:
    """An installation's published document of `year`: both tables from the same true
    counts (by row key), suppressed and rounded as an installation publishes them."""
    tables = {}
    for table in TABLES:
        lines = layout(table)
        true: Counter[Cell] = Counter({line.cell: counts.get(line.cell[1], 0) for line in lines})
        tables[table] = table_out(table, lines, [publishable(true, lines)])
    figures = PublishedFigures(installation=name, year=year, published_on=date(2026, 2, 2),
                               small_cell_threshold=5, rounding_base=5, **tables)
    return Source(name=f"{name}.json", figures=figures,
                  key=public_key_of(key or Ed25519PrivateKey.generate()), trusted=True)


def national(table: TableName, *sources: Source) -> dict[str, int | None]:
    out = getattr(combine(sources), table)
    return {row.key: row.cells[0].n for row in out.rows}


def test_published_counts_add_up_and_are_not_rounded_again() -> None:
    # given two installations: 12 and 13 Dutch girls (published 10 and 15)
    a = source("a", {"total": 12, "dutch": 12, "suspected": 12})
    b = source("b", {"total": 13, "dutch": 13, "suspected": 13})
    # then the national count is 25, the sum of what each published
    got = national("in_care", a, b)
    assert (got["total"], got["dutch"], got["foreign"]) == (25, 25, 0)


def test_a_cell_one_source_suppressed_stays_suppressed_with_its_complement() -> None:
    # given A with 3 foreign girls (suppressed, with its Dutch ones as complement), and B
    # with 20 foreign and 20 Dutch girls
    a = source("a", {"total": 15, "dutch": 12, "foreign": 3, "suspected": 15})
    b = source("b", {"total": 40, "dutch": 20, "foreign": 20, "suspected": 40})
    got = national("in_care", a, b)
    # then the national total is shown, the foreign and Dutch girls are not: A's part of
    # them is unknown, and a sum that left it out would understate them
    assert got["total"] == 55
    assert got["foreign"] is None
    assert got["dutch"] is None
    assert got["unknown_nationality"] == 0
    # and the table says whose part is unknown (what A's own document says already)
    hidden = {(h.table, h.key): h.installations for h in combine([a, b]).hidden_by_sources}
    assert hidden[("in_care", "foreign")] == hidden[("in_care", "dutch")] == ["a"]
    assert ("in_care", "total") not in hidden


def test_a_source_too_small_to_publish_its_total_leaves_the_national_total_unknown() -> None:
    # given A so small that its total is suppressed (3 girls, all Dutch; nothing of it is
    # protected by a complement), and B with 30 Dutch and 10 foreign girls
    a = source("a", {"total": 3, "dutch": 3, "potential": 3})
    b = source("b", {"total": 40, "dutch": 30, "foreign": 10, "potential": 40})
    got = national("in_care", a, b)
    # then the national total and A's Dutch girls are unknown: suppressed
    assert got["total"] is None
    assert got["dutch"] is None
    # and B's foreign girls are shown (A published its zero)
    assert got["foreign"] == 10


def test_documents_that_count_otherwise_are_refused_by_name() -> None:
    a = source("a", {"total": 10, "dutch": 10})
    other_threshold = Source(
        name="b.json", key=a.key, trusted=True,
        figures=msgspec.structs.replace(a.figures, small_cell_threshold=10),
    )
    with pytest.raises(CombineRefused, match=r"b\.json"):
        combine([source("c", {}), other_threshold])
    key = Ed25519PrivateKey.generate()
    twice = [source("a", {"total": 10}, key=key), source("a-again", {"total": 10}, key=key)]
    with pytest.raises(CombineRefused, match="counts once"):
        combine(twice)
    # one installation's two years are two columns, not a repetition
    years = combine([source("a", {"total": 10}, key=key),
                     source("a", {"total": 20}, key=key, year=2024)]).years
    assert years == [2024, 2025]


def test_a_signed_document_verifies_and_any_change_does_not() -> None:
    key = Ed25519PrivateKey.generate()
    document = sign(source("a", {"total": 10, "dutch": 10}).figures, key)
    data = msgspec.json.encode(document)
    figures, public = verify(data)
    assert public == public_key_of(key)
    assert figures == document.figures
    # the layout of the file does not matter, its figures do
    assert verify(msgspec.json.format(data, indent=4))[0] == figures
    changed = data.replace(b'"installation":"a"', b'"installation":"b"')
    with pytest.raises(DocumentRefused, match="signature does not match"):
        verify(changed)
    with pytest.raises(DocumentRefused, match="not a JSON"):
        verify(b"{not json")
