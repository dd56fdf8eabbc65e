"""The research export's files beyond the four CSV tables, each written from the same
derived rows as the tables (never from the log again), so that every format says the same:

- `process`: event logs for process mining, OCEL 2.0 (JSON) and XES (IEEE 1849), written
  as the export goes, one girl at a time;
- `stats`: SPSS (.sav) and Stata (.dta) files of the girl-level tables, with variable and
  value labels, written row by row from the CSV once it is written;
- `datapackage`: a Frictionless Data Package (`datapackage.json`) describing the CSV
  files with Table Schemas: types, constraints, code lists.

Which extra formats an export writes is its parameter `formats` (`EXTRA_FORMATS`); the
Data Package is always written. Every file is listed in the manifest with its hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trajectory.research.coding import Value
    from trajectory.research.formats.process import ProcessLogs
    from trajectory.research.manifest import FileEntry, Parameters
    from trajectory.research.tables import Table, Written

EXTRA_FORMATS: tuple[str, ...] = ("ocel", "xes", "sav", "dta")
"""ocel: events.jsonocel; xes: events.xes; sav: SPSS; dta: Stata."""


class OtherFormats:
    """The files of one run of the export beyond the CSV and Parquet tables, written from
    the same rows, in one place: the process-mining logs girl by girl (`add`), the Data
    Package and the statistics files at the end (`finish`). Without a directory (the
    verifier) the files are only hashed; the statistics files, whose content is their
    CSV's, are then not made at all."""

    def __init__(self, parameters: Parameters, events: Table, out: Path | None,
                 files: Collection[str]):
        """`files`: the tables the project declared; nothing is written of the others (the
        process-mining logs are the events file's rows: only when it is declared whole)."""
        self.project = parameters.project
        self.extra = set(parameters.formats)
        self.files = tuple(files)
        self.out = out
        self.logs: ProcessLogs | None = None
        if self.extra & {"ocel", "xes"} and "events" in self.files:
            from trajectory.research.formats.process import ProcessLogs

            self.logs = ProcessLogs(events, out, ocel="ocel" in self.extra,
                                    xes="xes" in self.extra)

    def add(self, pseudonym: str, rows: list[list[Value]]) -> None:
        """One girl's rows of events.csv."""
        if self.logs is not None:
            self.logs.add(pseudonym, rows)

    def finish(self, tables: dict[str, Table], written: dict[str, Written],
               files: dict[str, FileEntry]) -> None:
        """Write the rest and add every file to the manifest's `files`."""
        from trajectory.research.formats import datapackage, stats
        from trajectory.research.manifest import FileEntry
        from trajectory.research.tables import sha256_file

        order = [t for t in ("trajectories", "events", "sequences", "spells", "follow_ups",
                             "scores") if t in self.files]
        package = datapackage.render(self.project, [tables[t] for t in order], files)
        sha = hashlib.sha256(package).hexdigest()
        if self.out is not None:
            (self.out / datapackage.DATAPACKAGE).write_bytes(package)
        files[datapackage.DATAPACKAGE] = FileEntry(
            rows=len(order), bytes=len(package), sha256=sha, content_sha256=sha)
        if self.logs is not None:
            for name, (rows, size, digest) in self.logs.close().items():
                files[name] = FileEntry(rows=rows, bytes=size, sha256=digest,
                                        content_sha256=digest)
        if self.out is None:
            return
        wanted = sorted(self.extra & {"sav", "dta"})
        for name in (t for t in stats.STATS_TABLES if t in self.files and wanted):
            for path in stats.write(tables[name], self.out / f"{name}.csv", wanted):
                files[path.name] = FileEntry(
                    rows=written[name].rows, bytes=path.stat().st_size,
                    sha256=sha256_file(path), content_sha256=written[name].csv_sha256,
                )

    def discard(self) -> None:
        """Close the files of an unfinished export (it is failing)."""
        if self.logs is not None:
            self.logs.discard()
