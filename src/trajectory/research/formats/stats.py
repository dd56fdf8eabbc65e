"""SPSS (.sav) and Stata (.dta) files of the girl-level tables, with variable and value
labels, written row by row from the CSV the export has just written: the same rows, typed
for the statistics packages.

- `int` columns are numeric; `number` columns (scores) doubles with their decimals; `flag`
  columns numeric with the value labels 0 "no", 1 "yes";
- `code` columns are numeric: the number of a code is its place in the codebook's list of
  that column's codes (1 = the first), with the code's words as its value label; an empty
  cell is system-missing (SPSS) or `.` (Stata);
- `text` (pseudonyms, periods) and `set` columns (codes joined by `|`) stay strings, as
  wide as their widest cell;
- every variable is labelled with its meaning from the codebook.

The labels are English: the variable labels are the codebook's meanings, which are
written once, in English, beside the columns (a Dutch copy would be a second codebook no
test keeps in step), and the value labels take the words of the English catalogue so that
a file speaks one language; the codes themselves are the same in every language.

Why written here and not with pyreadstat (which the tests read them back with):
pyreadstat writes a whole data frame at once, so the sequences table (a cell per girl and
week) was held in memory, and the memory of the export grew with the log. These writers
read the CSV twice (once for the strings' widths and the numbers' ranges, then to write)
and hold one row at a time. The formats, as their public descriptions give them:

- SPSS system file, little-endian, bytecode-compressed (bias 100), UTF-8, with long
  variable names; the case count is written as unknown (-1) first and patched at the end;
- Stata 118 (Stata 14 and later), UTF-8, fixed-width strings (at most 2,045 bytes); N and
  the map of the file's sections are patched at the end, the value labels follow the data.

Both carry a fixed creation time (1 January 2000) so that the same store and parameters
give the same bytes (the manifest holds no time). Which tables: trajectories, spells and
sequences (one row per girl or spell); events.csv has no .sav/.dta (as long as the log:
CSV, Parquet and the process-mining logs have it).
"""

from __future__ import annotations

import csv
import struct
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

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
LABEL_LENGTH = {"sav": 255, "dta": 80}
"""The longest variable label each format takes (a longer meaning is cut, with "...";
the codebook has it whole)."""
VALUE_LABEL_BYTES = 120
"""The longest value label SPSS takes, in bytes."""
_OWN_WORDS = {
    RUN: "on the run", AFT: "aftercare", END: "closed", CEN: "not observed",
    STILL_IN_CARE: "still in care at the end of observation",
    LOST_TO_FOLLOW_UP: "lost to follow-up", "erased": "erased",
    "consent_withdrawn": "consent withdrawn",
}
"""Words for the export's own codes (states, censoring), which no page shows."""
_CACHED_AT_MOST = 4_096
"""Distinct cells a column keeps the encoding of (codes and small numbers repeat; a
pseudonym never does: the cache stays bounded whatever the log)."""


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


def _cut_bytes(text: str, length: int) -> bytes:
    return text.encode()[:length].decode(errors="ignore").encode()


class _Cells(dict[str, bytes]):
    """A cell's encoding by its CSV text, made once per distinct text (bounded)."""

    def __init__(self, encode: Callable[[str], bytes]):
        super().__init__()
        self.encode = encode

    def __missing__(self, cell: str) -> bytes:
        made = self.encode(cell)
        if len(self) < _CACHED_AT_MOST:
            self[cell] = made
        return made


class _RowEncoder:
    """A row's bytes: each cell's encoding, the same encoding shared by the columns that
    encode alike, and a run of such columns encoded in one pass (a sequence's hundreds of
    state columns are one run: about twice as fast as a lookup per column)."""

    def __init__(self, keys: list[Hashable], make: Callable[[int], _Cells]):
        shared: dict[Hashable, _Cells] = {}
        runs: list[list[Any]] = []
        for i, key in enumerate(keys):
            cells = shared.get(key)
            if cells is None:
                cells = shared[key] = make(i)
            if runs and runs[-1][2] is cells:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1, cells])
        self.runs = [(start, slice(start, end), cells.__getitem__, end - start == 1)
                     for start, end, cells in runs]

    def __call__(self, row: list[str]) -> bytes:
        return b"".join([encode(row[start]) if single else b"".join(map(encode, row[cut]))
                         for start, cut, encode, single in self.runs])


@dataclass
class _Variable:
    """One column as the statistics files hold it, learnt from the first reading."""

    name: str
    kind: str  # "number" (int, flag, code) or "string"
    label: str
    places: dict[str, int] = field(default_factory=dict)  # code -> its number
    value_labels: dict[int, str] = field(default_factory=dict)
    width: int = 1  # strings: the widest cell, in bytes
    low: int = 0  # numbers: the smallest and the largest
    high: int = 0
    real: bool = False  # a `number` column (scores): doubles with decimals

    def number(self, cell: str) -> int | float | None:
        if not cell:
            return None
        if self.places:
            return self.places.get(cell)
        return float(cell) if self.real else int(cell)


def _variables(table: Table, csv_path: Path) -> tuple[list[_Variable], int]:
    """The table's variables, with their widths and ranges, and its row count: the first
    reading of the CSV."""
    variables: list[_Variable] = []
    last_doc = ""
    for column in table.columns:
        doc = column.doc or last_doc
        last_doc = doc
        variable = _Variable(column.name, "string" if column.kind in ("text", "set")
                             else "number", doc)
        variable.real = column.kind == "number"
        if column.kind == "flag":
            variable.value_labels = {int(k): v for k, v in FLAG_LABELS.items()}
        elif column.kind == "code" and column.codes:
            variable.places = {code: i for i, code in enumerate(column.codes, start=1)}
            variable.value_labels = {i: _words(code) for code, i in variable.places.items()}
        variables.append(variable)
    strings = [(i, v) for i, v in enumerate(variables) if v.kind == "string"]
    numbers = [(i, v) for i, v in enumerate(variables)
               if v.kind == "number" and not v.places and not v.real]
    rows = 0
    for row in _rows(csv_path, table):
        rows += 1
        for i, v in strings:
            v.width = max(v.width, len(row[i].encode()))
        for i, v in numbers:
            if row[i]:
                n = int(row[i])
                v.low, v.high = min(v.low, n), max(v.high, n)
    for v in variables:
        if v.places:
            v.low, v.high = 1, len(v.places)
    return variables, rows


def _rows(csv_path: Path, table: Table) -> Iterator[list[str]]:
    with csv_path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != table.header:
            raise ValueError(f"{csv_path.name}: its header is not the table's")
        yield from reader


def write(table: Table, csv_path: Path, formats: Sequence[str]) -> list[Path]:
    """The table's .sav and/or .dta (`formats`) beside its CSV; returns their paths. The
    CSV is read twice whatever the formats: to learn the widths and ranges, then to
    write every file at once, a row at a time."""
    variables, rows = _variables(table, csv_path)
    paths = [csv_path.with_suffix(EXTENSIONS[fmt]) for fmt in formats]
    with ExitStack() as files:
        writers = [
            (_Sav if fmt == "sav" else _Dta)(files.enter_context(path.open("w+b")),
                                             variables, rows)
            for fmt, path in zip(formats, paths, strict=True)
        ]
        for row in _rows(csv_path, table):
            for writer in writers:
                writer.add(row)
        for writer in writers:
            writer.close()
    return paths


def _label_sets(variables: list[_Variable]) -> list[tuple[dict[int, str], list[int]]]:
    """Each distinct set of value labels and the variables (their places) that carry it:
    the sequences' hundreds of columns share one."""
    sets: dict[tuple[tuple[int, str], ...], list[int]] = {}
    for i, v in enumerate(variables):
        if v.value_labels:
            sets.setdefault(tuple(sorted(v.value_labels.items())), []).append(i)
    return [(dict(key), members) for key, members in sets.items()]


# -- SPSS ----------------------------------------------------------------------------------

_BIAS = 100
_SYSMIS = -1.7976931348623157e308
_CREATED = (b"01 Jan 00", b"00:00:00")
_NUMBER_FORMAT = (5 << 16) | (8 << 8)  # F8.0
_REAL_FORMAT = (5 << 16) | (8 << 8) | 2  # F8.2: scores keep their decimals
_SAV_CASES_AT = 80
"""Where the header holds the case count (patched at the end)."""


class _Sav:
    """An SPSS system file, written row by row (bytecode-compressed: a byte of command for
    every 8 bytes of a case, the 8 bytes themselves only where no command says them)."""

    def __init__(self, f: BinaryIO, variables: list[_Variable], rows: int):
        self.f = f
        self.variables = variables
        self.rows = rows
        self.written = 0
        too_wide = [v.name for v in variables if v.kind == "string" and v.width > 255]
        if too_wide:  # (SPSS would take them as "very long strings": none is, so far)
            raise ValueError(f"{', '.join(too_wide)}: a cell longer than 255 bytes")
        self.blocks = [1 if v.kind == "number" else (v.width + 7) // 8 for v in variables]
        f.write(self._dictionary())
        self.commands, self.raw = self._cells()
        self.pending = bytearray()  # commands not yet written (fewer than 8 after a row)
        self.data = bytearray()  # the bytes they announce

    def _record(self, *numbers: int) -> bytes:
        return struct.pack(f"<{len(numbers)}i", *numbers)

    def _dictionary(self) -> bytes:
        out = [b"$FL2", b"@(#) SPSS DATA FILE - trajectory research export".ljust(60),
               self._record(2, sum(self.blocks), 1, 0, -1), struct.pack("<d", _BIAS),
               *_CREATED, b" " * 64, b"\0" * 3]
        index = 1  # (the dictionary index of each variable: continuations count)
        places: list[int] = []
        for n, (v, blocks) in enumerate(zip(self.variables, self.blocks, strict=True), 1):
            places.append(index)
            index += blocks
            label = _cut_bytes(_cut(v.label, LABEL_LENGTH["sav"]), 255)
            shape = (0, _REAL_FORMAT if v.real else _NUMBER_FORMAT) if v.kind == "number" else (
                v.width, (1 << 16) | (min(v.width, 255) << 8))
            out.append(self._record(2, shape[0], 1, 0, shape[1], shape[1]))
            out.append(f"V{n}".encode().ljust(8))
            out.append(self._record(len(label)) + label.ljust((len(label) + 3) // 4 * 4,
                                                              b"\0"))
            for _ in range(blocks - 1):  # a string's further 8 bytes
                out.append(self._record(2, -1, 0, 0, 0, 0) + b" " * 8)
        for labels, members in _label_sets(self.variables):
            out.append(self._record(3, len(labels)))
            for value, words in sorted(labels.items()):
                text = _cut_bytes(words, VALUE_LABEL_BYTES)
                out.append(struct.pack("<dB", value, len(text))
                           + text.ljust((len(text) + 8) // 8 * 8 - 1, b" "))
            out.append(self._record(4, len(members), *(places[i] for i in members)))
        out.append(self._extension(3, 4, self._record(20, 0, 0, -1, 1, 1, 2, 65001)))
        out.append(self._extension(4, 8, struct.pack("<3d", _SYSMIS, 1.7976931348623157e308,
                                                     -1.7976931348623155e308)))
        display = [n for v in self.variables for n in (
            (1, 8, 0) if v.kind == "string" else (1 if v.value_labels else 3, 8, 1))]
        out.append(self._extension(11, 4, self._record(*display)))
        names = "\t".join(f"V{n}={v.name}" for n, v in enumerate(self.variables, 1))
        out.append(self._extension(13, 1, names.encode()))
        out.append(self._extension(20, 1, b"UTF-8"))
        out.append(self._record(999, 0))
        return b"".join(out)

    def _extension(self, subtype: int, size: int, data: bytes) -> bytes:
        return self._record(7, subtype, size, len(data) // size) + data

    def _cells(self) -> tuple[_RowEncoder, _RowEncoder]:
        """A row's commands, and the bytes that follow them."""
        keys: list[Hashable] = [
            ("number", v.real, tuple(v.places)) if v.kind == "number" else ("string", blocks)
            for v, blocks in zip(self.variables, self.blocks, strict=True)]

        def commands(i: int) -> _Cells:
            v = self.variables[i]
            return _Cells(partial(_sav_number_command, v) if v.kind == "number"
                          else partial(_sav_string_command, self.blocks[i] * 8))

        def data(i: int) -> _Cells:
            v = self.variables[i]
            return _Cells(partial(_sav_number_data, v) if v.kind == "number"
                          else partial(_sav_string_data, self.blocks[i] * 8))

        return _RowEncoder(keys, commands), _RowEncoder(keys, data)

    def add(self, row: list[str]) -> None:
        self.written += 1
        pending, data = self.pending, self.data
        pending += self.commands(row)
        data += self.raw(row)
        whole = len(pending) // 8 * 8
        # Blocks of 8 commands, each followed by the 8 bytes of each command 253 in it:
        # only a block with a 253 needs cutting (in a sequence, those of the pseudonym).
        out: list[bytes | bytearray] = []
        start = used = 0
        at = pending.find(253, 0, whole)
        while at != -1:
            end = (at // 8 + 1) * 8
            n = pending.count(253, at, end) * 8
            out += (pending[start:end], data[used:used + n])
            start, used = end, used + n
            at = pending.find(253, end, whole)
        out.append(pending[start:whole])
        self.f.write(b"".join(out))
        del pending[:whole]
        del data[:used]

    def close(self) -> None:
        if self.pending:
            self.f.write(bytes(self.pending).ljust(8, b"\0") + bytes(self.data))
        if self.written != self.rows:
            raise ValueError("the CSV changed while its SPSS file was written")
        self.f.seek(_SAV_CASES_AT)
        self.f.write(struct.pack("<i", self.rows))


def _sav_number_command(v: _Variable, cell: str) -> bytes:
    n = v.number(cell)
    if n is None:
        return b"\xff"  # system-missing
    return bytes((int(n) + _BIAS,)) if _compressible(n) else b"\xfd"


def _sav_number_data(v: _Variable, cell: str) -> bytes:
    n = v.number(cell)
    return b"" if n is None or _compressible(n) else struct.pack("<d", n)


def _compressible(n: float) -> bool:
    """A whole number the compressed file holds in one byte (with the bias)."""
    return -_BIAS < n <= 251 - _BIAS and float(n).is_integer()


def _sav_string_command(size: int, cell: str) -> bytes:
    text = cell.encode().ljust(size, b" ")
    return bytes(254 if text[i:i + 8] == _SPACES else 253 for i in range(0, size, 8))


def _sav_string_data(size: int, cell: str) -> bytes:
    text = cell.encode().ljust(size, b" ")
    return b"".join(text[i:i + 8] for i in range(0, size, 8) if text[i:i + 8] != _SPACES)


_SPACES = b" " * 8


# -- Stata ---------------------------------------------------------------------------------

_BYTE, _INT, _LONG, _DOUBLE = 65530, 65529, 65528, 65526
_MISSING = {_BYTE: struct.pack("<b", 101), _INT: struct.pack("<h", 32741),
            _LONG: struct.pack("<i", 2147483621),
            _DOUBLE: struct.pack("<Q", 0x7FE0000000000000)}
_PACK = {_BYTE: "<b", _INT: "<h", _LONG: "<i", _DOUBLE: "<d"}
_FITS = {_BYTE: (-127, 100), _INT: (-32767, 32740), _LONG: (-2147483647, 2147483620)}
_STAMP = b"\x1101 Jan 2000 00:00"
_STRING_MOST = 2045


def _tag(name: str, content: bytes) -> bytes:
    return f"<{name}>".encode() + content + f"</{name}>".encode()


def _dta_string(width: int, cell: str) -> bytes:
    return cell.encode().ljust(width, b"\0")


def _dta_number(v: _Variable, kind: int, cell: str) -> bytes:
    n = v.number(cell)
    return _MISSING[kind] if n is None else struct.pack(_PACK[kind], n)


def _fixed(text: str, size: int) -> bytes:
    return _cut_bytes(text, size - 1).ljust(size, b"\0")


class _Dta:
    """A Stata 118 file, written row by row: the header and the descriptors, the rows, the
    value labels; then N and the map of where each section begins are filled in."""

    def __init__(self, f: BinaryIO, variables: list[_Variable], rows: int):
        self.f = f
        self.variables = variables
        self.rows = rows
        self.written = 0
        self.types = [self._type(v) for v in variables]
        self.sets = _label_sets(variables)
        self._head()
        self.cells = self._cells()
        self.batch: list[bytes] = []

    @staticmethod
    def _type(v: _Variable) -> int:
        if v.real:
            return _DOUBLE
        if v.kind == "string":
            if v.width > _STRING_MOST:
                raise ValueError(f"{v.name}: a cell of {v.width} bytes is longer than Stata's"
                                 f" {_STRING_MOST}")
            return v.width
        for kind in (_BYTE, _INT, _LONG):
            low, high = _FITS[kind]
            if low <= v.low and v.high <= high:
                return kind
        return _DOUBLE

    def _cells(self) -> _RowEncoder:
        keys: list[Hashable] = [(kind, v.real, tuple(v.places)) for v, kind in zip(
            self.variables, self.types, strict=True)]

        def make(i: int) -> _Cells:
            v, kind = self.variables[i], self.types[i]
            return _Cells(partial(_dta_string, kind) if v.kind == "string"
                          else partial(_dta_number, v, kind))

        return _RowEncoder(keys, make)

    def _head(self) -> None:
        f = self.f
        variables = self.variables
        sets = self.sets
        set_names = {i: variables[members[0]].name for _, members in sets for i in members}
        f.write(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>")
        f.write(_tag("K", struct.pack("<H", len(variables))))
        self.n_at = f.tell() + len(b"<N>")
        f.write(_tag("N", struct.pack("<Q", 0)))
        f.write(_tag("label", struct.pack("<H", 0)))
        f.write(_tag("timestamp", _STAMP) + b"</header>")
        self.map_at = f.tell() + len(b"<map>")
        f.write(_tag("map", b"\0" * 8 * 14))
        self.where = where = [0, self.map_at - len(b"<map>")]
        sections = [
            ("variable_types", struct.pack(f"<{len(self.types)}H", *self.types)),
            ("varnames", b"".join(_fixed(v.name, 129) for v in variables)),
            ("sortlist", b"\0" * 2 * (len(variables) + 1)),
            ("formats", b"".join(_fixed(
                f"%-{min(t, 2045)}s" if v.kind == "string" else "%9.0g", 57)
                for v, t in zip(variables, self.types, strict=True))),
            ("value_label_names", b"".join(_fixed(set_names.get(i, ""), 129)
                                           for i in range(len(variables)))),
            ("variable_labels", b"".join(_fixed(_cut(v.label, LABEL_LENGTH["dta"]), 321)
                                         for v in variables)),
            ("characteristics", b""),
        ]
        for name, content in sections:
            where.append(f.tell())
            f.write(_tag(name, content))
        where.append(f.tell())
        f.write(b"<data>")

    def add(self, row: list[str]) -> None:
        self.written += 1
        self.batch.append(self.cells(row))
        if len(self.batch) >= 256:
            self.f.write(b"".join(self.batch))
            self.batch = []

    def close(self) -> None:
        f, where, variables = self.f, self.where, self.variables
        f.write(b"".join(self.batch) + b"</data>")
        if self.written != self.rows:
            raise ValueError("the CSV changed while its Stata file was written")
        where.append(f.tell())
        f.write(_tag("strls", b""))
        where.append(f.tell())
        f.write(b"<value_labels>")
        for labels, members in self.sets:
            values = sorted(labels)
            texts = [_cut_bytes(labels[value], VALUE_LABEL_BYTES) + b"\0" for value in values]
            offsets, at = [], 0
            for text in texts:
                offsets.append(at)
                at += len(text)
            table = struct.pack(f"<2i{len(values)}i{len(values)}i", len(values), at,
                                *offsets, *values) + b"".join(texts)
            f.write(_tag("lbl", struct.pack("<i", len(table))
                         + _fixed(variables[members[0]].name, 129) + b"\0" * 3 + table))
        f.write(b"</value_labels>")
        where.append(f.tell())
        f.write(b"</stata_dta>")
        where.append(f.tell())
        f.seek(self.n_at)
        f.write(struct.pack("<Q", self.rows))
        f.seek(self.map_at)
        f.write(struct.pack("<14Q", *where))
