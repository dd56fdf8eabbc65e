"""Who may see which trajectory: the one rule every read and write starts from.

A coordinator sees her organisation's trajectories; an aftercare worker those handed over
to her. Anything else answers as a trajectory that does not exist, so that nobody learns
from a refusal which files there are. An erased file is said to be erased only to someone
who could have seen it.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from trajectory.aggregates.errors import TrajectoryNotFound
from trajectory.crypto import TrajectoryErased
from trajectory.persistence.database import Database


class Someone(Protocol):
    """Whoever asks: a signed-in user or an actor of the application."""

    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def organisation(self) -> str: ...


def may_see(who: Someone, row: dict[str, Any]) -> bool:
    """Whether an index (or erasure) row is one this person may see."""
    if who.role == "coordinator":
        return bool(row["organisation"] == who.organisation)
    return who.role == "aftercare" and row["receiving_worker"] == who.user_id


def visible_row(db: Database, who: Someone, trajectory_id: UUID) -> dict[str, Any]:
    """The trajectory's index row, if `who` may see it.

    Raises TrajectoryNotFound when it does not exist or is not hers to see (the same
    answer), and TrajectoryErased when it was erased and she could have seen it."""
    row = db.fetchone(
        "SELECT organisation, receiving_worker, status FROM trajectory_index"
        " WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    if row is None:
        erased = db.fetchone(
            "SELECT organisation, receiving_worker FROM erasures WHERE trajectory_id = ?",
            [str(trajectory_id)],
        )
        if erased is not None and may_see(who, erased):
            raise TrajectoryErased(trajectory_id)
        raise TrajectoryNotFound(trajectory_id)
    if may_see(who, row):
        return row
    raise TrajectoryNotFound(trajectory_id)
