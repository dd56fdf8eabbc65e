"""The hash chain every event stream of ours carries: a girl's trajectory and an
organisation's own duties alike.

Each event is stamped with the application's clock when the caller gave it (so that "as
it was known on" and a read model's recording day follow that clock), never before the
stream's previous fact (so its history keeps its order by recording time); it names its
predecessor's hash and carries its own, over the canonical encoding (`hashing`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from trajectory.aggregates.hashing import GENESIS, event_hash

_ONE_MICROSECOND = timedelta(microseconds=1)


class HashChained(Aggregate):
    """An aggregate whose events form a hash chain from the first."""

    if TYPE_CHECKING:  # set by the opening event's apply
        head_hash: str

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        at = kwargs.pop("recorded_at", None) or event_class.create_timestamp()
        kwargs["timestamp"] = max(at, self.modified_on + _ONE_MICROSECOND)
        kwargs["prev_hash"] = self.head_hash
        fields = {**kwargs, "originator_id": self.id, "originator_version": self.version + 1}
        kwargs["hash"] = event_hash(get_topic(event_class), fields, event_class)
        super().trigger_event(event_class, **kwargs)

    @classmethod
    def _opened(cls, event_class: type[Any], originator_id: UUID, kwargs: dict[str, Any],
                recorded_at: Any) -> Self:
        """The stream begun by its first event (`kwargs`: its fields), first in its chain."""
        kwargs = {**kwargs, "prev_hash": GENESIS,
                  "timestamp": recorded_at or event_class.create_timestamp()}
        fields = {
            **kwargs,
            "originator_id": originator_id,
            "originator_version": cls.INITIAL_VERSION,
            "originator_topic": get_topic(cls),
        }
        kwargs["hash"] = event_hash(get_topic(event_class), fields, event_class)
        return cls._create(event_class, id=originator_id, **kwargs)
