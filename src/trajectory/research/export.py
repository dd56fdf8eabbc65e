"""The research export: pseudonymised, disclosure-controlled tables from the event log.

`export_project` reads the log one trajectory at a time (in pseudonym order, so that no
order of ids shows through), checks each hash chain as it reads, leaves out girls without
research consent and erased trajectories, derives each girl's rows (`timeline.derive`)
and writes them at once: events and spells straight to their files, her summary row and
her weekly sequence to a spool, because the small-cell check needs every girl's
quasi-identifiers and the sequences need the longest sequence before their first row can
be written. Memory holds one trajectory's events, one Parquet batch, the small-cell
counts and the heads list; never the log.

`extract` is the shared engine: the export writes files with it; `verify_export` runs it
again with the manifest's parameters, writing nothing, and compares.

The output directory is filled in a staging directory beside it and moved into place only
after the access-log entry is written: an export that cannot be logged is not handed out.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from itertools import takewhile
from pathlib import Path
from typing import Any, BinaryIO, Literal, get_args
from uuid import UUID

import msgspec
import structlog
from eventsourcing.persistence import StoredEvent

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.phasing import PhaseAdvanced, PhaseRegressed
from trajectory.aggregates.events.privacy import ResearchConsentGiven, ResearchConsentWithdrawn
from trajectory.application import Actor, TrajectoryApplication
from trajectory.clock import amsterdam_date
from trajectory.crypto import TrajectoryErased
from trajectory.hashchain import (
    ChainBroken,
    check_against_index,
    index_row,
    matches_index,
    read_chain,
)
from trajectory.persistence.database import placeholders
from trajectory.persistence.files import OWNER_ONLY_DIR, owner_only_tree
from trajectory.persistence.mapper import TrajectoryMapper
from trajectory.research.approvals import Approval
from trajectory.research.disclosure import MIN_K, KAnonymity
from trajectory.research.formats import EXTRA_FORMATS, OtherFormats
from trajectory.research.linkage import MAX_LINKABLE_PERCENT, LinkageCheck
from trajectory.research.manifest import (
    MANIFEST,
    ApprovalEntry,
    Counts,
    FileEntry,
    Manifest,
    Parameters,
    encode,
    root_hash,
)
from trajectory.research.outcomes import (
    Outcomes,
    follow_up_rows,
    outcome_values,
    score_rows,
)
from trajectory.research.projects import (
    Declaration,
    Pseudonyms,
    declare,
    other_declarations,
    project_secret,
)
from trajectory.research.published import censor, publish_ages, trajectory_values
from trajectory.research.tables import (
    Table,
    TableWriter,
    Written,
    events_table,
    follow_ups_table,
    scores_table,
    sequences_table,
    sha256_file,
    spells_table,
    trajectories_table,
)
from trajectory.research.timeline import (
    CEN,
    CENSORING_PERIOD,
    SEQUENCE_UNITS,
    Spell,
    derive,
    month_starts,
)

log = structlog.get_logger("trajectory.research")

ExportFormat = Literal["csv", "parquet"]
FORMATS: tuple[str, ...] = get_args(ExportFormat)
DEFAULT_K = 5
DEFAULT_MAX_SUPPRESSED_PERCENT = 10
TABLES = ("trajectories", "events", "sequences", "spells", "follow_ups", "scores")

Progress = Callable[[int, int], None]


class ExportError(Exception):
    """An export that cannot be made; the message is fit for the person who asked."""


class StoreNotVerified(ExportError):
    """A trajectory's events do not verify: the export refuses to hand out altered data."""

    def __init__(self, pseudonym: str, position: int, problem: str):
        super().__init__(
            f"trajectory {pseudonym} (pseudonym) does not verify at event {position}: {problem};"
            " nothing was exported (run `trajectory verify`)"
        )
        self.pseudonym = pseudonym
        self.position = position
        self.problem = problem


@dataclass(frozen=True)
class Problem:
    pseudonym: str
    position: int
    problem: str


@dataclass
class Extracted:
    """What one run of the engine found: the manifest (less its own hash) and, for the
    verifier, why each left-out girl was left out and what the log holds after as-of."""

    manifest: Manifest
    problems: list[Problem] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    later_events: dict[str, int] = field(default_factory=dict)


def software(fmt: str) -> dict[str, str]:
    versions = {"trajectory": _version("trajectory")}
    if fmt == "parquet":
        versions["pyarrow"] = _version("pyarrow")
    return versions


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest_sha256(manifest: Manifest) -> str:
    """The SHA-256 of the manifest file (its encoding is deterministic)."""
    return hashlib.sha256(encode(manifest)).hexdigest()


def phases_of(app: TrajectoryApplication) -> int:
    """The most phases of any protocol the application knows (for documentation only: the
    files depend on the data, never on the protocols installed)."""
    return max(len(p.phase) for p in app.protocols)


class _PhaseCounts:
    """How many phases a girl's trajectory has: the most of her protocols' phases (where
    the store knows the protocol) and of the phases she was recorded in."""

    def __init__(self, app: TrajectoryApplication):
        self.app = app
        self._known: dict[tuple[str, str], int] = {}

    def protocol(self, name: str, version: str) -> int:
        key = (name, version)
        if key not in self._known:
            try:
                self._known[key] = len(self.app.protocols.get(name, version).phase)
            except LookupError:
                self._known[key] = 1
        return self._known[key]

    def of(self, events: list[TrajectoryEvent]) -> tuple[int, set[str]]:
        counts, protocols = [1], set()
        for e in events:
            if not _kind(type(e)) & _PHASED:
                continue
            if isinstance(e, TrajectoryOpened | PhaseAdvanced):
                protocols.add(f"{e.protocol_name} {e.protocol_version}")
                counts.append(self.protocol(e.protocol_name, e.protocol_version))
            if isinstance(e, PhaseAdvanced | PhaseRegressed):
                counts.append(max(e.to_phase, e.from_phase))
        return max(counts), protocols


# -- reading ---------------------------------------------------------------------------


READ_BATCH_EVENTS = 4_000
"""About this many events are read in one statement (whole trajectories, by their index
rows' versions). One statement per trajectory cost a transaction, a statement and a
round trip for every 60-odd events; a batch keeps memory bounded all the same: one batch
of stored events at a time, whatever the size of the log."""

READ_BATCH_TRAJECTORIES = 500
"""At most this many trajectories in one statement (its parameters)."""


class _Stored:
    """Reads the stored events of whole trajectories, batch by batch, one statement each.

    (Reading the next batch in a thread while this one is decoded was tried: slower. The
    reading thread gives up the interpreter lock for every row SQLite steps to, and waits
    for it again behind the decoding, which holds it.)"""

    def __init__(self, app: TrajectoryApplication):
        self.app = app
        self.table: str = app.recorder.events_table_name  # type: ignore[attr-defined]
        self.sqlite = app.dialect == "sqlite"

    def batches(
        self, order: list[tuple[str, UUID]], index: dict[str, tuple[int, str]],
        skip: set[str],
    ) -> Iterator[list[tuple[str, UUID]]]:
        """The trajectories in export order, in runs of about READ_BATCH_EVENTS events."""
        batch: list[tuple[str, UUID]] = []
        events = 0
        for pseudonym, trajectory_id in order:
            batch.append((pseudonym, trajectory_id))
            if str(trajectory_id) not in skip:
                events += index.get(str(trajectory_id), (1, ""))[0]
            if events >= READ_BATCH_EVENTS or len(batch) >= READ_BATCH_TRAJECTORIES:
                yield batch
                batch, events = [], 0
        if batch:
            yield batch

    def read(self, ids: list[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Every stored event of these trajectories, each trajectory's in version order."""
        out: dict[UUID, list[StoredEvent]] = {i: [] for i in ids}
        if not ids:
            return out
        keys: dict[Any, UUID] = {(i.hex if self.sqlite else i): i for i in ids}
        if self.app.keys is not None:  # their data keys in a few statements, not one each
            self.app.keys.prefetch(ids)
        rows = self.app.db.fetchall(
            f"SELECT originator_id, originator_version, topic, state FROM {self.table}"
            f" WHERE originator_id IN ({placeholders(len(keys))})"
            " ORDER BY originator_id, originator_version",
            list(keys),
        )
        for row in rows:
            trajectory_id = keys[row["originator_id"]]
            out[trajectory_id].append(StoredEvent(
                originator_id=trajectory_id, originator_version=row["originator_version"],
                topic=row["topic"], state=bytes(row["state"]),
            ))
        return out


def read_verified(app: TrajectoryApplication, trajectory_id: UUID,
                  index: dict[str, tuple[int, str]],
                  stored: Sequence[StoredEvent] | None = None) -> list[TrajectoryEvent]:
    """Every event of one trajectory, decoded, each checked against the hash chain and
    the whole against the index (so that events removed from the end are seen too), by
    the verifier of `trajectory verify` (`trajectory.hashchain`); raises `ChainBroken`.

    `index` is read once, before the export starts; a trajectory that does not match it
    is read again with its index row of now, because care goes on while an export runs
    (a fact recorded since moves the index on). Only a lasting mismatch is reported.
    `stored`: her stored events as already read (in a batch); read here when None.
    """
    recorded = index.get(str(trajectory_id))
    # (her events are read together: her data key is looked up once, not per event)
    mapper = app.mapper
    decode = (mapper.decoder_for(trajectory_id) if isinstance(mapper, TrajectoryMapper)
              else mapper.to_domain_event)
    for _attempt in range(3):
        records = app.stored_events(trajectory_id) if stored is None else stored
        stored = None  # a second attempt reads again
        chain = read_chain(records, decode)
        if matches_index(chain, recorded):
            return chain.events
        recorded = index_row(app.db, trajectory_id)
        if matches_index(chain, recorded):
            return chain.events
    check_against_index(chain, recorded)
    raise AssertionError("a chain that does not match its index row passed the check")


def has_consent(events: list[TrajectoryEvent]) -> bool:
    consent = False
    for event in events:
        kind = _kind(type(event))
        if kind & _GIVEN:
            consent = True
        elif kind & _WITHDRAWN:
            consent = False
    return consent


_PHASED, _GIVEN, _WITHDRAWN = 1, 2, 4
_KINDS: dict[type, int] = {}


def _kind(cls: type) -> int:
    """What the loops over every event of the log look for in an event class, decided once
    per class: `isinstance` against event classes costs about a microsecond (their
    metaclass), a dict lookup a seventh of that."""
    kind = _KINDS.get(cls)
    if kind is None:
        kind = _KINDS[cls] = (
            _PHASED * issubclass(cls, TrajectoryOpened | PhaseAdvanced | PhaseRegressed)
            | _GIVEN * issubclass(cls, ResearchConsentGiven)
            | _WITHDRAWN * issubclass(cls, ResearchConsentWithdrawn)
        )
    return kind


# -- spooling ----------------------------------------------------------------------------


class _Spool:
    """Length-prefixed msgpack records in a file: rows that must wait for the whole log."""

    def __init__(self, path: Path):
        self.path = path
        self._file = path.open("wb")
        self._encoder = msgspec.msgpack.Encoder()

    def add(self, record: Any) -> None:
        data = self._encoder.encode(record)
        self._file.write(len(data).to_bytes(4, "big"))
        self._file.write(data)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def __iter__(self) -> Iterator[Any]:
        self._file.close()
        decoder = msgspec.msgpack.Decoder()
        with self.path.open("rb") as f:
            while head := f.read(4):
                yield decoder.decode(f.read(int.from_bytes(head, "big")))
        self.path.unlink()


class _Projected(TableWriter):
    """A table's writer that keeps only the declared columns of each row."""

    def __init__(self, inner: TableWriter, full: Table):  # (no super: it wraps)
        self.inner = inner
        self.table = full
        names = {c.name for c in inner.table.columns}
        self.keep = [i for i, c in enumerate(full.columns) if c.name in names]

    def write(self, row: Sequence[Any]) -> None:
        self.inner.write([row[i] for i in self.keep])

    def close(self) -> Written:
        return self.inner.close()

    def discard(self) -> None:
        self.inner.discard()


# -- the engine ----------------------------------------------------------------------------


def _each(
    reader: _Stored, order: list[tuple[str, UUID]], index: dict[str, tuple[int, str]],
    skip: set[str],
) -> Iterator[tuple[str, UUID, list[StoredEvent] | None]]:
    """(pseudonym, id, her stored events) in export order; None for one not read (`skip`:
    erased). Read a batch at a time: memory holds one batch of stored events."""
    for batch in reader.batches(order, index, skip):
        stored = reader.read([t for _, t in batch if str(t) not in skip])
        for pseudonym, trajectory_id in batch:
            yield pseudonym, trajectory_id, stored.get(trajectory_id)


def extract(
    app: TrajectoryApplication,
    parameters: Parameters,
    pseudonyms: Pseudonyms,
    *,
    out: Path | None,
    spool_dir: Path,
    strict: bool,
    progress: Progress | None = None,
    others: Sequence[tuple[str, Declaration]] = (),
) -> Extracted:
    """Read the log and derive the four tables: into files under `out`, or (when `out` is
    None) only into their digests. `strict`: a trajectory that does not verify stops the
    run (export); otherwise it is reported and left out (verification). `others`: the
    other projects of the store, for the linkage check."""
    as_of = datetime.fromisoformat(parameters.as_of) if parameters.as_of else None
    observation_end = date.fromisoformat(parameters.observation_end)
    scope = None if parameters.organisations is None else frozenset(parameters.organisations)
    intake_from = (date.fromisoformat(parameters.intake_from) if parameters.intake_from
                   else None)
    intake_to = date.fromisoformat(parameters.intake_to) if parameters.intake_to else None
    parquet = parameters.format == "parquet"
    documented = phases_of(app)
    phase_counts = _PhaseCounts(app)
    phases = 1

    writers: list[TableWriter] = []

    declared = Declaration.of(parameters.files, parameters.variables)

    def writer(table: Table) -> TableWriter:
        """A table's writer: of its declared columns, and no file for an undeclared
        table (its rows still pass, for the linkage check)."""
        kept = Table(table.name, table.doc, tuple(
            c for c in table.columns if declared.keeps(table.name, c.name)))
        if out is None or table.name not in declared.files:
            made = TableWriter(kept, None)
        else:
            made = TableWriter(
                kept, out / f"{table.name}.csv",
                out / f"{table.name}.parquet" if parquet else None,
            )
        writers.append(made)
        return _Projected(made, table) if kept.columns != table.columns else made

    ids = app.stored_trajectory_ids()
    order = sorted((pseudonyms.girl(t), t) for t in ids)
    if len({p for p, _ in order}) != len(order):  # 64-bit pseudonyms: never in practice
        raise ExportError("two trajectories share a pseudonym; use another project name")
    erased = {str(r["trajectory_id"]) for r in app.db.fetchall(
        "SELECT trajectory_id FROM erasures")}
    index = {
        str(r["trajectory_id"]): (int(r["version"]), str(r["head_hash"]))
        for r in app.db.fetchall("SELECT trajectory_id, version, head_hash FROM trajectory_index")
    }
    counts = Counts(
        trajectories_in_store=len(ids), trajectories_exported=0, left_out_no_consent=0,
        left_out_erased=0, left_out_not_yet_recorded=0, left_out_observed_under_4_weeks=0,
        events_read=0, events_exported=0, events_after_observation=0,
    )
    heads: list[tuple[str, int, str]] = []
    problems: list[Problem] = []
    left_out: dict[str, str] = {}
    later_events: dict[str, int] = {}
    protocols: set[str] = set()
    kanon = KAnonymity(parameters.k, parameters.max_suppressed_percent,
                       regions=parameters.regions)
    events_out = writer(events_table())
    extra = OtherFormats(parameters, events_out.table, out, declared.files)
    spells_out = writer(spells_table(documented))
    follow_ups_out = writer(follow_ups_table())
    scores_out = writer(scores_table())
    summaries = _Spool(spool_dir / "trajectories.spool")
    sequences = _Spool(spool_dir / "sequences.spool")
    width = 0
    reader = _Stored(app)
    done = 0
    later_intakes = 0
    try:
        for pseudonym, trajectory_id, stored in _each(reader, order, index, erased):
            done += 1
            if progress is not None:
                progress(done - 1, len(order))
            if str(trajectory_id) in erased:
                counts.left_out_erased += 1
                left_out[pseudonym] = "erased"
                continue
            try:
                events = read_verified(app, trajectory_id, index, stored)
            except TrajectoryErased:
                counts.left_out_erased += 1
                left_out[pseudonym] = "erased"
                continue
            except ChainBroken as e:
                if strict:
                    raise StoreNotVerified(pseudonym, e.position, e.problem) from None
                problems.append(Problem(pseudonym, e.position, e.problem))
                left_out[pseudonym] = "does not verify"
                continue
            # (before the consent check: an intake recorded after as-of is not part of
            # what the export could see, whatever her consent)
            read = events if as_of is None else list(
                takewhile(lambda e: e.timestamp <= as_of, events)
            )
            if not read:
                later_intakes += 1
                counts.left_out_not_yet_recorded += 1
                left_out[pseudonym] = "not yet recorded at the as-of time"
                continue
            opened = read[0]
            assert isinstance(opened, TrajectoryOpened)
            # (the approved project's scope: its organisations and its declared period)
            if (scope is not None and opened.organisation not in scope) or (
                intake_from is not None and opened.occurred_on < intake_from) or (
                intake_to is not None and opened.occurred_on > intake_to):
                counts.left_out_out_of_scope += 1
                left_out[pseudonym] = "outside the project's scope"
                continue
            if not has_consent(events):
                counts.left_out_no_consent += 1
                left_out[pseudonym] = "no research consent"
                continue
            her_phases, her_protocols = phase_counts.of(read)
            girl = derive(
                read,
                pseudonym=pseudonym,
                organisation=pseudonyms.organisation(opened.organisation),
                observation_end=observation_end,
                phases=her_phases,
                unit=parameters.sequence_unit,
            )
            if girl is None:
                counts.left_out_observed_under_4_weeks += 1
                left_out[pseudonym] = "observed for less than 4 weeks"
                continue
            if len(events) > len(read):
                later_events[pseudonym] = len(events) - len(read)
            heads.append((pseudonym, len(read), pseudonyms.head(read[-1].hash)))
            counts.trajectories_exported += 1
            counts.events_read += len(read)
            counts.events_exported += len(girl.events)
            counts.events_after_observation += girl.events_after_observation
            protocols |= her_protocols
            phases = max(phases, her_phases)
            spooled = [[s.begin, s.end, s.state, s.censoring] for s in girl.spells]
            observed = girl.summary["observed_days"]
            assert isinstance(observed, int)
            # (the days since intake on which her months begin: a censored sequence is
            # counted again in the same months, and no date goes into the spool)
            starts = (month_starts(opened.occurred_on, observed)
                      if parameters.sequence_unit == "month" else None)
            kanon.add(girl.qi, observed if girl.summary["censored"] else None)
            summaries.add((girl.qi, girl.summary, girl.events, spooled, girl.periods, starts,
                           girl.outcomes))
        if progress is not None:
            progress(len(order), len(order))
        if as_of is not None:
            counts.trajectories_recorded_by_as_of = len(order) - later_intakes
        # Disclosure control decides on every girl at once; then each girl's rows of
        # every file are written as published (`published`).
        check = kanon.decide()
        trajectories = trajectories_table(phases)
        out_rows = writer(trajectories)
        linkage = LinkageCheck(declared, others, {
            "trajectories": trajectories.header, "events": events_table().header,
            "spells": ["spells"], "sequences": ["sequences"],
            "follow_ups": ["follow_ups"], "scores": ["scores"]})
        age_level = next(c.level for c in check.columns if c.column == "age_band")
        for qi, summary, rows, spooled, weeks, starts, spooled_outcomes in summaries:
            published = kanon.publish(tuple(qi))
            pseudonym = str(summary["pseudonym"])
            spells = [Spell(*s) for s in spooled]
            if summary["censored"]:
                observed = int(summary["observed_days"])
                day = kanon.censoring_day(tuple(qi), observed)
                if day < observed:
                    check.censored_shortened += 1
                    check.censored_days_removed += observed - day
                    before = len(rows)
                    rows, spells, weeks = censor(
                        summary, rows, spells, weeks, day, phases, starts)
                    counts.events_exported -= before - len(rows)
                    counts.events_after_observation += before - len(rows)
            publish_ages(rows, published, age_level)
            outcomes = msgspec.convert(spooled_outcomes, Outcomes)
            until = int(summary["observed_days"]) if summary["censored"] else None
            follow_ups = follow_up_rows(pseudonym, outcomes, until)
            scores = score_rows(pseudonym, outcomes, until)
            for row in follow_ups:
                follow_ups_out.write(row)
            for row in scores:
                scores_out.write(row)
            for row in rows:
                events_out.write(row)
            extra.add(pseudonym, rows)
            for spell in spells:
                spells_out.write([pseudonym, spell.begin, spell.end, spell.state,
                                  int(spell.censoring is not None), spell.censoring])
            values = dict(summary)
            values.update(outcome_values(outcomes, until))
            trajectory_values(values, published)
            row = [values.get(c.name, 0 if c.name.startswith("days_p") else None)
                   for c in trajectories.columns]
            out_rows.write(row)
            linkage.add(row, rows, weeks, {"follow_ups": follow_ups, "scores": scores})
            sequences.add((pseudonym, weeks))
            width = max(width, len(weeks))
        check.linkage = linkage.reports()
        for report in check.linkage:
            if not report.passed:
                check.failures.append(
                    f"{report.girls_linkable} of {linkage.girls} girls"
                    f" ({report.linkable_percent}%) could be linked with project"
                    f" {report.project!r} on what both receive ({', '.join(report.shared)});"
                    f" at most {MAX_LINKABLE_PERCENT}% may be"
                )
        check.passed = not check.failures
        written: dict[str, Written] = {
            "events": events_out.close(),
            "spells": spells_out.close(),
            "trajectories": out_rows.close(),
            "follow_ups": follow_ups_out.close(),
            "scores": scores_out.close(),
        }
        out_weeks = writer(sequences_table(width, phases, parameters.sequence_unit))
        for pseudonym, weeks in sequences:
            out_weeks.write([pseudonym, *weeks, *([CEN] * (width - len(weeks)))])
        written["sequences"] = out_weeks.close()
    except BaseException:
        extra.discard()
        raise
    finally:
        for made in writers:
            made.discard()  # (a no-op for the tables already closed)
        for spool in (summaries, sequences):
            spool.discard()
    tables = {made.table.name: made.table for made in writers}
    # (the spells' writer was made before the data said how many phases there are; its
    # code list in the Data Package must follow the data, not the protocols installed)
    tables["spells"] = Table("spells", tables["spells"].doc, tuple(
        c for c in spells_table(phases).columns if declared.keeps("spells", c.name)))
    files: dict[str, FileEntry] = {}
    for name in declared.files:
        w = written[name]
        files[f"{name}.csv"] = FileEntry(
            rows=w.rows, bytes=w.csv_bytes, sha256=w.csv_sha256, content_sha256=w.csv_sha256
        )
        if parquet and out is not None:
            path = out / f"{name}.parquet"
            files[f"{name}.parquet"] = FileEntry(
                rows=w.rows, bytes=path.stat().st_size, sha256=sha256_file(path),
                content_sha256=w.csv_sha256,
            )
    extra.finish(tables, written, files)
    manifest = Manifest(
        software=software(parameters.format),
        parameters=parameters,
        protocols=sorted(protocols),
        counts=counts,
        small_cell_check=check,
        files=dict(sorted(files.items())),
        root=root_hash(heads),
        heads=heads,
    )
    return Extracted(manifest, problems, left_out, later_events)


# -- the export ----------------------------------------------------------------------------


def export_parameters(
    app: TrajectoryApplication,
    project: str,
    *,
    fmt: str,
    as_of: datetime | None,
    k: int,
    max_suppressed_percent: int,
    declaration: Declaration | None = None,
    sequence_unit: str = "week",
    formats: Sequence[str] = (),
    approval: Approval | None = None,
    organisations: Sequence[str] | None = None,
) -> Parameters:
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if k < MIN_K:
        raise ExportError(f"k: k must be at least {MIN_K} (smaller groups could be recognised)")
    unknown = [f for f in formats if f not in EXTRA_FORMATS]
    if unknown:
        raise ExportError(f"formats must be among {', '.join(EXTRA_FORMATS)}, not"
                          f" {', '.join(map(repr, unknown))}")
    if sequence_unit not in SEQUENCE_UNITS:
        raise ExportError(f"sequence unit must be one of {', '.join(SEQUENCE_UNITS)},"
                          f" not {sequence_unit!r}")
    if not 0 <= max_suppressed_percent <= 100:
        raise ExportError("max_suppressed_percent must be between 0 and 100")
    today = amsterdam_date(app.clock())
    if as_of is not None:
        if as_of.tzinfo is None:
            raise ExportError("as_of needs a UTC offset")
        as_of = as_of.astimezone(UTC)
    end = today if as_of is None else min(today, amsterdam_date(as_of))
    scope: list[str] | None = None
    intake_from = intake_to = None
    if approval is not None:
        approved = approval.project
        scope = sorted(set(organisations or approved.organisations))
        intake_from, intake_to = approved.period_from, approved.period_to
        end = min(end, intake_to)
    return Parameters(
        project=project,
        format=fmt,
        k=k,
        max_suppressed_percent=max_suppressed_percent,
        as_of=as_of.isoformat() if as_of is not None else None,
        observation_end=end.isoformat(),
        censoring_period_days=CENSORING_PERIOD,
        files=None if declaration is None or declaration.everything else list(
            declaration.files),
        variables=None if declaration is None or declaration.variables is None else list(
            declaration.variables),
        sequence_unit=sequence_unit,
        formats=sorted(set(formats)),
        organisations=scope,
        intake_from=None if intake_from is None else intake_from.isoformat(),
        intake_to=None if intake_to is None else intake_to.isoformat(),
    )


def with_regions(parameters: Parameters, pseudonyms: Pseudonyms,
                 regions: dict[str, str]) -> Parameters:
    """The parameters pinning the installation's regions (by organisation pseudonym, in
    pseudonym order, those in the project's scope only), so that `verify --export`
    recomputes the same generalisation whatever the mapping becomes; unchanged (null)
    without a mapping."""
    if not regions:
        return parameters
    scope = None if parameters.organisations is None else set(parameters.organisations)
    pinned = sorted((pseudonyms.organisation(o), r) for o, r in regions.items()
                    if scope is None or o in scope)
    return msgspec.structs.replace(parameters, regions=dict(pinned))


def _declarable(app: TrajectoryApplication) -> dict[str, Sequence[str]]:
    """The columns a project can declare, per file."""
    return {"trajectories": trajectories_table(phases_of(app)).header,
            "events": events_table().header, "follow_ups": follow_ups_table().header,
            "scores": scores_table().header}


def export_project(
    app: TrajectoryApplication,
    project: str,
    out_dir: str | os.PathLike[str],
    *,
    fmt: ExportFormat = "csv",
    actor: Actor,
    as_of: datetime | None = None,
    k: int = DEFAULT_K,
    max_suppressed_percent: int = DEFAULT_MAX_SUPPRESSED_PERCENT,
    progress: Progress | None = None,
    client: str | None = None,
    files: Sequence[str] | None = None,
    variables: Sequence[str] | None = None,
    sequence_unit: str = "week",
    formats: Sequence[str] = (),
    approval: Approval | None = None,
    organisations: Sequence[str] | None = None,
) -> Manifest:
    """Export the research data of `project` into `out_dir` (made; must be empty if it
    exists) and record the export in the access log; returns the manifest.

    The project is made at its first export (a new secret: new pseudonyms). `as_of` reads
    the log as it was known then (recording time) and ends observation on that day;
    without it, everything stored is read and observation ends today. The same store and
    parameters give byte-identical files. Raises `ExportError` (with a message fit for
    the caller) and `StoreNotVerified` when the log fails its hash chains.
    """
    if app.keys is None:
        raise ExportError("research exports need an encrypted store (the project secret is"
                          " kept wrapped by the master key)")
    wanted = None if files is None and variables is None else Declaration.of(files, variables)
    if wanted is not None:
        wanted.check_columns(_declarable(app))
    export_parameters(  # (its refusals first, before a project is made)
        app, project, fmt=fmt, as_of=as_of, k=k, max_suppressed_percent=max_suppressed_percent,
        sequence_unit=sequence_unit, formats=formats,
    )
    target = Path(out_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"{target} exists and is not an empty directory")
    secret, created = project_secret(app.keys, app.db, project, app.clock(), create=True)
    if created:
        log.info("research_project_created", project=project)
    declaration = declare(app.db, project, wanted)
    if set(formats) & {"ocel", "xes"} and any(
        not declaration.keeps("events", c.name) for c in events_table().columns
    ):
        raise ExportError(
            "formats: the process-mining logs (ocel, xes) are the events file's rows; the"
            " project must declare the events file whole to receive them"
        )
    parameters = export_parameters(
        app, project, fmt=fmt, as_of=as_of, k=k, max_suppressed_percent=max_suppressed_percent,
        declaration=declaration, sequence_unit=sequence_unit, formats=formats,
        approval=approval, organisations=organisations,
    )
    parameters = with_regions(parameters, Pseudonyms(secret), app.settings.regions)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir(mode=OWNER_ONLY_DIR)
    try:
        spool = staging / ".spool"
        spool.mkdir()
        result = extract(
            app, parameters, Pseudonyms(secret), out=staging, spool_dir=spool, strict=True,
            progress=progress, others=other_declarations(app.db, project),
        )
        spool.rmdir()
        manifest = result.manifest
        if approval is not None:
            manifest = with_approvals(manifest, approval)
        data = encode(manifest)
        (staging / MANIFEST).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        AccessLog(app.db).append(
            AccessEntry.by(actor, at=app.clock(), action="export", outcome="ok", client=client,
                           request_id=f"manifest-sha256:{digest}")
        )
        # Pseudonymised data are still personal data: the researcher's, not the machine's.
        owner_only_tree(staging)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "research_exported",
        project=project,
        manifest_sha256=digest,
        trajectories=manifest.counts.trajectories_exported,
        events=manifest.counts.events_exported,
    )
    return manifest


def with_approvals(manifest: Manifest, approval: Approval) -> Manifest:
    """The manifest naming the approvals the export was made under (who, which
    organisation, when), the ethics reference and the project's expiry."""
    project = approval.project
    return msgspec.structs.replace(
        manifest,
        ethics_reference=project.ethics_reference,
        project_expires_on=project.expires_on.isoformat(),
        approvals=[ApprovalEntry(organisation=a.organisation, approved_by=a.decided_by,
                                 approved_at=a.decided_at.isoformat())
                   for a in project.approvals],
    )


def write_archive(directory: str | os.PathLike[str], target: BinaryIO) -> None:
    """An export directory as one zip archive (for the HTTP layer to hand out): entries in
    name order with a fixed time, so the same export always gives the same archive bytes.
    Writes to `target` (a file or any binary stream), reading one file at a time."""
    folder = Path(directory)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            if not path.is_file():
                continue
            entry = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            with path.open("rb") as source, archive.open(entry, "w") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
