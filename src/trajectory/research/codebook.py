"""The codebook of the research export, made from the definitions the export writes with.

`python -m trajectory.research.codebook [FILE]` writes it (default docs/codebook.md);
`--check` exits 1 when the file differs from what the code gives. A test does the same,
so a new column, code or state cannot be published undocumented.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec

from trajectory.protocol import default_protocol
from trajectory.research.coding import coders, event_classes, filled_by, iter_excluded
from trajectory.research.disclosure import SmallCellCheck, disclosure_codebook
from trajectory.research.manifest import FIELD_DOCS, Counts, Manifest, Parameters
from trajectory.research.tables import (
    FORMULA_STARTS,
    Table,
    events_table,
    follow_ups_table,
    scores_table,
    sequences_table,
    spells_table,
    trajectories_table,
)
from trajectory.research.timeline import CENSORING_PERIOD, STATE_DOCS

DEFAULT_PATH = Path("docs/codebook.md")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _codes(codes: tuple[str, ...]) -> str:
    return ", ".join(f"`{c}`" for c in codes)


def _table(table: Table, *, note: str = "") -> list[str]:
    lines = [f"## {table.name}.csv", "", table.doc + (" " + note if note else ""), "",
             "| column | kind | meaning | codes |", "|---|---|---|---|"]
    for c in table.columns:
        lines.append(f"| `{c.name}` | {c.kind} | {_cell(c.doc)} | {_cell(_codes(c.codes))} |")
    return [*lines, ""]


def _events_table() -> list[str]:
    table = events_table()
    fills = filled_by()
    lines = [f"## {table.name}.csv", "", table.doc + " Every coded column is empty in the"
             " rows of events that do not have it; which events fill it is listed.", "",
             "| column | kind | meaning | codes |", "|---|---|---|---|"]
    for c in table.columns:
        meaning = c.doc
        codes = _codes(c.codes)
        if c.name in fills:
            events = fills[c.name]
            by = ", ".join(f"{e} (`{f}`)" for e, f, _ in events)
            meaning = (f"{meaning}; " if meaning else "") + f"from {by}"
            if len({codes for _, _, codes in events}) > 1:
                codes = "; ".join(f"{e}: {_codes(cs)}" for e, _, cs in events)
        lines.append(f"| `{c.name}` | {c.kind} | {_cell(meaning)} | {_cell(codes)} |")
    return [*lines, ""]


def _outcomes() -> list[str]:
    from trajectory.research import outcomes

    doc = (outcomes.__doc__ or "").split("\n\n")
    return [
        "## Outcomes", "",
        "The outcome columns at the end of trajectories.csv, follow_ups.csv and"
        " scores.csv. " + " ".join(doc[2].split()),
        "",
        " ".join(doc[4].split()),
        "",
        "Days since intake: `day` in events.csv and follow_ups.csv is already that (day 0"
        " = intake). Revictimisation within 12 months after care, with censoring: among"
        " girls with `care_end_day`, time = `revictimisation_after_care_days` where"
        " `follow_up_censored` = 0, else `follow_up_end_day` - `care_end_day` (censored)."
        " Still in view at 19: `in_view_at_19` among girls where it is not empty.",
        "",
        *_table(follow_ups_table()),
        *_table(scores_table()),
    ]


def _event_catalogue() -> list[str]:
    excluded: dict[str, list[str]] = {}
    for event, name in iter_excluded():
        excluded.setdefault(event, []).append(name)
    lines = ["## Events and what of them leaves", "",
             "Every event gives one row in events.csv. Its coded fields fill the columns"
             " named; the fields in the last column (texts, names, ids, regions, providers,"
             " structures, and the risk profiles, which are quasi-identifiers) never leave.",
             "", "| event | the fact | coded columns | never exported |", "|---|---|---|---|"]
    for cls in event_classes():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        columns = ", ".join(f"`{c.column.name}`" for c in coders(cls)) or "(none)"
        never = ", ".join(f"`{n}`" for n in excluded.get(cls.__name__, [])) or "(none)"
        lines.append(f"| `{cls.__name__}` | {_cell(doc)} | {columns} | {never} |")
    return [*lines, ""]


def _states(phases: int) -> list[str]:
    lines = ["## States", "",
             "The states of sequences.csv (one per week) and spells.csv (one per spell of"
             " days). A day's state is the state after every fact that occurred on or before"
             " that day; a week's state is the state held for most of its days (a tie goes"
             " to the later). For each state S and girl, |weeks(S) - days(S)/7| is less than"
             " the number of weeks in which she changed state plus one for an incomplete"
             " last week (when that is zero, they are equal).", "",
             "| state | meaning |", "|---|---|"]
    for code, doc in STATE_DOCS.items():
        lines.append(f"| `{code}` | {_cell(doc)} |")
    default = default_protocol()
    names = ", ".join(f"`P{p.number}` {p.name}" for p in default.phase)
    lines += ["", f"With the default protocol ({default.name} {default.version}): {names}."
              f" A protocol with more phases adds `P{phases + 1}` and so on (and the"
              " matching `days_p` columns).", ""]
    return lines


def _disclosure() -> list[str]:
    lines = [
        "## Disclosure control", "",
        *disclosure_codebook(CENSORING_PERIOD),
        "- Pseudonyms: `G` + 16 hex digits (girl), `O` + 10 (organisation), HMAC-SHA-256"
        " under the project's own secret: stable within a project, unlinkable across.",
        "- Text cells starting with " + ", ".join(f"`{repr(c)[1:-1]}`" for c in FORMULA_STARTS)
        + " get a leading `'` in CSV (formula injection); numbers are never escaped.",
        "",
    ]
    return lines


def _formats() -> list[str]:
    from trajectory.research.formats.datapackage import DATAPACKAGE
    from trajectory.research.formats.process import BASE_DAY, OCEL_FILE, XES_FILE
    from trajectory.research.formats.stats import FLAG_LABELS, LABEL_LENGTH, STATS_TABLES

    stats_files = ", ".join(f"{t}.sav/.dta" for t in STATS_TABLES)
    return [
        "## Other formats", "",
        "Written from the same rows as the CSV tables, each listed in manifest.json with its"
        " SHA-256 (`parameters.formats` says which were asked for).", "",
        f"- `{DATAPACKAGE}` (always): a Frictionless Data Package of the CSV tables."
        " Each column is a field: `text`, `code` and `set` as string, `int` and `flag` as"
        " integer, `number` as number; its meaning as description; a code list as `enum`,"
        " a flag as `enum`"
        " [0, 1], a set as a `pattern` of its codes joined by `|`, the pseudonym as"
        " required; primary keys (trajectories: pseudonym; events: pseudonym, seq;"
        " sequences: pseudonym; spells: pseudonym, begin; follow_ups: pseudonym, moment;"
        " scores: pseudonym, moment, instrument_number, scale) and foreign keys to"
        " trajectories.csv; each file's bytes and `sha256:` hash. Missing: an empty cell."
        " `frictionless validate datapackage.json` checks the files against it.",
        f"- `{OCEL_FILE}` (`--also ocel`): OCEL 2.0 JSON; `{XES_FILE}` (`--also xes`): XES"
        " (IEEE 1849-2016). One case per girl (an OCEL object of type `girl`, a XES trace),"
        " named by her pseudonym; one event per row of events.csv, its activity the `event`"
        " code, its attributes the row's filled columns (`day`, `seq`, the coded columns,"
        " `corrected`, `day_recorded`). Left out: entries marked in error, and the"
        " correcting facts themselves (`EntryCorrected`, `EntryMarkedInError`). Times are"
        f" synthetic: day 0 of every girl is {BASE_DAY.isoformat()}, an event on day d is d"
        " days later, at a time of day of `seq` seconds (the order within a day); no real"
        " date or time is in these files.",
        f"- {stats_files} (`--also sav`, `--also dta`): SPSS (system file, compressed) and"
        " Stata (format 118, Stata 14 and later) files of the girl-level tables, UTF-8."
        " `int` and `number` columns numeric; `flag` numeric with value"
        f" labels {', '.join(f'{k} {v!r}' for k, v in FLAG_LABELS.items())}; `code`"
        " columns numeric, the number of a code being its place in this codebook's list of"
        " the column's codes (1 = the first), labelled with the code's English words;"
        " empty numbers missing; `text` and `set` columns strings as wide as their widest"
        " cell; every variable labelled with its meaning here"
        f" (cut at {LABEL_LENGTH['dta']} characters in Stata). Labels are English, as this"
        " codebook. events.csv has no .sav/.dta (as large as the log: use CSV or Parquet).",
        "",
    ]


def _manifest() -> list[str]:
    lines = ["## manifest.json", "", "| field | meaning |", "|---|---|"]
    for name in _manifest_fields():
        lines.append(f"| `{name}` | {_cell(FIELD_DOCS[name])} |")
    fields = ", ".join(f"`{f}`" for f in SmallCellCheck.__struct_fields__)
    lines += ["", f"`small_cell_check` holds: {fields}.", ""]
    return lines


def _manifest_fields() -> list[str]:
    names: list[str] = []
    nested: dict[str, type[msgspec.Struct]] = {"parameters": Parameters, "counts": Counts}
    for name in Manifest.__struct_fields__:
        names.append(name)
        if name in nested:
            names += [f"{name}.{f}" for f in nested[name].__struct_fields__]
    return names


def render() -> str:
    phases = len(default_protocol().phase)
    lines = [
        "# Codebook of the research export",
        "",
        "Made by `python -m trajectory.research.codebook` from the definitions the export"
        " writes with; do not edit by hand. How to load the files: docs/research.md.",
        "",
        "Files: trajectories.csv, events.csv, sequences.csv, spells.csv, follow_ups.csv,"
        " scores.csv, datapackage.json"
        " and manifest.json (with `--format parquet` also a .parquet of each table: the"
        " same columns, text as strings, numbers as integers, missing as null; with"
        " `--also` the process-mining logs and the SPSS and Stata files: see Other"
        " formats).",
        "",
        "CSV: UTF-8, comma-separated, `\\n` line ends, a header row, quoted only where"
        " needed. Missing is an empty cell. Kinds: `text` (a pseudonym or period), `code`"
        " (one code), `set` (codes joined by `|` in the order listed; empty: none), `int`,"
        " `flag` (0 or 1), `number` (a decimal number, `.` as the decimal point).",
        "",
        *_states(phases),
        *_table(trajectories_table(phases),
                note="(`days_p1` … `days_pN`: N is the most phases of the protocols the"
                f" exported girls ran under, {phases} with the default protocol.)"),
        *_events_table(),
        *_table(sequences_table(1, phases),
                note="Columns `W1` … `Wn`, n = the longest sequence in the export; after"
                " a girl's observation every week is `CEN`. With the sequence unit `month`"
                " (`--sequences month`) the columns are `M1` … `Mn`: month m runs from m - 1"
                " calendar months after intake to the day before m months after (on the"
                " month's last day where it is shorter), its state the one held most of its"
                " days, as for weeks."),
        *_table(spells_table(phases)),
        *_outcomes(),
        *_event_catalogue(),
        *_disclosure(),
        *_formats(),
        *_manifest(),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="write or check the research codebook")
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs")
    args = parser.parse_args(argv)
    path = Path(args.path)
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m trajectory.research.codebook",
                  file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
