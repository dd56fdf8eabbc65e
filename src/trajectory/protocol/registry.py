"""The protocols an installation knows, by (name, version); per intake setting, the one a
new trajectory is opened under.

A trajectory stays under the protocol it was opened with (its name and version are in
`TrajectoryOpened`): its rules must not change under it when an organisation installs a
new version, or when another protocol becomes the one for her setting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trajectory.protocol.loader import (
    ProtocolError,
    ambulatory_protocol,
    default_protocol,
    load_protocol,
)
from trajectory.protocol.model import Protocol

if TYPE_CHECKING:
    from trajectory.aggregates.vocabulary import Setting
    from trajectory.settings import Settings


class ProtocolRegistryError(LookupError):
    pass


class ProtocolRegistry:
    """`current`: for every setting no other protocol names; `by_setting`: protocols that
    name their settings (`[protocol] settings`), the first naming one wins; `others`:
    older versions, known so that trajectories opened under them keep them."""

    def __init__(
        self, current: Protocol, *others: Protocol, by_setting: Sequence[Protocol] = ()
    ):
        self.current = current
        self._by_setting = tuple(by_setting)
        self._known = {(p.name, p.version): p for p in (*others, *self._by_setting, current)}

    def for_setting(self, setting: Setting) -> Protocol:
        """The protocol a girl taken in with `setting` is opened under."""
        for protocol in (self.current, *self._by_setting):
            if setting in protocol.protocol.settings:
                return protocol
        return self.current

    def get(self, name: str, version: str) -> Protocol:
        try:
            return self._known[(name, version)]
        except KeyError:
            raise ProtocolRegistryError(
                f"protocol {name} {version} is not installed; load its file to continue"
            ) from None

    def __iter__(self) -> Iterator[Protocol]:
        return iter(self._known.values())


def shipped_registry() -> ProtocolRegistry:
    """The protocols that ship with the package: residential (current) and ambulatory."""
    return ProtocolRegistry(default_protocol(), by_setting=(ambulatory_protocol(),))


def registry_from_settings(settings: Settings) -> ProtocolRegistry:
    """The shipped protocols, plus the organisation's own files when configured
    (`TRAJECTORY_PROTOCOL_FILE`, several separated by the path separator, `:`): the first
    is current, for every setting no other protocol names; each further file is for the
    settings it names (`[protocol] settings`), and must name one. The shipped ambulatory
    protocol stays the one for ambulatory girls unless an own file names that setting."""
    if settings.protocol_file is None:
        return shipped_registry()
    own: list[Protocol] = []
    for index, name in enumerate(p for p in settings.protocol_file.split(os.pathsep) if p):
        try:
            protocol = load_protocol(Path(name))
        except ProtocolError as e:
            raise ProtocolRegistryError(f"TRAJECTORY_PROTOCOL_FILE: {e}") from None
        if index > 0 and not protocol.protocol.settings:
            raise ProtocolRegistryError(
                f"TRAJECTORY_PROTOCOL_FILE: {name}: [protocol] settings: a protocol after"
                " the first is for the settings it names, and names none"
            )
        own.append(protocol)
    if not own:
        return shipped_registry()
    return ProtocolRegistry(
        own[0], default_protocol(), by_setting=(*own[1:], ambulatory_protocol())
    )
