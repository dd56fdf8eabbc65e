"""The phase protocol: versioned data (TOML) and pure rules evaluated against state."""

from trajectory.protocol.loader import ProtocolError, default_protocol, load_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol.registry import (
    ProtocolRegistry,
    ProtocolRegistryError,
    registry_from_settings,
)

__all__ = [
    "Protocol",
    "ProtocolError",
    "ProtocolRegistry",
    "ProtocolRegistryError",
    "default_protocol",
    "load_protocol",
    "registry_from_settings",
]
