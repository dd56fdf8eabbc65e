"""The protocols an installation knows, by (name, version); one is current for new intakes.

A trajectory stays under the protocol it was opened with: its rules must not change
under it when an organisation installs a new version.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from trajectory.protocol.loader import ProtocolError, default_protocol, load_protocol
from trajectory.protocol.model import Protocol

if TYPE_CHECKING:
    from trajectory.settings import Settings


class ProtocolRegistryError(LookupError):
    pass


class ProtocolRegistry:
    def __init__(self, current: Protocol, *others: Protocol):
        self.current = current
        self._known = {(p.name, p.version): p for p in (*others, current)}

    def get(self, name: str, version: str) -> Protocol:
        try:
            return self._known[(name, version)]
        except KeyError:
            raise ProtocolRegistryError(
                f"protocol {name} {version} is not installed; load its file to continue"
            ) from None

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self._known.values())


def registry_from_settings(settings: Settings) -> ProtocolRegistry:
    """The default protocol, plus the organisation's own file (current) when configured."""
    default = default_protocol()
    if settings.protocol_file is None:
        return ProtocolRegistry(default)
    try:
        own = load_protocol(Path(settings.protocol_file))
    except ProtocolError as e:
        raise ProtocolRegistryError(f"TRAJECTORY_PROTOCOL_FILE: {e}") from None
    return ProtocolRegistry(own, default)
