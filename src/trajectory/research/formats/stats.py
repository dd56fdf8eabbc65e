"""SPSS (.sav) and Stata (.dta) files of the girl-level tables, with variable and value
labels, written with pyreadstat (the `stats` extra) from the CSV the export has just
written: the same rows, typed for the statistics packages.

- `int` columns are numeric; `flag` columns numeric with the value labels 0 "no", 1 "yes";
- `code` columns are numeric: the number of a code is its place in the codebook's list of
  that column's codes (1 = the first), with the code's words as its value label; an empty
  cell is system-missing;
- `text` (pseudonyms, periods) and `set` columns (codes joined by `|`) stay strings;
- every variable is labelled with its meaning from the codebook.

The labels are English: the variable labels are the codebook's meanings, which are
written once, in English, beside the columns (a Dutch copy would be a second codebook no
test keeps in step), and the value labels take the words of the English catalogue so that
a file speaks one language; the codes themselves are the same in every language.

Which tables: trajectories, spells and sequences (one row per girl or spell). events.csv
is not given as .sav/.dta: pyreadstat writes a whole table at once, and the events table
is as large as the log, which the export never holds in memory; it is in CSV, Parquet and
the process-mining logs.

Both formats carry a creation time in their header; it is set to a fixed 1 January 2000
so that the same store and parameters give the same bytes (the manifest holds no time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trajectory.research.tables import Table
from trajectory.research.timeline import (
    AFT,
    CEN,
    END,
    LOST_TO_FOLLOW_UP,
    RUN,
    STILL_IN_CARE,
)

STATS_TABLES = ("trajectories", "spells", "sequences", "follow_ups", "scores")
EXTENSIONS = {"sav": ".sav", "dta": ".dta"}
FLAG_LABELS: dict[int | float, str] = {0: "no", 1: "yes"}
COLUMNS_AT_ONCE = 32
LABEL_LENGTH = {"sav": 255, "dta": 80}
"""The longest variable label each format takes (a longer meaning is cut, with "...";
the codebook has it whole)."""
_OWN_WORDS = {
    RUN: "on the run", AFT: "aftercare", END: "closed", CEN: "not observed",
    STILL_IN_CARE: "still in care at the end of observation",
    LOST_TO_FOLLOW_UP: "lost to follow-up", "erased": "erased",
    "consent_withdrawn": "consent withdrawn",
}
"""Words for the export's own codes (states, censoring), which no page shows."""
_SAV_DATE = (92, b"01 Jan 00", b"00:00:00")
"""Where the .sav header holds its creation date and time (after the 8-byte bias)."""
_DTA_STAMP = b"<timestamp>\x1101 Jan 2000 00:00</timestamp>"


def _words(code: str) -> str:
    """The English words for a code (the code itself where the catalogue has none)."""
    if code in _OWN_WORDS:
        return _OWN_WORDS[code]
    if code[:1] == "P" and code[1:].isdigit():
        return f"phase {code[1:]}"
    english = _english()
    return english.value(code) if english.has("value", code) else code


_TRANSLATOR: list[Any] = []


def _english() -> Any:
    if not _TRANSLATOR:
        from trajectory.web.i18n import Translator

        _TRANSLATOR.append(Translator("en"))
    return _TRANSLATOR[0]


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 3].rstrip() + "..."


def _pyreadstat() -> tuple[Any, Any, Any]:
    try:
        import numpy
        import pandas as pd
        import pyreadstat
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "SPSS and Stata files need pyreadstat: install the project with its 'stats' extra"
        ) from None
    return numpy, pd, pyreadstat


def write(table: Table, csv_path: Path, fmt: str) -> Path:
    """The table's .sav or .dta beside its CSV; returns its path."""
    numpy, pd, pyreadstat = _pyreadstat()
    data: dict[str, Any] = {}
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[int | float, str]] = {}
    last_doc = ""
    frame = pd.DataFrame()
    for n, column in enumerate(table.columns):
        if n % COLUMNS_AT_ONCE == 0:
            # A few columns at a time, codes as categories: the sequences table has a cell
            # per girl and week, and memory holds the numbers, not the parsed text.
            group = table.columns[n:n + COLUMNS_AT_ONCE]
            frame = pd.read_csv(
                csv_path, keep_default_na=False, na_values=[],
                usecols=[c.name for c in group],
                dtype={c.name: "category" if c.kind == "code" else str for c in group},
            )
        cells = frame.pop(column.name)  # (let each column go once converted)
        doc = column.doc or last_doc
        last_doc = doc
        labels[column.name] = _cut(doc, LABEL_LENGTH[fmt])
        if column.kind == "number":
            data[column.name] = pd.to_numeric(cells.replace("", None)).astype("float64")
        elif column.kind in ("int", "flag"):
            numbers = pd.to_numeric(cells.replace("", None))
            data[column.name] = numbers if numbers.hasnans else numbers.astype("int32")
            if column.kind == "flag":
                value_labels[column.name] = dict(FLAG_LABELS)
        elif column.kind == "code" and column.codes:
            # the code's place in the list, 1 = the first; -1 (not in it: empty) -> missing
            categories = cells.cat
            known = pd.Index(list(column.codes)).get_indexer(categories.categories) + 1
            places = numpy.append(known, 0)[categories.codes]  # (code -1: none -> 0)
            # Small integers where no cell is missing (a sequence has a state every week:
            # a byte a cell, not eight), else numbers with missing values.
            data[column.name] = (
                pd.Series(places.astype("int16")) if places.min(initial=1) > 0
                else pd.Series(places, dtype="float64").where(places > 0)
            )
            value_labels[column.name] = {
                i: _words(code)[:120] for i, code in enumerate(column.codes, start=1)
            }
        else:
            data[column.name] = cells.astype(object)
    out = pd.DataFrame(data)
    path = csv_path.with_suffix(EXTENSIONS[fmt])
    if fmt == "sav":
        pyreadstat.write_sav(out, path, column_labels=labels,
                             variable_value_labels=value_labels)
        _fix_sav_time(path)
    else:
        pyreadstat.write_dta(out, path, column_labels=labels, version=14,
                             variable_value_labels=value_labels)
        _fix_dta_time(path)
    return path


def _fix_sav_time(path: Path) -> None:
    offset, day, clock = _SAV_DATE
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(day + clock)


def _fix_dta_time(path: Path) -> None:
    with path.open("r+b") as f:
        head = f.read(512)
        start = head.find(b"<timestamp>")
        end = head.find(b"</timestamp>", start) + len(b"</timestamp>")
        if start < 0 or end - start != len(_DTA_STAMP):
            return  # (no time, or not the 17 characters Stata writes: leave it)
        f.seek(start)
        f.write(_DTA_STAMP)
