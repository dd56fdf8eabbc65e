"""A place to write a file's bytes that hashes and counts them as they pass."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO


class Sink:
    """Bytes to a file (or nowhere, for the verifier), hashed and counted as they pass."""

    def __init__(self, path: Path | None):
        self.path = path
        self._file: BinaryIO | None = path.open("wb") if path is not None else None
        self._sha = hashlib.sha256()
        self.size = 0
        self._buffer: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes) -> None:
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= 1 << 16:
            self._flush()

    def _flush(self) -> None:
        data = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        self._sha.update(data)
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)

    def close(self) -> str:
        """Close the file; the SHA-256 of everything written."""
        self._flush()
        if self._file is not None:
            self._file.close()
            self._file = None
        return self._sha.hexdigest()

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
