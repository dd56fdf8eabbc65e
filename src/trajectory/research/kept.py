"""Research exports kept on the server (the web page writes them under
TRAJECTORY_EXPORT_DIR), and their destruction when a girl in them is erased.

An erased girl's pseudonymised rows are still personal data: they may not stay behind
in a kept export. Rows cannot be taken out of a published data set without breaking its
manifest (file hashes, counts, root hash), so the whole export is destroyed: every data
file is deleted, and `manifest.json` is replaced by a notice that says when and why, and
which files (with their hashes) were destroyed. The pages then answer 410 for it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from uuid import UUID

import msgspec
import structlog

from trajectory.crypto import KeyRing
from trajectory.persistence.database import Database
from trajectory.research.manifest import MANIFEST, Manifest
from trajectory.research.projects import ProjectError, Pseudonyms, project_secret
from trajectory.settings import Settings, sqlite_path

log = structlog.get_logger("trajectory.research.kept")

DESTROYED_BECAUSE = (
    "A girl in this export was erased (crypto-shredded). Her pseudonymised rows may not"
    " stay on the server, so every file of this export was destroyed."
)


class DestroyedExport(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What `manifest.json` of a destroyed export says instead of the manifest."""

    destroyed: bool = True
    destroyed_at: str
    because: str = DESTROYED_BECAUSE
    project: str
    files_destroyed: dict[str, str]
    """file name -> the SHA-256 it had."""


def export_root(settings: Settings) -> Path:
    """Where the web pages keep exports: TRAJECTORY_EXPORT_DIR, else beside the SQLite
    file, else one folder per system user in this machine's temporary directory."""
    if settings.export_dir:
        return Path(settings.export_dir)
    db_file = sqlite_path(settings.database_url)
    if db_file:
        return Path(db_file + ".exports")
    return Path(tempfile.gettempdir()) / f"trajectory-exports-{os.getuid()}"


def destroyed_notice(directory: Path) -> DestroyedExport | None:
    """The notice of a destroyed export, or None when it is an export still whole."""
    try:
        return msgspec.json.decode((directory / MANIFEST).read_bytes(), type=DestroyedExport)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _kept_exports(root: Path) -> list[tuple[Path, Manifest]]:
    out: list[tuple[Path, Manifest]] = []
    if not root.is_dir():
        return out
    for path in sorted(root.rglob(MANIFEST)):
        try:
            out.append((path.parent, msgspec.json.decode(path.read_bytes(), type=Manifest)))
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            continue  # a destroyed export's notice, or not ours
    return out


def destroy_exports_holding(
    root: Path, keys: KeyRing, db: Database, trajectory_id: UUID, now: datetime
) -> list[Path]:
    """Destroy every kept export under `root` in which she appears; the destroyed ones."""
    destroyed: list[Path] = []
    pseudonyms: dict[str, str | None] = {}
    for directory, manifest in _kept_exports(root):
        project = manifest.parameters.project
        if project not in pseudonyms:
            try:
                secret, _ = project_secret(keys, db, project, now, create=False)
                pseudonyms[project] = Pseudonyms(secret).girl(trajectory_id)
            except ProjectError:
                pseudonyms[project] = None
        mine = pseudonyms[project]
        if mine is None or not any(head[0] == mine for head in manifest.heads):
            continue
        _destroy(directory, manifest, now)
        destroyed.append(directory)
    if destroyed:
        log.info("kept_exports_destroyed", count=len(destroyed))
    return destroyed


def _destroy(directory: Path, manifest: Manifest, now: datetime) -> None:
    notice = DestroyedExport(
        destroyed_at=now.isoformat(),
        project=manifest.parameters.project,
        files_destroyed={name: entry.sha256 for name, entry in sorted(manifest.files.items())},
    )
    staging = directory / (MANIFEST + ".new")
    staging.write_bytes(msgspec.json.format(msgspec.json.encode(notice)) + b"\n")
    for name in manifest.files:
        with contextlib.suppress(FileNotFoundError):
            (directory / Path(name).name).unlink()
    staging.replace(directory / MANIFEST)
