"""The server's charts: well-formed SVG, named for assistive technology, bars as long as
their numbers, every word escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from trajectory.web.charts import (
    Series,
    bar_chart,
    small_multiples,
    stacked_bars,
    table_by_series,
    table_of,
)

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if "chart-bar" in r.get("class", "")]


def test_a_bar_chart_is_an_image_with_a_title_and_a_description() -> None:
    # Given three months, when drawn
    root = parsed(bar_chart("c1", "Runaways per month", "How many ran away.",
                            ["1-2026", "2-2026", "3-2026"], [2, 0, 4]))
    # Then it is an image labelled by its title and description
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Runaways per month"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "How many ran away."  # type: ignore[union-attr]


def test_bar_heights_are_proportional_to_the_numbers_and_each_number_is_written() -> None:
    root = parsed(bar_chart("c", "t", "d", ["a", "b", "c"], [2, 0, 4]))
    heights = [float(r.get("height", "0")) for r in bars(root)]
    assert heights[1] == 0
    assert heights[2] == pytest.approx(2 * heights[0], abs=0.1)
    written = [t.text for t in root.iter(f"{SVG}text") if "chart-value" in t.get("class", "")]
    assert written == ["2", "0", "4"]


def test_nothing_to_count_draws_empty_bars_without_dividing_by_zero() -> None:
    root = parsed(bar_chart("c", "t", "d", ["a", "b"], [0, 0]))
    assert [float(r.get("height", "1")) for r in bars(root)] == [0, 0]


def test_stacked_parts_are_as_long_as_their_numbers_and_the_legend_names_each_series() -> None:
    series = [Series("returned", (3, 1)), Series("found", (1, 0))]
    root = parsed(stacked_bars("s", "Runaways", "By ending.", ["phase 1", "phase 2"], series))
    widths = [float(r.get("width", "0")) for r in bars(root)]
    # phase 1: 3 + 1 (the longest bar), phase 2: 1
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.1)
    assert widths[2] == pytest.approx(widths[1], abs=0.1)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "returned" in labels
    assert "found" in labels
    # Each series has its own pattern, so print in black and white tells them apart.
    fills = {r.get("fill") for r in bars(root)}
    assert fills == {"url(#s-p0)", "url(#s-p1)"}


def test_small_multiples_share_one_scale() -> None:
    panels = [Series("element 5", (1, 2)), Series("element 6", (4, 0))]
    root = parsed(small_multiples("m", "Evidenced", "Per month.", ["1", "2"], panels))
    heights = [float(r.get("height", "0")) for r in bars(root)]
    assert heights[2] == pytest.approx(4 * heights[0], abs=0.1)
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.1)


def test_every_word_is_escaped() -> None:
    evil = '<script>alert("x")</script> & "quotes"'
    for svg in (
        bar_chart("a", evil, evil, [evil], [1]),
        stacked_bars("b", evil, evil, [evil], [Series(evil, (1,))]),
        small_multiples("c", evil, evil, [evil], [Series(evil, (1,))]),
    ):
        root = parsed(svg)  # still well-formed
        assert "<script>" not in svg
        assert root.find(f"{SVG}title").text == evil  # type: ignore[union-attr]


def test_a_value_missing_for_a_label_is_refused() -> None:
    with pytest.raises(ValueError, match="a value per label"):
        bar_chart("a", "t", "d", ["a", "b"], [1])
    with pytest.raises(ValueError, match="a value per label"):
        stacked_bars("a", "t", "d", ["a"], [Series("s", (1, 2))])


def test_the_table_holds_the_charts_numbers() -> None:
    table = table_of("Runaways", "Month", ["1", "2"], [Series("n", (3, 4))])
    assert table.head == ("Month", "n")
    assert table.rows == (("1", (3,)), ("2", (4,)))


def test_small_multiples_write_every_value_but_a_nought() -> None:
    root = parsed(small_multiples("m", "t", "d", ["1", "2", "3"], [Series("e", (0, 3, 1))]))
    written = [t.text for t in root.iter(f"{SVG}text") if "chart-small" in t.get("class", "")]
    assert written == ["3", "1"]


def test_many_series_read_as_a_row_each() -> None:
    table = table_by_series("Evidenced", "Element", ["1", "2"], [Series("5", (3, 4))])
    assert table.head == ("Element", "1", "2")
    assert table.rows == (("5", (3, 4)),)


def test_a_long_label_is_shortened_to_stay_inside_the_drawing() -> None:
    long = "probleem-, risico-, behoeften- en krachtenanalyse"
    root = parsed(stacked_bars("s", "t", "d", [long], [Series("n", (1,))]))
    (label,) = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert label is not None
    assert len(label) <= 30
    assert label.endswith("…")
    # cut between words, never inside one ("kra…" reads as nothing)
    assert long.startswith(label.removesuffix("…"))
    assert not long[len(label.removesuffix("…"))].isalpha()


def test_a_label_without_a_space_is_cut_where_it_must() -> None:
    long = "x" * 40
    root = parsed(stacked_bars("s", "t", "d", [long], [Series("n", (1,))]))
    (label,) = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert label == "x" * 29 + "…"
