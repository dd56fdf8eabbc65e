"""The hash chain over the access log and the erasure records: tamper-evident, not only
append-only.

Triggers refuse UPDATE and DELETE, and on PostgreSQL the server's own role may only
INSERT and SELECT these tables; but whoever owns the database can still rewrite a row.
So every row also carries `seq` (1, 2, 3, ... without gaps, unique), `prev_hash` (the
previous row's `entry_hash`; 64 zeros for the first) and `entry_hash`: SHA-256 over a
canonical encoding (msgspec JSON, keys sorted) of the table, `seq`, `prev_hash` and the
row's values. `check_ledger` walks a table in `seq` order and names the first row that was
altered, removed, inserted beside the chain or reordered.

The chain link is made in the inserting transaction, for every writer alike
(`apply_writes` calls `chained` for each row): it reads the latest row and inserts the
next. SQLite serialises writers anyway; on PostgreSQL a transaction-level advisory lock
orders the appends and is held only until the transaction commits (the write's own
transaction, or the single INSERT of a read's entry). A unique `seq` turns any race this
could still lose into a refused write, never into a silent fork of the chain.

What must not change: the encoding in `entry_hash` (stored hashes are checked against it).
Values that are NULL are left out of it, so a column added later (NULL in old rows) keeps
old rows verifiable. The chain proves rows were not changed after they were written; it
cannot show that the newest rows were cut off by the owner role: keep `trajectory verify`'s
printed head (seq and hash) elsewhere to see that too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

CHAINED_TABLES: dict[str, str] = {"access_log": "entry_id", "erasures": "trajectory_id"}
"""Each chained table, with the column that names one of its rows in a finding."""

CHAIN_COLUMNS = ("seq", "prev_hash", "entry_hash")
GENESIS = "0" * 64
LEDGER_LOCK = 7_240_614
"""The PostgreSQL advisory lock that orders appends to the chained tables."""

_ASSIGNED_BY_THE_DATABASE = {"access_log": frozenset({"entry_id"}), "erasures": frozenset()}
"""Columns the database fills in on insert: not known when the hash is made."""


def entry_hash(table: str, seq: int, prev_hash: str, values: Mapping[str, Any]) -> str:
    fields = {k: v for k, v in values.items() if v is not None and k not in CHAIN_COLUMNS}
    encoded = msgspec.json.encode(
        {"table": table, "seq": seq, "prev_hash": prev_hash, "values": fields}, order="sorted"
    )
    return hashlib.sha256(encoded).hexdigest()


Heads = dict[str, tuple[int, str]]
"""The chain heads one transaction has read or made: (seq, entry_hash) per table."""


def chained(
    dialect: str, cursor: Any, table: str, values: Mapping[str, Any], heads: Heads
) -> dict[str, Any]:
    """The row's values with its link to the chain, read inside the inserting transaction
    (once per table and transaction: the next rows of a batch follow on from `heads`).

    `cursor` is the transaction's own DB-API cursor (`?` on SQLite, `%s` on PostgreSQL)."""
    if table not in heads:
        if dialect == "postgres":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK])
        cursor.execute(
            f"SELECT seq, entry_hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        )
        last = [dict(r) for r in cursor.fetchall()]
        heads[table] = (int(last[0]["seq"]), str(last[0]["entry_hash"])) if last else (0, GENESIS)
    previous_seq, prev = heads[table]
    seq = previous_seq + 1
    row = {k: v for k, v in values.items() if k not in CHAIN_COLUMNS}
    digest = entry_hash(table, seq, prev, row)
    heads[table] = (seq, digest)
    return {**row, "seq": seq, "prev_hash": prev, "entry_hash": digest}


@dataclass(frozen=True)
class LedgerFinding:
    table: str
    row: str
    """The row's name (`entry_id` of an access-log entry, `trajectory_id` of an erasure)."""
    seq: int | None
    problem: str

    def __str__(self) -> str:
        place = f"seq {self.seq}" if self.seq is not None else "outside the chain"
        return f"{self.table} {CHAINED_TABLES[self.table]} {self.row} ({place}): {self.problem}"


@dataclass(frozen=True)
class LedgerHead:
    table: str
    entries: int
    seq: int
    hash: str


def check_ledger(
    table: str, rows: Iterable[Mapping[str, Any]]
) -> tuple[LedgerHead, LedgerFinding | None]:
    """Walk the rows of one chained table (every column, in `seq` order, rows without a
    `seq` last); the head reached and the first finding, if any."""
    name = CHAINED_TABLES[table]
    previous, expected, count = GENESIS, 1, 0
    for row in rows:
        count += 1
        seq = row["seq"]
        label = str(row[name])
        if seq is None:
            return LedgerHead(table, count, expected - 1, previous), LedgerFinding(
                table, label, None, "inserted beside the chain (no seq, no hash)"
            )
        seq = int(seq)
        if seq != expected:
            problem = (
                f"entries {expected}..{seq - 1} of the chain were removed"
                if seq > expected
                else "appears twice in the chain"
            )
            return LedgerHead(table, count, expected - 1, previous), LedgerFinding(
                table, label, seq, problem
            )
        if row["prev_hash"] != previous:
            return LedgerHead(table, count, seq - 1, previous), LedgerFinding(
                table,
                label,
                seq,
                "does not link to the entry before it (that one was altered or replaced)",
            )
        values = {k: v for k, v in row.items() if k not in _ASSIGNED_BY_THE_DATABASE[table]}
        if entry_hash(table, seq, previous, values) != row["entry_hash"]:
            return LedgerHead(table, count, seq - 1, previous), LedgerFinding(
                table, label, seq, "altered after it was written (its hash does not match)"
            )
        previous, expected = str(row["entry_hash"]), seq + 1
    return LedgerHead(table, count, expected - 1, previous), None


def ledger_rows_sql(table: str) -> str:
    """Every row of a chained table in chain order, the unchained ones last."""
    return (
        f"SELECT * FROM {table} ORDER BY CASE WHEN seq IS NULL THEN 1 ELSE 0 END, seq,"
        f" {CHAINED_TABLES[table]}"
    )
