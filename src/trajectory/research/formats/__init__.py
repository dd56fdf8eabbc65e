"""The research export's files beyond the four CSV tables, each written from the same
derived rows as the tables (never from the log again), so that every format says the same:

- `process`: event logs for process mining, OCEL 2.0 (JSON) and XES (IEEE 1849), written
  as the export goes, one girl at a time;
- `stats`: SPSS (.sav) and Stata (.dta) files of the girl-level tables, with variable and
  value labels, written with pyreadstat (the `stats` extra) after the CSV;
- `datapackage`: a Frictionless Data Package (`datapackage.json`) describing the CSV
  files with Table Schemas: types, constraints, code lists.

Which extra formats an export writes is its parameter `formats` (`EXTRA_FORMATS`); the
Data Package is always written. Every file is listed in the manifest with its hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

EXTRA_FORMATS: tuple[str, ...] = ("ocel", "xes", "sav", "dta")
"""ocel: events.jsonocel; xes: events.xes; sav: SPSS; dta: Stata."""


class Sink:
    """Bytes to a file (or nowhere, for the verifier), hashed and counted as they pass."""

    def __init__(self, path: Path | None):
        self.path = path
        self._file: BinaryIO | None = path.open("wb") if path is not None else None
        self._sha = hashlib.sha256()
        self.size = 0
        self._buffer: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= 1 << 16:
            self._flush()

    def _flush(self) -> None:
        data = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        self._sha.update(data)
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)

    def close(self) -> str:
        """Close the file; the SHA-256 of everything written."""
        self._flush()
        if self._file is not None:
            self._file.close()
            self._file = None
        return self._sha.hexdigest()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
