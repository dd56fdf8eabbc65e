"""The municipalities of the Netherlands, by their CBS code: whom a girl's municipality of
residence may be.

trajectory ships a few (`codes.MUNICIPALITIES`: the largest, and those of the demo). The
whole list changes every year (municipalities merge on 1 January), and CBS publishes it:
*Gemeenten alfabetisch <jaar>*, a spreadsheet with the columns Gemeentecode,
GemeentecodeGM and Gemeentenaam (among others). An admin saves it as CSV and loads it
(`trajectory municipalities load FILE`); the rows are kept in the store, so that every
process (the API, the pages, the command line, the delivery) knows the same list. A
municipality that later merged away keeps its row: girls who lived there keep their code,
and an earlier period can still be delivered.

The check that a code is a known municipality is made in the write path
(`trajectory.writing`), below every entry point, against this list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from trajectory.aggregates.errors import RuleRefused
from trajectory.bij.codes import MUNICIPALITIES
from trajectory.persistence.database import Database, RowWrite


class MunicipalityListRefused(ValueError):
    """A file that is not CBS's list of municipalities (names the line and why)."""


@dataclass(frozen=True)
class Municipality:
    code: str
    """Four digits (CBS's gemeentecode without "GM")."""
    name: str


def _code(value: str) -> str | None:
    """"GM0363", "363" and "0363" are one code, "0363"; anything else is not a code."""
    value = value.strip().upper().removeprefix("GM")
    if not value.isascii() or not value.isdigit() or len(value) > 4 or int(value) == 0:
        return None
    return value.zfill(4)


def parse_cbs_list(text: str) -> list[Municipality]:
    """The municipalities of CBS's list saved as CSV (comma or semicolon; the header names
    Gemeentecode or GemeentecodeGM, and Gemeentenaam). Refuses the whole file, naming the
    line, when a row has no valid code or no name: half a list loaded would refuse girls
    of the missing half."""
    text = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", ";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    code_column = header.get("gemeentecodegm") or header.get("gemeentecode")
    name_column = header.get("gemeentenaam")
    if code_column is None or name_column is None:
        raise MunicipalityListRefused(
            "line 1: the header names no Gemeentecode (or GemeentecodeGM) and Gemeentenaam;"
            " save CBS's list 'Gemeenten alfabetisch' as CSV")
    found: dict[str, Municipality] = {}
    for number, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue
        code = _code(row.get(code_column) or "")
        name = (row.get(name_column) or "").strip()
        if code is None:
            raise MunicipalityListRefused(f"line {number}: not a municipality code")
        if not name or len(name) > 200:
            raise MunicipalityListRefused(f"line {number}: no municipality name")
        found[code] = Municipality(code, name)
    if not found:
        raise MunicipalityListRefused("the file holds no municipality")
    return sorted(found.values(), key=lambda m: m.code)


class Municipalities:
    """The installation's list: the shipped ones, and over them those loaded from CBS."""

    def __init__(self, db: Database):
        self.db = db

    def all(self) -> dict[str, str]:
        """Code -> name, every municipality known (a loaded name wins over a shipped one)."""
        known = dict(MUNICIPALITIES)
        for row in self.db.fetchall("SELECT code, name FROM municipalities"):
            known[str(row["code"])] = str(row["name"])
        return known

    def name(self, code: str) -> str | None:
        row = self.db.fetchone("SELECT name FROM municipalities WHERE code = ?", [code])
        return str(row["name"]) if row is not None else MUNICIPALITIES.get(code)

    def known(self, code: str) -> bool:
        return self.name(code) is not None

    def __contains__(self, code: object) -> bool:
        """`code in municipalities`: one lookup, where a rule asks of one code."""
        return isinstance(code, str) and self.known(code)

    def load(self, municipalities: Iterable[Municipality], *, source: str, by: str,
             at: datetime) -> int:
        """Add or rename the municipalities given, in one transaction; none is removed.
        Returns how many the list now holds beyond the shipped ones."""
        self.db.write(*(RowWrite("municipalities", {
            "code": m.code, "name": m.name, "source": source[:200],
            "loaded_at": at.isoformat(), "loaded_by": by,
        }, upsert_on=("code",)) for m in municipalities))
        row = self.db.fetchone("SELECT COUNT(*) AS n FROM municipalities")
        return int(row["n"]) if row is not None else 0


def check_municipality(known: Municipalities, code: str, field: str = "municipality") -> None:
    """A municipality given is one of the list (`Municipalities`); none given is allowed
    (not known yet: the delivery leaves her out and says so)."""
    if not code:
        return
    if not known.known(code):
        raise RuleRefused(
            "unknown municipality code: give the four-digit CBS municipality code of a"
            " municipality of the list (an admin loads CBS's list: trajectory municipalities"
            " load)",
            code="municipality-unknown", unmet=[field], fields=[field],
        )
