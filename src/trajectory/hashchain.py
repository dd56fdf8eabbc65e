"""The one verifier of a trajectory's hash chain, for `trajectory verify` and the research
export alike (the export checks every trajectory it reads and refuses altered data).

`read_chain` decodes a trajectory's stored events in order and checks each one: the
positions run 1..n without a gap, the first is the opening, each event links to its
predecessor (`prev_hash`) and hashes to its own `hash`. `check_against_index` then checks
the end of the chain against the trajectory's index row, so that events removed from the
end (or added behind the application's back) are seen too. Both raise `ChainBroken` at
the first break, naming the position.

The research export reads every event of the log through `read_chain`: the loop costs
one decode, one dict lookup and one hash (canonical bytes made in C) per event and
nothing more; keep it that way (see bench/README.md, "research export").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.hashing import GENESIS, event_hash
from trajectory.persistence.database import Reads
from trajectory.persistence.mapper import PayloadUnavailable

Decode = Callable[[StoredEvent], Any]
"""The application's mapper: a stored event to a domain event (decrypting it)."""

IndexRow = tuple[int, str]
"""What the trajectory index records of a stream: its version and its head hash."""


class ChainBroken(Exception):
    """The first place where a trajectory's stored events stop verifying."""

    def __init__(self, position: int, problem: str):
        super().__init__(f"position {position}: {problem}")
        self.position = position
        self.problem = problem


class Chain(NamedTuple):
    """A trajectory's events as verified, in order, and the hash of the last one."""

    events: list[TrajectoryEvent]
    head: str


_TOPICS: dict[type, str] = {}
"""Each event class's topic, looked up once (the hash covers it)."""


def read_chain(records: Sequence[StoredEvent], decode: Decode) -> Chain:
    """Every stored event of one trajectory decoded and checked against the chain.

    Raises `ChainBroken` at the first event that is missing, cannot be decoded, is not a
    trajectory event (or, first, not the opening), does not follow its predecessor or
    does not match its hash. A payload that cannot be opened for a lawful reason (an
    erased trajectory) raises `PayloadUnavailable` unchanged: that is not tampering."""
    previous = GENESIS
    events: list[TrajectoryEvent] = []
    for position, record in enumerate(records, start=1):
        if record.originator_version != position:
            raise ChainBroken(
                position,
                f"event {position} is missing (the next stored is {record.originator_version})",
            )
        try:
            event = decode(record)
        except PayloadUnavailable:
            raise
        except Exception:
            raise ChainBroken(
                position, "the stored event cannot be decoded: it was altered"
            ) from None
        cls = type(event)
        topic = _TOPICS.get(cls)
        if topic is None:
            if not issubclass(cls, TrajectoryEvent):
                raise ChainBroken(
                    position, f"the stored event has an unexpected type {record.topic}"
                )
            topic = _TOPICS[cls] = get_topic(cls)
        event = cast(TrajectoryEvent, event)  # (its class was checked once, above)
        if position == 1 and not isinstance(event, TrajectoryOpened):
            raise ChainBroken(position, "the stream does not start with TrajectoryOpened")
        if event.prev_hash != previous:
            raise ChainBroken(
                position, "the event does not follow its predecessor (reordered or altered)"
            )
        if event_hash(topic, vars(event), cls) != event.hash:
            raise ChainBroken(
                position, "the event's content does not match its hash: it was altered"
            )
        previous = event.hash
        events.append(event)
    return Chain(events, previous)


def index_row(db: Reads, trajectory_id: UUID) -> IndexRow | None:
    """The trajectory's index row as it is now (None: she has none)."""
    row = db.fetchone(
        "SELECT version, head_hash FROM trajectory_index WHERE trajectory_id = ?",
        [str(trajectory_id)],
    )
    return None if row is None else (int(row["version"]), str(row["head_hash"]))


def check_against_index(chain: Chain, recorded: IndexRow | None) -> None:
    """Raise `ChainBroken` unless the index row (None: there is none) records this chain's
    length and head: the application writes both in the events' own transaction."""
    stored = len(chain.events)
    if recorded is None:
        raise ChainBroken(stored, "the trajectory is missing from the index")
    version, head = recorded
    if version != stored:
        raise ChainBroken(
            stored + 1 if version > stored else stored,
            f"the index records {version} events but {stored} are stored"
            " (events were removed or added outside the application)",
        )
    if head != chain.head:
        raise ChainBroken(stored, "the last event's hash differs from the recorded head")


def matches_index(chain: Chain, recorded: IndexRow | None) -> bool:
    """Whether `check_against_index` passes, without the exception (the export's fast
    path: it compares every trajectory with an index read before it started)."""
    return recorded == (len(chain.events), chain.head)
