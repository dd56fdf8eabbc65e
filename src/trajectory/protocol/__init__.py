"""The phase protocol: versioned data (TOML) and pure rules evaluated against state."""

from trajectory.protocol.loader import (
    ProtocolError,
    ambulatory_protocol,
    default_protocol,
    load_protocol,
)
from trajectory.protocol.model import Protocol
from trajectory.protocol.registry import (
    ProtocolRegistry,
    ProtocolRegistryError,
    registry_from_settings,
    shipped_registry,
)

__all__ = [
    "Protocol",
    "ProtocolError",
    "ProtocolRegistry",
    "ProtocolRegistryError",
    "ambulatory_protocol",
    "default_protocol",
    "load_protocol",
    "registry_from_settings",
    "shipped_registry",
]
