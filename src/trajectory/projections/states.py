"""Each trajectory as of the event being projected, folded forward one event at a time.

Projections that show what is due need the whole state, not only the event. Loading the
trajectory for every event would replay it again and again; so the runner keeps the
states of the trajectories it has seen, and folds each new event into its own
trajectory's state. A trajectory it does not hold at exactly the previous version (first
seen after a restart, evicted, or left behind by a rolled-back page) is loaded from the
store as of that version (snapshots make that quick), so the state is always the state
after the event itself.

Only the state is kept, not the aggregate: the events fold themselves into it through
their own `apply` (the opening event makes it), which is all the aggregate's `mutate`
does to the state. What `mutate` adds besides (the version check, the timestamps, the
head of the hash chain) no projection reads, and it cost as much as the fold itself (a
rebuild folds every event of the log); the version is checked here instead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.trajectory import Trajectory

if TYPE_CHECKING:
    from trajectory.aggregates.state import TrajectoryState

Loader = Callable[[UUID, int], Trajectory]
"""Loads a trajectory as of a version (from the store)."""


class Folded:
    """A trajectory's state and the version it is at.

    Stands in for the aggregate in an event's `apply`, which only reads and assigns
    `state` (the opening event assigns it, every other event folds into it)."""

    __slots__ = ("state", "version")

    state: TrajectoryState
    version: int

    def __init__(self, version: int = 0) -> None:
        self.version = version


class StateCache:
    """States of trajectories by id, least recently used evicted first."""

    def __init__(self, load: Loader, size: int = 50_000):
        self._load = load
        self.size = size
        # Keyed by the id's integer: hashed and compared in C, where a UUID's own hash and
        # equality are Python methods (a rebuild looks up every event's trajectory).
        self._cache: OrderedDict[int, Folded] = OrderedDict()
        self.loads = 0

    def fold(self, event: TrajectoryEvent, key: int, version: int) -> TrajectoryState:
        """The state of `event`'s trajectory right after it; `key` is the id's integer and
        `version` the event's `originator_version` (the caller has both at hand)."""
        cache = self._cache
        folded = cache.pop(key, None)
        if folded is None or folded.version != version - 1:
            folded = self._loaded(event.originator_id, version - 1)
        event.apply(folded)
        folded.version = version
        cache[key] = folded
        if len(cache) > self.size:
            cache.popitem(last=False)
        return folded.state

    def _loaded(self, trajectory_id: UUID, version: int) -> Folded:
        """The state as of `version` from the store; nothing yet before the first event."""
        if version <= 0:
            return Folded()
        self.loads += 1
        t = self._load(trajectory_id, version)
        folded = Folded(t.version)
        folded.state = t.state
        return folded

    def forget(self, trajectory_ids: Iterable[UUID]) -> None:
        for trajectory_id in trajectory_ids:
            self._cache.pop(trajectory_id.int, None)

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
