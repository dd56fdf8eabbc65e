"""Each trajectory as of the event being projected, folded forward one event at a time.

Projections that show what is due need the whole state, not only the event. Loading the
trajectory for every event would replay it again and again; so the runner keeps the
trajectories it has seen, and folds each new event into its own trajectory. A trajectory
it does not hold at exactly the previous version (first seen after a restart, evicted,
or left behind by a rolled-back page) is loaded from the store as of that version
(snapshots make that quick), so the state is always the state after the event itself.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from uuid import UUID

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.trajectory import Trajectory

Loader = Callable[[UUID, int], Trajectory]
"""Loads a trajectory as of a version (from the store)."""


class StateCache:
    """Trajectories by id, least recently used evicted first."""

    def __init__(self, load: Loader, size: int = 50_000):
        self._load = load
        self.size = size
        # Keyed by the id's integer: hashed and compared in C, where a UUID's own hash and
        # equality are Python methods (a rebuild looks up every event's trajectory).
        self._cache: OrderedDict[int, Trajectory] = OrderedDict()
        self.loads = 0

    def fold(self, event: TrajectoryEvent) -> Trajectory:
        """The trajectory right after `event`."""
        trajectory_id = event.originator_id
        key = trajectory_id.int
        before = event.originator_version - 1
        t = self._cache.pop(key, None)
        if t is None or t.version != before:
            t = self._load(trajectory_id, before) if before > 0 else None
            self.loads += before > 0
        after = event.mutate(t)
        assert isinstance(after, Trajectory)
        self._cache[key] = after
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return after

    def forget(self, trajectory_ids: Iterable[UUID]) -> None:
        for trajectory_id in trajectory_ids:
            self._cache.pop(trajectory_id.int, None)

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
