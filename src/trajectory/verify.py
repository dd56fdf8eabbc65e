"""Verification of the hash chains: what `trajectory verify` runs.

For every trajectory: the stored events must run 1..n without gaps, decode, link to
their predecessor (`prev_hash`), hash to their own `hash`, and end where the index says
the stream ends (so that removing the last events is seen too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.utils import get_topic

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.hashing import GENESIS, event_hash
from trajectory.application import TrajectoryApplication


@dataclass(frozen=True)
class Finding:
    trajectory_id: UUID
    position: int
    problem: str

    def __str__(self) -> str:
        return f"trajectory {self.trajectory_id} position {self.position}: {self.problem}"


@dataclass
class Report:
    trajectories: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    heads: dict[UUID, str] = field(default_factory=dict)
    erased: list[UUID] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_trajectory(app: TrajectoryApplication, trajectory_id: UUID, report: Report) -> None:
    def tampered(position: int, problem: str) -> None:
        report.findings.append(Finding(trajectory_id, position, problem))

    if app.keys is not None and app.keys.is_erased(trajectory_id):
        # Crypto-shredded on purpose: its events can no longer be opened by anyone.
        report.erased.append(trajectory_id)
        return
    stored = app.stored_events(trajectory_id)
    previous = GENESIS
    expected_position = 1
    for record in stored:
        position = record.originator_version
        if position != expected_position:
            tampered(
                expected_position,
                f"event {expected_position} is missing (the next stored is {position})",
            )
            return
        expected_position += 1
        try:
            event = app.mapper.to_domain_event(record)
        except Exception:
            tampered(position, "the stored event cannot be decoded: it was altered")
            return
        if not isinstance(event, TrajectoryEvent):
            tampered(position, f"the stored event has an unexpected type {record.topic}")
            return
        if position == 1 and not isinstance(event, TrajectoryOpened):
            tampered(position, "the stream does not start with TrajectoryOpened")
        if event.prev_hash != previous:
            tampered(position, "the event does not follow its predecessor (reordered or altered)")
            return
        if event_hash(get_topic(type(event)), vars(event)) != event.hash:
            tampered(position, "the event's content does not match its hash: it was altered")
            return
        previous = event.hash
        report.events += 1
    last = expected_position - 1
    row = app.db.fetchone(
        "SELECT version, head_hash FROM trajectory_index WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    if row is None:
        tampered(last, "the trajectory is missing from the index")
    elif int(row["version"]) != last:
        tampered(
            last + 1 if int(row["version"]) > last else last,
            f"the index records {row['version']} events but {last} are stored"
            " (events were removed or added outside the application)",
        )
    elif row["head_hash"] != previous:
        tampered(last, "the last event's hash differs from the recorded head")
    report.heads[trajectory_id] = previous


def verify_store(
    app: TrajectoryApplication, progress: Callable[[int, int], None] | None = None
) -> Report:
    report = Report()
    ids = app.stored_trajectory_ids()
    for done, trajectory_id in enumerate(ids, start=1):
        verify_trajectory(app, trajectory_id, report)
        report.trajectories += 1
        if progress is not None:
            progress(done, len(ids))
    return report
