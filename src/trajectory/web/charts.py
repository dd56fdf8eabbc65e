"""Charts drawn on the server as inline SVG: a bar chart, stacked bars and small multiples.

Pure functions: numbers and words in, an SVG string out (every word escaped), no I/O,
no JavaScript. Each chart is an image to assistive technology (`role="img"`, labelled by
its `<title>` and `<desc>`); the page shows the same numbers as a table too, so the
chart is never the only place a number is. Every bar carries its number as text, and
series differ by a pattern as well as a colour, so that a chart printed in black and
white still reads (the colours live in style.css, the patterns here).

What must not change: the ids are made from the `chart_id` given, so two charts on one
page must get different ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
"""The drawing's width in its own units; the SVG scales to the width of its box."""
PATTERNS = 5
"""Series are told apart by one of this many fills (colour and pattern)."""


@dataclass(frozen=True)
class Series:
    """One row of numbers: its name (the legend's word) and a value per label."""

    name: str
    values: tuple[int, ...]


def _e(text: str) -> str:
    return escape(text, quote=True)


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zero."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(chart_id: str, title: str, desc: str, height: float) -> list[str]:
    cid = _e(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" id="{cid}"'
        f' viewBox="0 0 {WIDTH} {_n(height)}" role="img"'
        f' aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{_e(title)}</title>',
        f'<desc id="{cid}-desc">{_e(desc)}</desc>',
    ]


def _patterns(chart_id: str) -> str:
    """The fills of the series: a plain one, then hatching, dots, cross-hatching and lines, each
    over the series' colour (`chart-fill-N` in style.css)."""
    cid = _e(chart_id)
    marks = [
        "",
        '<path d="M0,8 L8,0" class="chart-mark"/>',
        '<circle cx="4" cy="4" r="1.6" class="chart-dot"/>',
        '<path d="M0,0 L8,8 M0,8 L8,0" class="chart-mark"/>',
        '<path d="M0,4 L8,4" class="chart-mark"/>',
    ]
    defs = ["<defs>"]
    for i, mark in enumerate(marks):
        defs.append(
            f'<pattern id="{cid}-p{i}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" class="chart-fill-{i}"/>{mark}</pattern>'
        )
    defs.append("</defs>")
    return "".join(defs)


def _fill(chart_id: str, series: int) -> str:
    return f'fill="url(#{_e(chart_id)}-p{series % PATTERNS})"'


def _short(text: str, most: int = 26) -> str:
    """A name that fits a small panel (the table beside the chart has it whole), cut
    between words: a word cut in two ("kra…") reads as nothing. A single long word is
    cut where it must."""
    if len(text) <= most:
        return text
    cut = text[: most - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:") + "…"


def _scale(values: Sequence[int]) -> int:
    return max([*values, 1])


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[int],
    *,
    height: int = 220,
) -> Markup:
    """Vertical bars, one per label, each as high as its value (the highest fills the
    plot), its number above it and its label below."""
    if len(labels) != len(values):
        raise ValueError("a value per label")
    out = _open(chart_id, title, desc, height)
    out.append(_patterns(chart_id))
    top, bottom, left = 20.0, 40.0, 8.0
    plot = height - top - bottom
    slot = (WIDTH - 2 * left) / max(len(labels), 1)
    biggest = _scale(values)
    base = top + plot
    out.append(
        f'<line class="chart-axis" x1="{_n(left)}" y1="{_n(base)}"'
        f' x2="{_n(WIDTH - left)}" y2="{_n(base)}"/>'
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot * value / biggest
        x = left + i * slot + slot * 0.15
        w = slot * 0.7
        middle = left + i * slot + slot / 2
        out.append(
            f'<rect class="chart-bar" x="{_n(x)}" y="{_n(base - h)}" width="{_n(w)}"'
            f' height="{_n(h)}" {_fill(chart_id, 0)} data-value="{value}"/>'
        )
        out.append(
            f'<text class="chart-value" x="{_n(middle)}" y="{_n(base - h - 4)}"'
            f' text-anchor="middle">{value}</text>'
        )
        out.append(
            f'<text class="chart-label" x="{_n(middle)}" y="{_n(base + 16)}"'
            f' text-anchor="middle">{_e(label)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def stacked_bars(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    row: int = 30,
) -> Markup:
    """A horizontal bar per label, made of one part per series (as long as its value; the
    longest bar fills the plot), each part with its number; a legend below. A long label
    is shortened (the table beside the chart has it whole)."""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(f"{s.name!r}: a value per label")
    label_width, right = 200.0, 34.0
    plot = WIDTH - label_width - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    biggest = _scale(totals)
    legend_rows = (len(series) + 2) // 3
    height = 10 + len(labels) * row + 14 + legend_rows * 22
    out = _open(chart_id, title, desc, height)
    out.append(_patterns(chart_id))
    for i, label in enumerate(labels):
        y = 10 + i * row
        out.append(
            f'<text class="chart-label" x="{_n(label_width - 6)}" y="{_n(y + row / 2 + 4)}"'
            f' text-anchor="end">{_e(_short(label, 30))}</text>'
        )
        x = label_width
        for k, s in enumerate(series):
            value = s.values[i]
            if not value:
                continue
            w = plot * value / biggest
            out.append(
                f'<rect class="chart-bar" x="{_n(x)}" y="{_n(y + 3)}" width="{_n(w)}"'
                f' height="{_n(row - 6)}" {_fill(chart_id, k)} data-value="{value}">'
                f"<title>{_e(label)}, {_e(s.name)}: {value}</title></rect>"
            )
            if w >= 18:
                out.append(
                    f'<text class="chart-value chart-on-bar" x="{_n(x + w / 2)}"'
                    f' y="{_n(y + row / 2 + 4)}" text-anchor="middle">{value}</text>'
                )
            x += w
        # The bar's total after it (the longest bar leaves `right` for it).
        out.append(
            f'<text class="chart-value chart-total" x="{_n(x + 4)}"'
            f' y="{_n(y + row / 2 + 4)}">{totals[i]}</text>'
        )
    y0 = 10 + len(labels) * row + 14
    for k, s in enumerate(series):
        x = 10 + (k % 3) * (WIDTH / 3)
        y = y0 + (k // 3) * 22
        out.append(
            f'<rect class="chart-key" x="{_n(x)}" y="{_n(y - 11)}" width="14" height="14"'
            f" {_fill(chart_id, k)}/>"
            f'<text class="chart-label" x="{_n(x + 20)}" y="{_n(y)}">{_e(s.name)}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def small_multiples(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    panels: Sequence[Series],
    *,
    columns: int = 3,
    panel_height: int = 110,
) -> Markup:
    """A small bar chart per panel, over the same labels and on the same scale (the
    highest value of any panel fills a panel), so that the panels compare at a glance.
    Each panel's last value is written beside its name, and every value but a nought
    above its bar; the labels are in the table beside the chart (twelve months under
    each of fifteen small panels would not be read)."""
    for p in panels:
        if len(p.values) != len(labels):
            raise ValueError(f"{p.name!r}: a value per label")
    rows = (len(panels) + columns - 1) // columns
    panel_width = WIDTH / columns
    height = rows * panel_height + 6
    out = _open(chart_id, title, desc, height)
    out.append(_patterns(chart_id))
    biggest = _scale([v for p in panels for v in p.values])
    top, bottom, pad = 30.0, 8.0, 8.0
    plot = panel_height - top - bottom
    for n, p in enumerate(panels):
        x0 = (n % columns) * panel_width + pad
        y0 = (n // columns) * panel_height
        inner = panel_width - 2 * pad
        last = p.values[-1] if p.values else 0
        out.append(
            f'<text class="chart-label chart-panel-title" x="{_n(x0)}" y="{_n(y0 + 14)}">'
            f"{_e(_short(p.name))}: {last}</text>"
        )
        base = y0 + top + plot
        out.append(
            f'<line class="chart-axis" x1="{_n(x0)}" y1="{_n(base)}"'
            f' x2="{_n(x0 + inner)}" y2="{_n(base)}"/>'
        )
        slot = inner / max(len(labels), 1)
        for i, (label, value) in enumerate(zip(labels, p.values, strict=True)):
            h = plot * value / biggest
            out.append(
                f'<rect class="chart-bar" x="{_n(x0 + i * slot + slot * 0.1)}"'
                f' y="{_n(base - h)}" width="{_n(slot * 0.8)}" height="{_n(h)}"'
                f' {_fill(chart_id, 0)} data-value="{value}">'
                f"<title>{_e(p.name)}, {_e(label)}: {value}</title></rect>"
            )
            if value:  # (a row of noughts would drown the numbers that are there)
                out.append(
                    f'<text class="chart-value chart-small" x="{_n(x0 + i * slot + slot / 2)}"'
                    f' y="{_n(base - h - 2)}" text-anchor="middle">{value}</text>'
                )
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True)
class Table:
    """A chart's numbers as a table: a caption, the column heads (the first heads the
    row names) and a row per label."""

    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]


def table_of(
    caption: str, corner: str, labels: Sequence[str], series: Sequence[Series]
) -> Table:
    """The numbers of a chart: a row per label, a column per series."""
    return Table(
        caption=caption,
        head=(corner, *(s.name for s in series)),
        rows=tuple(
            (label, tuple(s.values[i] for s in series)) for i, label in enumerate(labels)
        ),
    )


def table_by_series(
    caption: str, corner: str, labels: Sequence[str], series: Sequence[Series]
) -> Table:
    """The numbers of a chart with many series (small multiples): a row per series, a
    column per label."""
    return Table(
        caption=caption,
        head=(corner, *labels),
        rows=tuple((s.name, tuple(s.values)) for s in series),
    )
