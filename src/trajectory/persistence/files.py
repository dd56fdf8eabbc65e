"""The store's own files are its owner's alone.

An SQLite store holds the users (password hashes, token hashes, wrapped TOTP secrets), the
web sessions, the access log and the readable index: nobody but the service may read it.
SQLite creates its `-wal` and `-shm` files with the mode of the database file, so the
database file is made (or tightened to) 0600 before SQLite opens it; files already beside
it are tightened too. Research exports are written the same way (`owner_only_tree`).
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def secure_sqlite_store(path: str | Path) -> None:
    """Create the SQLite file readable by its owner only, or tighten it and its
    companions (`-wal`, `-shm`) when others could read them."""
    database = Path(path)
    if not database.exists() and database.absolute().parent.is_dir():
        # (A missing directory is left for SQLite to report, as a store that cannot be used.)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, OWNER_ONLY))
    for file in (database, *(Path(f"{database}{s}") for s in SQLITE_COMPANIONS)):
        tighten(file)


def tighten(file: Path, mode: int = OWNER_ONLY) -> None:
    """Take every right of the group and of others away from `file` (if it exists)."""
    try:
        current = file.stat().st_mode & 0o777
    except FileNotFoundError:
        return
    if current & 0o077:
        file.chmod(current & mode)


def owner_only_tree(directory: Path) -> None:
    """A directory and everything in it, readable by its owner only."""
    directory.chmod(OWNER_ONLY_DIR)
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            (Path(root) / name).chmod(OWNER_ONLY_DIR)
        for name in files:
            (Path(root) / name).chmod(OWNER_ONLY)
