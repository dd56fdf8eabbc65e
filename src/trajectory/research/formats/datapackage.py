"""A Frictionless Data Package (`datapackage.json`) beside the CSV tables: the codebook in a
form a machine can check the files against (Data Package and Table Schema, v1 of the
Frictionless specifications; the `frictionless` library validates it in the tests).

Made from the same table definitions as the files and the codebook, so the three cannot
disagree: each column becomes a field with its type (`text`, `code`, `set`: string;
`int`, `flag`: integer), its meaning as description, and constraints: a code list as an
enum, a flag as 0 or 1, a set as a pattern of its codes joined by `|`, a pseudonym as
required and its pattern. Each table has its primary key; the other tables point at
trajectories.csv by pseudonym (foreign keys). Every resource carries its byte count and
SHA-256, so a validator also finds a changed file. Missing is an empty cell.

The package holds no time and no name of a person, so the same export gives the same
bytes; it is listed in the manifest with its hash, and `verify --export` compares it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from trajectory.research.manifest import FileEntry
from trajectory.research.tables import Table

DATAPACKAGE = "datapackage.json"
_TYPES = {"text": "string", "code": "string", "set": "string", "int": "integer",
          "flag": "integer", "number": "number"}
_KEYS = {"trajectories": ["pseudonym"], "events": ["pseudonym", "seq"],
         "sequences": ["pseudonym"], "spells": ["pseudonym", "begin"],
         "follow_ups": ["pseudonym", "moment"],
         "scores": ["pseudonym", "moment", "instrument_number", "scale"]}
GIRL_PATTERN = "G[0-9A-F]{16}"


def _field(name: str, kind: str, doc: str, codes: tuple[str, ...]) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": _TYPES[kind]}
    if doc:
        field["description"] = doc
    constraints: dict[str, Any] = {}
    if name == "pseudonym":
        constraints = {"required": True, "pattern": GIRL_PATTERN}
    elif kind == "flag":
        constraints = {"enum": [0, 1]}
    elif kind == "code" and codes:
        constraints = {"enum": list(codes)}
    elif kind == "set" and codes:
        one = "(?:" + "|".join(re.escape(c) for c in codes) + ")"
        constraints = {"pattern": f"{one}(?:\\|{one})*"}
    if constraints:
        field["constraints"] = constraints
    return field


def _resource(table: Table, entry: FileEntry) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "fields": [_field(c.name, c.kind, c.doc, c.codes) for c in table.columns],
        "missingValues": [""],
        "primaryKey": _KEYS[table.name],
    }
    if table.name != "trajectories":
        schema["foreignKeys"] = [{
            "fields": "pseudonym",
            "reference": {"resource": "trajectories", "fields": "pseudonym"},
        }]
    return {
        "name": table.name,
        "path": f"{table.name}.csv",
        "profile": "tabular-data-resource",
        "description": table.doc,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": entry.bytes,
        "hash": f"sha256:{entry.sha256}",
        "dialect": {"delimiter": ",", "lineTerminator": "\n", "header": True},
        "schema": schema,
    }


def render(project: str, tables: list[Table], files: dict[str, FileEntry]) -> bytes:
    """The datapackage.json of an export's CSV tables (in the order given)."""
    package = {
        "profile": "tabular-data-package",
        "name": re.sub(r"[^a-z0-9._-]", "-", f"trajectory-research-{project}".lower()),
        "title": f"Research export of project {project}",
        "description": "Pseudonymised treatment trajectories (see docs/codebook.md and"
        " manifest.json). Days count from intake (day 0); missing is an empty cell.",
        "resources": [_resource(t, files[f"{t.name}.csv"]) for t in tables],
    }
    return msgspec.json.format(msgspec.json.encode(package), indent=2) + b"\n"
