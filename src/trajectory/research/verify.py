"""`trajectory verify --export DIR`: does a published data set match what the log holds?

Three questions, each answered with what differs, named by file, count or pseudonym:

1. Are the files the files the export wrote? (SHA-256 of every file against the manifest;
   a Parquet file is also decoded and its content compared with the table's CSV digest.)
2. Does the log still give these files? The export is made again, with the manifest's
   parameters and the project's secret, writing nothing: every trajectory's head, the
   root, every count and every table's content digest must be equal. A girl whose events
   changed, who was erased, withdrew her consent, or whose events no longer verify is
   named by her pseudonym.
3. Is the export in this store's access log? (A note, not a failure: a copy of the store
   restored from an earlier backup may not hold the entry.)

An export made with `--as-of` is compared with the log as it was known then: facts
recorded later are listed as notes, not differences. Without `--as-of` the export read
everything, so any later fact about an exported girl is a difference.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from trajectory.access_log import AccessEntry, AccessLog
from trajectory.application import Actor, TrajectoryApplication
from trajectory.research.export import (
    TABLES,
    ExportError,
    Progress,
    extract,
    software,
)
from trajectory.research.manifest import MANIFEST, Manifest, decode, root_hash
from trajectory.research.projects import ProjectError, Pseudonyms, project_secret
from trajectory.research.tables import TableWriter, parquet_table, sha256_file


@dataclass
class ExportCheck:
    """The verdict: `ok` when nothing differs; `differences` name what does."""

    manifest_sha256: str
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    trajectories: int = 0
    events: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_export(
    app: TrajectoryApplication,
    directory: str | Path,
    *,
    actor: Actor,
    progress: Progress | None = None,
    client: str | None = None,
) -> ExportCheck:
    """Check an export directory against the store now (see the module's docstring).

    Raises `ExportError` when the directory holds no readable manifest or the store has no
    such project. The check re-reads care data, so it is recorded in the access log
    (action `read`, no trajectory, the manifest's hash as request id).
    """
    if app.keys is None:
        raise ExportError("research exports need an encrypted store")
    folder = Path(directory)
    try:
        data = (folder / MANIFEST).read_bytes()
    except OSError as e:
        raise ExportError(f"cannot read {folder / MANIFEST}: {e.strerror}") from None
    try:
        manifest = decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ExportError(f"{folder / MANIFEST} is not an export manifest: {e}") from None
    check = ExportCheck(manifest_sha256=hashlib.sha256(data).hexdigest())
    try:
        secret, _ = project_secret(
            app.keys, app.db, manifest.parameters.project, app.clock(), create=False
        )
    except ProjectError as e:
        raise ExportError(str(e)) from None
    _check_files(folder, manifest, check)
    if root_hash(manifest.heads) != manifest.root:
        check.differences.append("manifest: its root does not match its own heads list")
    with tempfile.TemporaryDirectory(prefix="trajectory-verify-") as spool:
        now = extract(
            app, manifest.parameters, Pseudonyms(secret), out=None, spool_dir=Path(spool),
            strict=False, progress=progress,
            others=[(r.project, r.declaration) for r in manifest.small_cell_check.linkage],
        )
    _compare(manifest, now.manifest, now.left_out, check)
    for problem in now.problems:
        check.differences.append(
            f"trajectory {problem.pseudonym}: does not verify at event {problem.position}:"
            f" {problem.problem}"
        )
    exported = {p for p, _, _ in manifest.heads}
    for pseudonym, later in sorted(now.later_events.items()):
        if pseudonym in exported:
            check.notes.append(
                f"trajectory {pseudonym}: {later} event(s) recorded after the as-of time"
                " (not part of this export)"
            )
    if software(manifest.parameters.format) != manifest.software:
        check.notes.append(
            f"made with {_versions(manifest.software)}; verified with"
            f" {_versions(software(manifest.parameters.format))}: a difference in content"
            " may come from the software, not the log"
        )
    logged = app.db.fetchone(
        "SELECT entry_id FROM access_log WHERE action = 'export' AND request_id = ?",
        [f"manifest-sha256:{check.manifest_sha256}"],
    )
    if logged is None:
        check.notes.append("this export is not recorded in this store's access log")
    check.trajectories = now.manifest.counts.trajectories_exported
    check.events = now.manifest.counts.events_read
    AccessLog(app.db).append(
        AccessEntry.by(actor, at=app.clock(), action="read", outcome="ok", client=client,
                       request_id=f"manifest-sha256:{check.manifest_sha256}")
    )
    return check


def _versions(versions: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))


def _check_files(folder: Path, manifest: Manifest, check: ExportCheck) -> None:
    for name, entry in manifest.files.items():
        path = folder / name
        if not path.is_file():
            check.differences.append(f"{name}: missing")
            continue
        if sha256_file(path) != entry.sha256:
            check.differences.append(f"{name}: its SHA-256 differs from the manifest's"
                                     " (the file was changed after the export)")
            continue
        if name.endswith(".parquet"):
            _check_parquet(path, name, entry.content_sha256, check)
    listed = set(manifest.files) | {MANIFEST}
    for path in sorted(folder.iterdir()):
        if path.name not in listed:
            check.notes.append(f"{path.name}: not part of the export")


def _check_parquet(path: Path, name: str, content: str, check: ExportCheck) -> None:
    """A Parquet file holds the same content as its CSV: its rows, rendered as canonical
    CSV, must give the content digest (whatever Parquet library wrote the bytes)."""
    try:
        table, rows = parquet_table(path)
    except RuntimeError as e:  # pyarrow is not installed here
        check.notes.append(f"{name}: content not checked ({e})")
        return
    writer = TableWriter(table, None)
    for row in rows:
        writer.write(row)
    if writer.close().csv_sha256 != content:
        check.differences.append(f"{name}: its content differs from its CSV's")


def _compare(then: Manifest, now: Manifest, left_out: dict[str, str],
             check: ExportCheck) -> None:
    before = {p: (n, h) for p, n, h in then.heads}
    after = {p: (n, h) for p, n, h in now.heads}
    for pseudonym in sorted(before.keys() | after.keys()):
        if pseudonym not in after:
            why = left_out.get(pseudonym, "not in the store")
            check.differences.append(
                f"trajectory {pseudonym}: in the export, but now left out ({why})"
            )
        elif pseudonym not in before:
            check.differences.append(f"trajectory {pseudonym}: qualifies now but is not in"
                                     " the export")
        elif before[pseudonym] != after[pseudonym]:
            (n0, h0), (n1, h1) = before[pseudonym], after[pseudonym]
            what = f"{n1} events (export: {n0})" if n0 != n1 else "the same number of events"
            check.differences.append(
                f"trajectory {pseudonym}: the log now holds {what} with head {h1[:16]}"
                f" (export: {h0[:16]})"
            )
    if then.root != now.root:
        check.differences.append(f"root: {now.root} now, {then.root} in the manifest")
    later = _later_intakes(then, now)
    if later:
        check.notes.append(
            f"{later} trajector{'y' if later == 1 else 'ies'} recorded after the as-of time"
            " (not part of this export)"
        )
    for name in then.counts.__struct_fields__:
        a, b = getattr(then.counts, name), getattr(now.counts, name)
        if name in ("trajectories_in_store", "left_out_not_yet_recorded") and later:
            a += later
        if a != b:
            check.differences.append(f"count {name}: {b} now, {a} in the manifest")
    if then.small_cell_check != now.small_cell_check:
        check.differences.append("small-cell check: its result differs")
    if then.protocols != now.protocols:
        check.differences.append("protocols: the protocol versions read differ")
    # The tables the project declared, and every other file the run derives again that
    # the export listed (an export made before a file existed, e.g. datapackage.json, is
    # not faulted for it).
    tables = [f"{table}.csv" for table in then.parameters.files or TABLES]
    derived = tables + [name for name in now.files if name in then.files and name not in tables]
    for name in derived:
        a_entry, b_entry = then.files.get(name), now.files.get(name)
        if a_entry is None or b_entry is None:
            check.differences.append(f"{name}: not in the manifest")
        elif a_entry.content_sha256 != b_entry.content_sha256:
            rows = (f"{b_entry.rows} rows now, {a_entry.rows} in the export"
                    if a_entry.rows != b_entry.rows else f"{a_entry.rows} rows")
            check.differences.append(f"{name}: its content differs from what the log gives"
                                     f" now ({rows})")



def _later_intakes(then: Manifest, now: Manifest) -> int:
    """Intakes recorded after an as-of export's time: not part of it, so not a difference.

    The manifest pins how many trajectories were recorded by the as-of time; only when
    that number is unchanged, and the store and the not-yet-recorded count grew by the
    same number, are the new ones later intakes (anything else stays a difference)."""
    a, b = then.counts, now.counts
    if then.parameters.as_of is None or a.trajectories_recorded_by_as_of is None:
        return 0
    grown = b.trajectories_in_store - a.trajectories_in_store
    if (
        grown > 0
        and b.left_out_not_yet_recorded - a.left_out_not_yet_recorded == grown
        and a.trajectories_recorded_by_as_of == b.trajectories_recorded_by_as_of
    ):
        return grown
    return 0
