"""The published tables: their columns, and the writers that turn rows into files.

One definition of each table serves the CSV writer, the Parquet writer, the verifier and
the codebook. Every column has a kind; the kind alone decides how a cell is written:
numbers (`int`, `flag`) are written as numbers and never escaped, so a negative number
stays a number; text (`text`, `code`, `set`) is escaped against formula injection (a cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a
spreadsheet shows it as text instead of running it). Missing values are empty cells in
CSV and nulls in Parquet.

CSV: UTF-8 without BOM, comma-separated, `\n` line ends, quoted only where needed, a
header row. The canonical CSV rendering of a table is also its content digest: the
manifest records it for every file, so a Parquet file can be checked against the same
content without comparing Parquet bytes across library versions.

What must not change: a published column's name, kind and meaning. Add columns at the end.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from trajectory.research.coding import Column, Value, event_classes, event_columns
from trajectory.research.disclosure import AGE_BANDS
from trajectory.research.outcomes import FOLLOW_UP_CENSORING
from trajectory.research.timeline import (
    CENSORING_REASONS,
    SEQUENCE_UNITS,
    STATE_DOCS,
    state_codes,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_KINDS = frozenset({"text", "code", "set"})
_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def escape(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


# -- the four tables --------------------------------------------------------------------
VICTIM_STATUS = ("potential", "suspected", "confirmed")
PLACEMENTS = ("homogeneous_group", "mixed_group", "ambulatory", "closed")
STATUSES = ("in_care", "aftercare", "closed")


def trajectories_table(phases: int) -> Table:
    from trajectory.aggregates.vocabulary import (
        ClosureReason,
        ComenshaDecision,
        InterventionKind,
        RiskProfile,
        Setting,
        SignalKind,
        TherapyMethod,
    )

    def codes(literal: Any) -> tuple[str, ...]:
        return tuple(str(a) for a in get_args(literal))

    day_columns = tuple(
        Column(f"days_p{n}", "int", f"days in state P{n} (in care, phase {n}, not on the run)")
        for n in range(1, phases + 1)
    )
    return Table(
        "trajectories",
        "One row per girl: who she is in bands, what happened, in counts and codes.",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            Column("organisation", "text", "pseudonym of the organisation that took her in,"
                   " or its region's name where generalised (parameters.regions; other: no"
                   " region) (quasi-identifier; empty when withheld or suppressed)"),
            Column("age_band", "code", "age at intake, in years (quasi-identifier)", AGE_BANDS),
            Column("intake_period", "text", "month of intake YYYY-MM, or quarter YYYY-Qn or year"
                   " YYYY where the small-cell check generalised it (quasi-identifier)"),
            Column("risk_profiles", "set", "risk profiles at intake (quasi-identifier)",
                   codes(RiskProfile)),
            Column("qi_suppressed", "flag", "1: her quasi-identifiers were suppressed by the"
                   " small-cell check (the four columns before are empty)"),
            Column("victim_status_intake", "code", "victim status at intake", VICTIM_STATUS),
            Column("victim_status_end", "code", "victim status at the end of observation",
                   VICTIM_STATUS),
            Column("setting", "code", "setting at intake", codes(Setting)),
            Column("placement_first", "code", "first placement decided (empty: none yet)",
                   PLACEMENTS),
            Column("placement_first_argued", "flag", "1: the first placement carries an argument"
                   " (required unless a homogeneous girls' group)"),
            Column("placement_last", "code", "last placement decided", PLACEMENTS),
            Column("placements", "int", "placement decisions"),
            Column("phases_reached", "int", "highest phase reached"),
            Column("phase_end", "int", "phase at the end of observation"),
            Column("state_end", "code", "state on her last observed day",
                   state_codes(phases)[:-1]),
            Column("status_end", "code", "status at the end of observation", STATUSES),
            Column("closure_reason", "code", "why the trajectory was closed (empty: not closed)",
                   codes(ClosureReason)),
            *day_columns,
            Column("regressions", "int", "phase regressions"),
            Column("runaways", "int", "runaway episodes reported"),
            Column("runaway_days", "int", "days in state RUN"),
            Column("therapy_method", "code", "trauma therapy method (last started)",
                   codes(TherapyMethod)),
            Column("therapy_sessions", "int", "trauma therapy sessions held"),
            Column("therapy_completed", "flag", "1: trauma therapy completed"),
            Column("interventions", "int", "interventions delivered"),
            Column("intervention_kinds", "set", "kinds of intervention delivered",
                   codes(InterventionKind)),
            Column("safety_analyses", "int", "safety analyses"),
            Column("medical_assessments", "int", "medical assessments"),
            Column("care_analyses", "int", "care (problem, risk, needs, strengths) analyses"),
            Column("family_involvements", "int", "times parents or network were involved"),
            Column("case_conferences", "int", "case conferences with chain partners"),
            Column("signal_kinds", "set", "kinds of signal recorded", codes(SignalKind)),
            Column("education_arranged", "flag", "1: education arranged"),
            Column("attending_last", "code", "at the last progress record",
                   ("attending", "not_attending")),
            Column("qualification_obtained", "flag", "1: a diploma or basic qualification"),
            Column("comensha_decision", "code", "CoMensha registration decision (last)",
                   codes(ComenshaDecision)),
            Column("handover_prepared", "flag", "1: handover prepared"),
            Column("handover_warm", "flag", "1: a handover meeting with the girl, the sending"
                   " and the receiving worker present"),
            Column("handover_accepted", "flag", "1: handover accepted by the receiving worker"
                   " (the handover is complete)"),
            Column("aftercare_days", "int", "days in state AFT"),
            Column("aftercare_contacts", "int", "aftercare contacts"),
            Column("observed_days", "int", "days observed: from intake to closure, or to the"
                   " censoring day (a whole number of 4-week periods)"),
            Column("censored", "flag", "1: still in care or aftercare when observation ended"
                   " (right-censored); 0: closed"),
            Column("events", "int", "her rows in events.csv"),
            *outcome_columns(),
        ),
    )


def outcome_columns() -> tuple[Column, ...]:
    """Her outcomes (`outcomes`): after care too, to the last day she was in view."""
    from trajectory.aggregates.vocabulary import CareStage, ContinuationDecision, Destination

    def codes(literal: Any) -> tuple[str, ...]:
        return tuple(str(a) for a in get_args(literal))

    return (
        Column("destination", "code", "where she went when residential care ended (the"
               " destination at aftercare or closure, the last given; empty: not yet, or not"
               " given)", codes(Destination)),
        Column("continuation_after_18", "code", "what was decided for after her 18th"
               " birthday (the last decision; empty: none)", codes(ContinuationDecision)),
        Column("care_end_day", "int", "day residential care ended (aftercare started, or"
               " the trajectory was closed from care), days since intake; empty: in care"),
        Column("revictimised", "flag", "1: a revictimisation (new exploitation or loverboy"
               " contact) was reported within her outcome observation"),
        Column("revictimisation_first_day", "int", "day of the first revictimisation, days"
               " since intake"),
        Column("revictimisation_first_stage", "code", "where she was at the first"
               " revictimisation", codes(CareStage)),
        Column("revictimised_after_care", "flag", "1: revictimised on or after the day care"
               " ended (the event of `follow_up_censored`)"),
        Column("revictimisation_after_care_days", "int", "days from the end of care to the"
               " first revictimisation after it"),
        Column("follow_up_end_day", "int", "last day of her outcome observation, days since"
               " intake: the last day she was in view (end of care, a follow-up measured, an"
               " aftercare contact that reached her, a revictimisation report); for a girl"
               " still in care, the last day of her observation"),
        Column("follow_up_censored", "flag", "1: no revictimisation after care observed:"
               " right-censored at `follow_up_end_day` (time: follow_up_end_day -"
               " care_end_day); 0: revictimised after care (time:"
               " revictimisation_after_care_days)"),
        Column("follow_up_censoring_reason", "code", "why her outcome observation ended"
               " (empty: revictimised after care)", FOLLOW_UP_CENSORING),
        Column("follow_ups_measured", "int", "follow-up measurements made (follow_ups.csv)"),
        Column("follow_ups_not_possible", "int", "follow-up moments recorded as not"
               " possible (not reached, refused, deceased, other)"),
        Column("in_view_after_18", "flag", "1: in view on or after her 18th birthday (an"
               " aftercare contact that reached her, or a follow-up measured); empty: she was"
               " not 18 within her observation"),
        Column("in_view_at_19", "flag", "1: in view on or after her 19th birthday; empty: she"
               " was not 19 within her observation"),
    )


def events_table() -> Table:
    names = tuple(cls.__name__ for cls in event_classes())
    return Table(
        "events",
        "One row per event within her observation: coded fields only.",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            Column("seq", "int", "the event's position in her trajectory (1 = intake)"),
            Column("event", "code", "what happened", names),
            Column("day", "int", "days since intake (0 = the day of intake) on which it"
                   " happened, as last corrected"),
            Column("in_error", "flag", "1: a later event marked this one as recorded in error"
                   " (the row stays; it counts nowhere else)"),
            *event_columns(),
            Column("corrected", "flag", "1: a later EntryCorrected corrected this entry (its"
                   " day, where the correction gave one, is applied in `day`)"),
            Column("day_recorded", "int", "the day as first recorded, for a corrected entry"
                   " (empty: not corrected)"),
            Column("age_months", "int", "her age in whole months on the day (`day`); only"
                   " where her age band is published as recorded (2-year band), else empty:"
                   " it never gives back an age band that was generalised or withheld"),
        ),
    )


def sequences_table(periods: int, phases: int, unit: str = "week") -> Table:
    """One column per week (`W1` ...) or per month (`M1` ...) since intake."""
    states = state_codes(phases)
    letter = SEQUENCE_UNITS[unit]
    return Table(
        "sequences",
        f"One row per girl, one column per {unit} since intake (STS, as TraMineR's seqdef"
        " reads it).",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            *(
                Column(f"{letter}{w}", "code",
                       f"her state in {unit} {letter.lower()} since intake" if w == 1 else "",
                       states)
                for w in range(1, periods + 1)
            ),
        ),
    )


def spells_table(phases: int) -> Table:
    return Table(
        "spells",
        "One row per spell: a run of days in one state (SPELL layout).",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            Column("begin", "int", "first day of the spell, days since intake"),
            Column("end", "int", "last day of the spell (inclusive), days since intake"),
            Column("state", "code", "the state", state_codes(phases)[:-1]),
            Column("censored", "flag", "1: the spell was cut off, not ended by a change of"
                   " state (right-censored)"),
            Column("censoring_reason", "code", "why it was cut off: still in care or"
                   " aftercare when observation ended; lost to follow-up (closed other than"
                   " by completing aftercare); erased; consent withdrawn (these two: never in"
                   " a row under the consent rule, such girls are left out whole)",
                   CENSORING_REASONS),
        ),
    )


def follow_ups_table() -> Table:
    from trajectory.aggregates.vocabulary import (
        FollowUpNotPossibleReason,
        LivingSituation,
        LoverboyContact,
        QualificationLevel,
        SchoolOrWork,
    )

    def codes(literal: Any) -> tuple[str, ...]:
        return tuple(str(a) for a in get_args(literal))

    return Table(
        "follow_ups",
        "One row per follow-up record (effectmeting): a measurement at one of the"
        " protocol's moments, or why it was not possible; after closure too.",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            Column("moment", "int", "the protocol's moment: months after residential care"
                   " ended (0: at its end)"),
            Column("day", "int", "day of the record, days since intake"),
            Column("days_since_care_end", "int", "days since residential care ended (negative:"
                   " the measurement at the end of care, taken in her last weeks in care)"),
            Column("measured", "flag", "1: measured; 0: not possible (see `not_possible`)"),
            Column("not_possible", "code", "why the measurement was not possible",
                   codes(FollowUpNotPossibleReason)),
            Column("living_situation", "code", "where she lives", codes(LivingSituation)),
            Column("school_or_work", "code", "school or work", codes(SchoolOrWork)),
            Column("qualification", "code", "her highest qualification ("
                   "`starting_qualification`: mbo 2 or higher, havo, vwo)",
                   codes(QualificationLevel)),
            Column("revictimised_since", "flag", "1: revictimised since the last measurement"),
            Column("runaways_since", "int", "runaways since the last measurement"),
            Column("loverboy_contact", "code", "contact with the loverboy or his network"
                   " since the last measurement", codes(LoverboyContact)),
            Column("instruments", "int", "validated instruments scored (scores.csv)"),
        ),
    )


def scores_table() -> Table:
    return Table(
        "scores",
        "One row per scale of each validated instrument scored at a follow-up measurement"
        " (the product stores scores; it ships no instrument).",
        (
            Column("pseudonym", "text", "the girl's pseudonym in this project"),
            Column("moment", "int", "the follow-up moment (follow_ups.csv)"),
            Column("instrument_number", "int", "the instrument's place in the measurement"
                   " (1 = the first)"),
            Column("instrument", "text", "the instrument's name, as recorded"),
            Column("version", "text", "the instrument's version, as recorded"),
            Column("scale", "text", "`total`, or a subscale by the instrument's own name"),
            Column("score", "number", "the score"),
        ),
    )


STATES = STATE_DOCS

# -- writing ----------------------------------------------------------------------------


class _Digest(io.RawIOBase):
    """A binary sink that hashes and counts what passes, and writes it on when it has a file."""

    def __init__(self, target: io.BufferedWriter | None):
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.sha.update(data)
        self.size += len(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)


@dataclass(frozen=True)
class Written:
    """What was written of one table: rows, and the digest of its canonical CSV."""

    rows: int
    csv_bytes: int
    csv_sha256: str


class TableWriter:
    """Writes one table row by row: canonical CSV (to a file, or only hashed) and, when
    asked, Parquet beside it. Memory holds at most one Parquet batch."""

    BATCH = 8192

    def __init__(self, table: Table, csv_path: Path | None, parquet_path: Path | None = None):
        self.table = table
        self._file = csv_path.open("wb") if csv_path is not None else None
        self._digest = _Digest(self._file)
        self._text = io.TextIOWrapper(
            io.BufferedWriter(self._digest, 1 << 16), encoding="utf-8", newline=""
        )
        self._csv = csv.writer(self._text, lineterminator="\n")
        self._csv.writerow([escape(h) for h in table.header])
        self._text_columns = [i for i, c in enumerate(table.columns) if c.kind in TEXT_KINDS]
        self.rows = 0
        self._parquet: ParquetWriter | None = (
            ParquetWriter(table, parquet_path) if parquet_path is not None else None
        )

    def write(self, row: Sequence[Value]) -> None:
        cells: list[Any] = list(row)  # (the csv module writes None as an empty cell)
        for i in self._text_columns:
            value = cells[i]
            if value and value[0] in _FORMULA_FIRST:
                cells[i] = "'" + value
        self._csv.writerow(cells)
        self.rows += 1
        if self._parquet is not None:
            self._parquet.write(row)

    def close(self) -> Written:
        self._release()
        return Written(self.rows, self._digest.size, self._digest.sha.hexdigest())

    def _release(self) -> None:
        if self._text.closed:
            return
        self._text.close()  # flushes through the digest into the file
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()

    def discard(self) -> None:
        """Close the files of an unfinished table (the export is failing)."""
        self._release()


class ParquetWriter:
    """Parquet beside the CSV: the same rows, typed (text as strings, numbers as integers)."""

    def __init__(self, table: Table, path: Path):
        pa, pq = _pyarrow()
        self._pa = pa
        types = {"text": pa.string(), "code": pa.string(), "set": pa.string(),
                 "int": pa.int32(), "flag": pa.int8(), "number": pa.float64()}
        self._schema = pa.schema([pa.field(c.name, types[c.kind]) for c in table.columns])
        self._writer = pq.ParquetWriter(
            str(path), self._schema, compression="zstd", write_statistics=False
        )
        self._columns: list[list[Value]] = [[] for _ in table.columns]

    def write(self, row: Sequence[Value]) -> None:
        for column, value in zip(self._columns, row, strict=True):
            column.append(value)
        if len(self._columns[0]) >= TableWriter.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._columns and self._columns[0]:
            batch = self._pa.record_batch(self._columns, schema=self._schema)
            self._writer.write_batch(batch)
            self._columns = [[] for _ in self._columns]

    def close(self) -> None:
        self._flush()
        self._writer.close()


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the installation
        raise RuntimeError(
            "Parquet needs pyarrow: install the project with its 'parquet' extra"
        ) from None
    return pa, pq


def parquet_table(path: Path) -> tuple[Table, Iterator[list[Value]]]:
    """A Parquet file's columns (kinds from its types) and its rows, batch by batch."""
    pa, pq = _pyarrow()
    source = pq.ParquetFile(str(path))
    columns = tuple(
        Column(f.name, "text" if pa.types.is_string(f.type) else
               "number" if pa.types.is_floating(f.type) else "int", "")
        for f in source.schema_arrow
    )

    def rows() -> Iterator[list[Value]]:
        for batch in source.iter_batches(batch_size=TableWriter.BATCH):
            values = [column.to_pylist() for column in batch.columns]
            for row in zip(*values, strict=True):
                yield list(row)

    return Table(path.stem, "", columns), rows()


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()
