"""The manifest of a research export: what was read, how, and what was written.

A reviewer can check a published data set with it: the SHA-256 of every file, the counts,
the parameters, and the hash-chain head of every trajectory the export read, with one
root hash over them. The root is SHA-256 over the UTF-8 text of one line per exported
trajectory, in pseudonym order: `<pseudonym> <events read> <head hash>\\n`; anyone can
recompute it from the `heads` list.

The manifest holds no time of its own (only the parameters given), so the same store and
parameters give a byte-identical manifest. Its own SHA-256 is what the access log records.

What must not change: the meaning of a field once published; add fields with defaults and
raise `manifest_version` when a field changes meaning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import msgspec

from trajectory.research.disclosure import SmallCellCheck

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

CONSENT_RULE = (
    "A girl is included when, at the moment of extraction, research consent is in force in"
    " her trajectory: her latest ResearchConsentGiven is not followed by a"
    " ResearchConsentWithdrawn (consent is given by the girl herself from 16, before 16 by a"
    " parent or guardian; the rules refuse any other giver). Consent is judged on the log as"
    " it is when the export runs, also when --as-of reads an earlier state, so a withdrawal"
    " is always honoured. Erased (crypto-shredded) trajectories are never included. Girls"
    " left out are counted here, never listed."
)


class Parameters(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    project: str
    format: str
    k: int
    max_suppressed_percent: int
    as_of: str | None
    """RFC 3339 (UTC): the log as known at this time; null: everything stored."""
    observation_end: str
    """The Amsterdam date observation ends (the as-of date, else the day of the export)."""
    censoring_period_days: int
    files: list[str] | None = None
    """The files the project declared; null: every file."""
    variables: list[str] | None = None
    """The variables (file.column) the project declared; null: every column of its files."""
    sequence_unit: str = "week"
    """sequences.csv per week (`W1` ...) or per month (`M1` ...) since intake."""
    formats: list[str] = msgspec.field(default_factory=list)
    """Files written beside the tables: ocel, xes, sav, dta (`formats.EXTRA_FORMATS`)."""
    organisations: list[str] | None = None
    """The organisations in the approved project's scope (their girls only); null: every
    organisation (an export made before projects were approved)."""
    intake_from: str | None = None
    """The first day of the project's declared period (girls taken in from then)."""
    intake_to: str | None = None
    """The last day of the declared period: girls taken in by then, observed until then."""
    regions: dict[str, str] | None = None
    """Organisation pseudonym -> region: the installation's mapping this export used (the
    organisation's region level); null: none (organisation -> withheld)."""


class Counts(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    trajectories_in_store: int
    trajectories_exported: int
    left_out_no_consent: int
    left_out_erased: int
    left_out_not_yet_recorded: int
    """Opened after the as-of time."""
    left_out_observed_under_4_weeks: int
    events_read: int
    """Events of the exported girls read from the log (up to the as-of time)."""
    events_exported: int
    events_after_observation: int
    """Events of the exported girls after the end of their observation (not exported)."""
    left_out_out_of_scope: int = 0
    """Girls of an organisation outside the project's scope, or taken in outside its
    declared period."""
    trajectories_recorded_by_as_of: int | None = None
    """With --as-of: the trajectories whose intake was recorded by then (what the export
    could see); later intakes do not change it, so the export stays verifiable."""


class FileEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rows: int
    bytes: int
    sha256: str
    content_sha256: str
    """SHA-256 of the table's canonical CSV rendering: for CSV files, their own hash; for
    Parquet files, the hash of the CSV of the same table (the same content)."""


class ApprovalEntry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One organisation's approval of the project: who, which organisation, when."""

    organisation: str
    approved_by: str
    approved_at: str


class Manifest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    manifest_version: int = MANIFEST_VERSION
    software: dict[str, str]
    parameters: Parameters
    consent_rule: str = CONSENT_RULE
    protocols: list[str]
    counts: Counts
    small_cell_check: SmallCellCheck
    files: dict[str, FileEntry]
    root: str
    heads: list[tuple[str, int, str]]
    """(pseudonym, events read, hash-chain head) of every exported trajectory, in order."""
    ethics_reference: str | None = None
    """The approved project's ethics reference (METC or equivalent)."""
    project_expires_on: str | None = None
    approvals: list[ApprovalEntry] = msgspec.field(default_factory=list)
    """The approvals the export was made under, one per organisation in scope."""


FIELD_DOCS: dict[str, str] = {
    "manifest_version": "the manifest's format version",
    "software": "name -> version of the software that wrote the files",
    "parameters": "the parameters of the export (below)",
    "parameters.project": "the research project: its pseudonyms",
    "parameters.format": "csv, or parquet (CSV and Parquet of the same tables)",
    "parameters.k": "smallest group of quasi-identifiers that may be published",
    "parameters.max_suppressed_percent": "suppression budget of the small-cell check",
    "parameters.as_of": "RFC 3339 time (UTC): the log as known then; null: everything stored",
    "parameters.observation_end": "the date observation ends (as-of date, else export day)",
    "parameters.censoring_period_days": "observation of a girl still in care ends at a"
    " whole number of these days since intake",
    "parameters.files": "the files the project declared (data minimisation); null: every"
    " file",
    "parameters.variables": "the variables (file.column) the project declared; null: every"
    " column of its files",
    "parameters.sequence_unit": "week or month: the columns of sequences.csv (W1 ... or"
    " M1 ...), the state held most days of each week or month since intake",
    "parameters.formats": "the formats written beside the CSV tables: ocel (events.jsonocel,"
    " OCEL 2.0), xes (events.xes), sav (SPSS), dta (Stata); datapackage.json always",
    "parameters.organisations": "the organisations in the approved project's scope (only"
    " their girls are exported); null: every organisation",
    "parameters.intake_from": "first day of the project's declared period: girls taken in"
    " from then",
    "parameters.intake_to": "last day of the declared period: girls taken in by then;"
    " observation ends on it at the latest",
    "parameters.regions": "organisation pseudonym -> region name: the installation's"
    " mapping the export used (organisation -> region -> withheld; an organisation not in"
    " it is in region other); null: no mapping (organisation -> withheld)",
    "ethics_reference": "the approved project's ethics reference (METC or equivalent)",
    "project_expires_on": "the day the approved project expires",
    "approvals": "the approvals the export was made under: organisation, approved_by (user"
    " id of its admin, the privacy officer), approved_at",
    "counts.left_out_out_of_scope": "girls left out: of an organisation outside the"
    " project's scope, or taken in outside its declared period",
    "consent_rule": "who is included, in words",
    "protocols": "the protocol versions (name version) the exported trajectories ran under",
    "counts": "counts of trajectories and events (below)",
    "counts.trajectories_in_store": "trajectories in the store",
    "counts.trajectories_exported": "girls in the export",
    "counts.left_out_no_consent": "girls left out: no research consent in force",
    "counts.left_out_erased": "trajectories left out: erased (crypto-shredded)",
    "counts.left_out_not_yet_recorded": "girls left out: opened after the as-of time",
    "counts.left_out_observed_under_4_weeks": "girls left out: observed under 4 weeks",
    "counts.events_read": "events of the exported girls read from the log",
    "counts.events_exported": "rows of events.csv",
    "counts.events_after_observation": "events of the exported girls after their observation"
    " ended (not exported)",
    "counts.trajectories_recorded_by_as_of": "with as_of: trajectories whose intake was"
    " recorded by then (later intakes do not change it); null without as_of",
    "small_cell_check": "what the k-anonymity check found and did (see Disclosure control)",
    "files": "file name -> rows, bytes, sha256 of the file, content_sha256 (sha256 of the"
    " table as canonical CSV: for a Parquet file, its CSV's hash)",
    "root": "SHA-256 over the heads list (see below)",
    "heads": "[pseudonym, events read, hash-chain head] of every exported trajectory",
}
"""What each manifest field means (the codebook prints these; a test checks every field
has one)."""


def root_hash(heads: Iterable[tuple[str, int, str]]) -> str:
    sha = hashlib.sha256()
    for pseudonym, events, head in heads:
        sha.update(f"{pseudonym} {events} {head}\n".encode())
    return sha.hexdigest()


def encode(manifest: Manifest) -> bytes:
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"


def decode(data: bytes) -> Manifest:
    return msgspec.json.decode(data, type=Manifest)
