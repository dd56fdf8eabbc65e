"""Snapshots of a trajectory, with typed state so that dates survive the round trip."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic, resolve_topic

from trajectory.aggregates.state import TrajectoryState


class SnapshotBody(msgspec.Struct, kw_only=True):
    created_on: datetime
    modified_on: datetime
    head_hash: str
    state: TrajectoryState


class TrajectorySnapshot(Snapshot):
    """The state of a trajectory at a version, so that loading skips the replay."""

    state: SnapshotBody  # type: ignore[assignment]

    class_version = 2
    """2: evidence as `[position, on]` pairs (1 stored `{"position": .., "on": ..}`)."""

    @staticmethod
    def upcast_v1_v2(raw: dict[str, Any]) -> None:
        state = raw["state"]["state"]
        state["evidence"] = {
            code: [[e["position"], e["on"]] for e in items]
            for code, items in state.get("evidence", {}).items()
        }

    @classmethod
    def take(cls, aggregate: Any) -> TrajectorySnapshot:
        body = SnapshotBody(
            created_on=aggregate.created_on,
            modified_on=aggregate.modified_on,
            head_hash=aggregate.head_hash,
            # A decoded copy, so that later changes to the aggregate cannot leak in.
            state=msgspec.convert(msgspec.to_builtins(aggregate.state), TrajectoryState),
        )
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=body,  # type: ignore[arg-type]
        )

    def mutate(self, _: None) -> Any:
        cls = resolve_topic(self.topic)
        aggregate = object.__new__(cls)
        body = self.state
        aggregate.__dict__.update(
            _id=self.originator_id,
            _version=self.originator_version,
            _created_on=body.created_on,
            _modified_on=body.modified_on,
            _pending_events=[],
            state=body.state,
            head_hash=body.head_hash,
        )
        return aggregate
