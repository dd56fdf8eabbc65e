"""The phase protocol: versioned data (TOML) and pure rules evaluated against state."""

from trajectory.protocol.loader import ProtocolError, default_protocol, load_protocol
from trajectory.protocol.model import Protocol

__all__ = ["Protocol", "ProtocolError", "default_protocol", "load_protocol"]
