"""Verification of the hash chains: what `trajectory verify` runs.

For every trajectory: the stored events must run 1..n without gaps, decode, link to
their predecessor (`prev_hash`), hash to their own `hash`, and end where the index says
the stream ends (so that removing the last events is seen too). The checks themselves are
`trajectory.hashchain`'s, shared with the research export; this module walks the store
and reports. The access log and the erasure records have a chain of their own
(`persistence.ledger`): the first altered, removed or inserted row is named. Every
organisation stream (`trajectory.organisation`) is checked like a trajectory: its events
1..n, linked and hashed, ending where its index row says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from trajectory.application import TrajectoryApplication
from trajectory.crypto import TrajectoryErased
from trajectory.hashchain import ChainBroken, check_against_index, index_row, read_chain
from trajectory.organisation.store import OrganisationStore, check_chain
from trajectory.persistence.database import Database
from trajectory.persistence.ledger import (
    CHAINED_TABLES,
    LedgerFinding,
    LedgerHead,
    check_ledger,
    ledger_rows_sql,
)


@dataclass(frozen=True)
class Finding:
    trajectory_id: UUID
    position: int
    problem: str

    def __str__(self) -> str:
        return f"trajectory {self.trajectory_id} position {self.position}: {self.problem}"


@dataclass(frozen=True)
class OrganisationFinding:
    organisation_id: UUID
    position: int
    problem: str

    def __str__(self) -> str:
        stream = f"organisation stream {self.organisation_id}"
        return f"{stream} position {self.position}: {self.problem}"


@dataclass
class Report:
    trajectories: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    heads: dict[UUID, str] = field(default_factory=dict)
    erased: list[UUID] = field(default_factory=list)
    ledger_findings: list[LedgerFinding] = field(default_factory=list)
    ledger_heads: list[LedgerHead] = field(default_factory=list)
    organisations: int = 0
    organisation_findings: list[OrganisationFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.ledger_findings and not self.organisation_findings


def verify_ledgers(db: Database, report: Report) -> None:
    """The access log's and the erasure records' chains, each read in one statement."""
    for table in CHAINED_TABLES:
        head, finding = check_ledger(table, db.fetchall(ledger_rows_sql(table)))
        report.ledger_heads.append(head)
        if finding is not None:
            report.ledger_findings.append(finding)


def verify_organisations(db: Database, report: Report) -> None:
    """Every organisation stream: its chain, then its end against its index row."""
    store = OrganisationStore(db)
    heads = {str(r["organisation_id"]): (int(r["version"]), str(r["head_hash"]))
             for r in store.index()}
    for stream in store.stream_ids():
        report.organisations += 1
        try:
            events = store.events(stream)
            head = check_chain(events)
            recorded = heads.get(str(stream))
            if recorded is None:
                raise ChainBroken(len(events), "the stream is missing from the index")
            if recorded != (len(events), head):
                raise ChainBroken(
                    len(events),
                    f"the index records {recorded[0]} events and another head; {len(events)}"
                    " are stored (events were removed, added or altered outside the"
                    " application)",
                )
        except ChainBroken as broken:
            report.organisation_findings.append(
                OrganisationFinding(stream, broken.position, broken.problem)
            )


def verify_trajectory(app: TrajectoryApplication, trajectory_id: UUID, report: Report) -> None:
    if app.keys is not None and app.keys.is_erased(trajectory_id):
        # Crypto-shredded on purpose: its events can no longer be opened by anyone.
        report.erased.append(trajectory_id)
        return
    try:
        chain = read_chain(app.stored_events(trajectory_id), app.mapper.to_domain_event)
    except TrajectoryErased:
        report.erased.append(trajectory_id)  # erased while we were reading
        return
    except ChainBroken as broken:
        report.events += broken.position - 1
        report.findings.append(Finding(trajectory_id, broken.position, broken.problem))
        return
    report.events += len(chain.events)
    report.heads[trajectory_id] = chain.head
    try:
        check_against_index(chain, index_row(app.db, trajectory_id))
    except ChainBroken as broken:
        report.findings.append(Finding(trajectory_id, broken.position, broken.problem))


def verify_store(
    app: TrajectoryApplication, progress: Callable[[int, int], None] | None = None
) -> Report:
    report = Report()
    verify_ledgers(app.db, report)
    verify_organisations(app.db, report)
    ids = app.stored_trajectory_ids()
    for done, trajectory_id in enumerate(ids, start=1):
        verify_trajectory(app, trajectory_id, report)
        report.trajectories += 1
        if progress is not None:
            progress(done, len(ids))
    return report
