"""The stored-event mapping: msgspec JSON with the event class's own types.

This is the one place where an event becomes bytes and back. Payload encryption plugs in
here (`PayloadCipher`), keyed by trajectory, so that it covers events and snapshots alike.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from functools import cache, partial
from typing import Any, Protocol
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)
from eventsourcing.utils import get_topic, resolve_topic

_FIXED = ("originator_id", "originator_version")
_encoder = msgspec.json.Encoder()


class PayloadCipher(Protocol):
    """Seals and opens stored payloads, per trajectory (the originator id)."""

    def encrypt(self, originator_id: UUID, data: bytes) -> bytes: ...

    def decrypt(self, originator_id: UUID, data: bytes) -> bytes: ...


class PayloadUnavailable(Exception):
    """A payload that cannot be opened for a lawful reason (e.g. an erased trajectory).
    Raised through the mapper unchanged, never reported as a decoding failure."""


class Plaintext:
    """No encryption: the payload is stored as encoded."""

    def encrypt(self, originator_id: UUID, data: bytes) -> bytes:
        return data

    def decrypt(self, originator_id: UUID, data: bytes) -> bytes:
        return data


@cache
def _payload_type(cls: type) -> type[msgspec.Struct]:
    """A Struct with the event's stored fields and their types, for a typed decode."""
    hints = typing.get_type_hints(cls)
    # A field added later has a default: an event stored before it existed reads back with
    # that default (and hashes as it did; see `trajectory.aggregates.hashing`).
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        (f.name, hints[f.name])
        if f.default is dataclasses.MISSING
        else (f.name, hints[f.name], f.default)
        for f in dataclasses.fields(cls)
        if f.name not in _FIXED
    ]
    fields.append(("class_version", int, 1))
    return msgspec.defstruct(f"Stored{cls.__name__}", fields, kw_only=True)


@cache
def _decoder(cls: type) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(_payload_type(cls))


class TrajectoryMapper(Mapper[UUID]):
    def __init__(self) -> None:
        super().__init__(transcoder=JSONTranscoder())
        # The application seals payloads with its key ring once it has one.
        self.payload_cipher: PayloadCipher = Plaintext()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.payload_cipher.encrypt(originator_id, _encoder.encode(state))
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self._to_domain_event(stored_event, self.payload_cipher.decrypt)

    def decoder_for(self, originator_id: UUID) -> Callable[[StoredEvent], Any]:
        """`to_domain_event` for the stored events of one trajectory read together: a
        cipher that has an `opener` looks her key up once for all of them."""
        opener = getattr(self.payload_cipher, "opener", None)
        decrypt = opener(originator_id) if opener is not None else self.payload_cipher.decrypt
        return partial(self._to_domain_event, decrypt=decrypt)

    def _to_domain_event(self, stored_event: StoredEvent,
                         decrypt: Callable[[UUID, bytes], bytes]) -> DomainEventProtocol[UUID]:
        originator_id = stored_event.originator_id
        if not isinstance(originator_id, UUID):
            originator_id = UUID(str(originator_id))
        try:
            cls = resolve_topic(stored_event.topic)
            data = decrypt(originator_id, stored_event.state)
            class_version = getattr(cls, "class_version", 1)
            try:
                payload = msgspec.structs.asdict(_decoder(cls).decode(data))
                from_version = payload.pop("class_version")
            except msgspec.ValidationError:
                if class_version == 1:
                    raise
                from_version = 0  # stored in an earlier shape: read and upcast below
            if from_version < class_version:
                raw = msgspec.json.decode(data)
                from_version = raw.pop("class_version", 1)
                while from_version < class_version:
                    getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(raw)
                    from_version += 1
                payload = msgspec.structs.asdict(msgspec.convert(raw, _payload_type(cls)))
                payload.pop("class_version")
        except (MapperDeserialisationError, PayloadUnavailable):
            raise
        except Exception as e:
            msg = (
                f"stored event {stored_event.originator_version} of {originator_id}"
                f" ({stored_event.topic}) cannot be decoded: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        payload["originator_id"] = originator_id
        payload["originator_version"] = stored_event.originator_version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", payload)
        return typing.cast(DomainEventProtocol[UUID], event)
