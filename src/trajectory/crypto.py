"""Encryption at rest: a data key per trajectory, wrapped by a master key.

Every stored event and snapshot payload is sealed with AES-256-GCM under its trajectory's
own data key, with the trajectory id as associated data (a payload moved to another
trajectory does not open). Data keys are stored wrapped by the master key, which never
enters the database. Deleting a trajectory's data key (crypto-shredding) makes its
events and snapshots unreadable everywhere at once, while the rows stay in place.

The stored format is one version byte, a 12-byte nonce, then ciphertext and tag. Never
change the meaning of a version byte; add a new one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trajectory.persistence.database import Database, RowWrite, Transaction
from trajectory.persistence.mapper import PayloadUnavailable

log = structlog.get_logger("trajectory.crypto")

FORMAT_V1 = b"\x01"
_CHECK_PLAINTEXT = b"trajectory master key check v1"


class KeyProblem(Exception):
    """Base of the master-key problems that stop the application at start-up."""


class MasterKeyMismatch(KeyProblem):
    """The configured master key is not the one the store's data keys are wrapped with."""


class MasterKeyUnavailable(KeyProblem):
    """No master key is configured where one is required."""


class TrajectoryErased(PayloadUnavailable):
    """The trajectory was crypto-shredded: its data key no longer exists."""

    def __init__(self, trajectory_id: UUID):
        super().__init__(f"trajectory {trajectory_id} was erased")
        self.trajectory_id = trajectory_id


class RewrappersMissing(KeyProblem):
    """A rotation was asked of a key ring that knows no other wrapped secrets."""


class DataKeyMissing(Exception):
    """A trajectory has events but no data key and no erasure record: tampering."""


class CiphertextTampered(Exception):
    """A sealed payload failed authentication: it was altered."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise MasterKeyUnavailable("a master key is 32 bytes (base64url, 43-44 characters)")

    @property
    def key_id(self) -> str:
        """A fingerprint that names the key without revealing it."""
        return hashlib.sha256(b"trajectory-master-key-id:" + self.key).hexdigest()[:16]

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(AESGCM.generate_key(bit_length=256))

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
        except ValueError:
            raise MasterKeyUnavailable("the master key is not valid base64url") from None
        return cls(raw)

    def to_text(self) -> str:
        return base64.urlsafe_b64encode(self.key).decode().rstrip("=")

    def wrap(self, purpose: bytes, secret: bytes) -> str:
        nonce = os.urandom(12)
        sealed = AESGCM(self.key).encrypt(nonce, secret, purpose)
        return base64.b64encode(FORMAT_V1 + nonce + sealed).decode()

    def unwrap(self, purpose: bytes, wrapped: str) -> bytes:
        raw = base64.b64decode(wrapped)
        if raw[:1] != FORMAT_V1:
            raise MasterKeyMismatch("unknown wrapped-key format")
        try:
            return AESGCM(self.key).decrypt(raw[1:13], raw[13:], purpose)
        except InvalidTag:
            raise MasterKeyMismatch(
                "the master key cannot unwrap the store's keys: it is not the key this"
                " store was encrypted with"
            ) from None


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write a key file readable by its owner only, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.to_text() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_key_file(path: Path) -> MasterKey:
    """The key in `path`, refused when anyone but the file's owner may open the file: a
    key others can read is a key others may have copied, and with a backup it opens
    every girl's file."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise MasterKeyUnavailable(
                f"the master key file {path} can be read by others (mode {mode:04o});"
                f" make it readable by its owner only: chmod 600 {path}"
            )
        return MasterKey.from_text(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MasterKeyUnavailable(
            f"cannot read the master key file {path}: {e.strerror}"
        ) from None


def _purpose(trajectory_id: UUID) -> bytes:
    return b"trajectory-data-key:" + trajectory_id.bytes


Rewrapper = Callable[[Transaction, MasterKey, MasterKey], int]
"""Re-wraps the secrets of one table from the old master key to the new one, in the
rotation's transaction; returns how many it re-wrapped."""


class KeyRing:
    """The data keys of all trajectories: created at intake, unwrapped on use, cached.

    The cache holds unwrapped keys for `ttl` seconds, so that an erasure made by another
    process is honoured within that time; in this process it is honoured at once.
    """

    def __init__(self, db: Database, master: MasterKey, *, ttl: float = 30.0, size: int = 4096):
        self.db = db
        self.master = master
        self.ttl = ttl
        self.size = size
        self._cache: OrderedDict[UUID, tuple[bytes, float]] = OrderedDict()
        self._lock = threading.Lock()
        # What else holds secrets wrapped by the master key registers here (by the
        # composition root, as the read models register their erasure hooks): this module
        # knows nothing of research projects or web sign-in.
        self.rewrappers: list[Rewrapper] = []

    # -- the master key -----------------------------------------------------------
    def check_master(self, now: datetime) -> None:
        """Fail at start-up, not at the first read, when the master key is wrong."""
        row = self.db.fetchone("SELECT master_key_id, check_value FROM key_check WHERE id = 1")
        if row is None:
            with self.db.transaction() as tx:
                tx.write(
                    RowWrite(
                        "key_check",
                        {
                            "id": 1,
                            "master_key_id": self.master.key_id,
                            "check_value": self.master.wrap(b"check", _CHECK_PLAINTEXT),
                            "created_at": now.isoformat(),
                        },
                        ignore_on=("id",),
                    )
                )
            return
        if self.master.unwrap(b"check", str(row["check_value"])) != _CHECK_PLAINTEXT:
            raise MasterKeyMismatch("the master key check failed")

    def store_is_new(self) -> bool:
        return self.db.fetchone("SELECT id FROM key_check WHERE id = 1") is None

    def rotate(self, new: MasterKey, now: datetime) -> int:
        """Re-wrap every data key under `new`, and with the re-wrappers every other secret
        wrapped by the master key, in one transaction. Events are untouched.

        Refused when no re-wrapper is registered: a ring that was not put together by the
        composition root would otherwise leave secrets wrapped by a key about to be
        destroyed."""
        if not self.rewrappers:
            raise RewrappersMissing(
                "no re-wrapper is registered with the key ring: build the application"
                " with trajectory.composition, which registers them"
            )
        with self.db.transaction() as tx:
            rows = tx.fetchall("SELECT trajectory_id, wrapped_key FROM data_keys")
            for row in rows:
                trajectory_id = UUID(str(row["trajectory_id"]))
                secret = self.master.unwrap(_purpose(trajectory_id), str(row["wrapped_key"]))
                tx.execute(
                    "UPDATE data_keys SET wrapped_key = ?, master_key_id = ?"
                    " WHERE trajectory_id = ?",
                    [new.wrap(_purpose(trajectory_id), secret), new.key_id, str(trajectory_id)],
                )
            # Other secrets are wrapped by the master key too (research projects' secrets,
            # users' TOTP secrets): re-wrap them in the same transaction, or a rotation
            # would unlink every project's data sets and lock everyone out of the pages.
            for rewrap in self.rewrappers:
                rewrap(tx, self.master, new)
            tx.execute(
                "UPDATE key_check SET master_key_id = ?, check_value = ?, created_at = ?"
                " WHERE id = 1",
                [new.key_id, new.wrap(b"check", _CHECK_PLAINTEXT), now.isoformat()],
            )
        self.master = new
        return len(rows)

    # -- data keys ------------------------------------------------------------------
    def new_key(self, trajectory_id: UUID, now: datetime) -> RowWrite:
        """A fresh data key for a new trajectory; the row is written with its first event."""
        secret = AESGCM.generate_key(bit_length=256)
        self._remember(trajectory_id, secret)
        return RowWrite(
            "data_keys",
            {
                "trajectory_id": str(trajectory_id),
                "wrapped_key": self.master.wrap(_purpose(trajectory_id), secret),
                "master_key_id": self.master.key_id,
                "created_at": now.isoformat(),
            },
        )

    def key_for(self, trajectory_id: UUID) -> bytes:
        with self._lock:
            cached = self._cache.get(trajectory_id)
            if cached is not None and time.monotonic() - cached[1] < self.ttl:
                self._cache.move_to_end(trajectory_id)
                return cached[0]
        row = self.db.fetchone(
            "SELECT wrapped_key FROM data_keys WHERE trajectory_id = ?", [str(trajectory_id)]
        )
        if row is None:
            self.forget(trajectory_id)
            if self.is_erased(trajectory_id):
                raise TrajectoryErased(trajectory_id)
            raise DataKeyMissing(f"trajectory {trajectory_id} has no data key")
        secret = self.master.unwrap(_purpose(trajectory_id), str(row["wrapped_key"]))
        self._remember(trajectory_id, secret)
        return secret

    PREFETCH_CHUNK = 500

    def prefetch(self, trajectory_ids: Iterable[UUID]) -> None:
        """Unwrap the keys of these trajectories that are not cached yet, a few hundred
        to a statement: reading a page of the log (a rebuild, an export) would otherwise
        fetch them one round trip at a time. Keys that are missing (erased) are left for
        `key_for` to report."""
        now = time.monotonic()
        with self._lock:
            wanted = [
                i
                for i in dict.fromkeys(trajectory_ids)
                if (c := self._cache.get(i)) is None or now - c[1] >= self.ttl
            ]
        wanted = wanted[: self.size]
        for start in range(0, len(wanted), self.PREFETCH_CHUNK):
            chunk = [str(i) for i in wanted[start : start + self.PREFETCH_CHUNK]]
            rows = self.db.fetchall(
                "SELECT trajectory_id, wrapped_key FROM data_keys"
                f" WHERE trajectory_id IN ({', '.join('?' for _ in chunk)})",
                chunk,
            )
            for row in rows:
                trajectory_id = UUID(str(row["trajectory_id"]))
                secret = self.master.unwrap(_purpose(trajectory_id), str(row["wrapped_key"]))
                self._remember(trajectory_id, secret)

    def is_erased(self, trajectory_id: UUID) -> bool:
        return (
            self.db.fetchone(
                "SELECT trajectory_id FROM erasures WHERE trajectory_id = ?", [str(trajectory_id)]
            )
            is not None
        )

    def forget(self, trajectory_id: UUID) -> None:
        with self._lock:
            self._cache.pop(trajectory_id, None)

    def _remember(self, trajectory_id: UUID, secret: bytes) -> None:
        with self._lock:
            self._cache[trajectory_id] = (secret, time.monotonic())
            self._cache.move_to_end(trajectory_id)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)


class TrajectoryCipher:
    """The PayloadCipher of the stored-event mapper: seals with the trajectory's key."""

    def __init__(self, keys: KeyRing):
        self.keys = keys

    def encrypt(self, originator_id: UUID, data: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self.keys.key_for(originator_id)).encrypt(nonce, data, originator_id.bytes)
        return FORMAT_V1 + nonce + sealed

    def opener(self, originator_id: UUID) -> Callable[[UUID, bytes], bytes]:
        """`decrypt` for the payloads of one trajectory read together (the research
        export reads a whole trajectory at a time): its key is looked up once, at the
        first payload, and the cipher made once, not for every event. The same checks;
        the key lives as long as the reading of that one trajectory."""
        opened: list[AESGCM] = []

        def decrypt(trajectory_id: UUID, data: bytes) -> bytes:
            if trajectory_id != originator_id:
                return self.decrypt(trajectory_id, data)
            if data[:1] != FORMAT_V1:
                raise CiphertextTampered("the stored payload is not in a known sealed format")
            if not opened:
                opened.append(AESGCM(self.keys.key_for(originator_id)))
            try:
                return opened[0].decrypt(data[1:13], data[13:], originator_id.bytes)
            except InvalidTag:
                raise CiphertextTampered("the stored payload failed authentication") from None

        return decrypt

    def decrypt(self, originator_id: UUID, data: bytes) -> bytes:
        if data[:1] != FORMAT_V1:
            raise CiphertextTampered("the stored payload is not in a known sealed format")
        key = self.keys.key_for(originator_id)
        try:
            return AESGCM(key).decrypt(data[1:13], data[13:], originator_id.bytes)
        except InvalidTag:
            raise CiphertextTampered("the stored payload failed authentication") from None


def load_master_key(
    *, env_value: str | None, key_file: str | None, default_file: Path | None
) -> tuple[MasterKey, Path | None]:
    """The master key from the environment, a key file, or (development) a local file.

    Returns the key and the file it came from (None when it came from the environment).
    A missing default file is created with a fresh key and a loud warning.
    """
    if env_value:
        return MasterKey.from_text(env_value), None
    if key_file:
        return read_key_file(Path(key_file)), Path(key_file)
    if default_file is None:
        raise MasterKeyUnavailable(
            "set TRAJECTORY_MASTER_KEY or TRAJECTORY_MASTER_KEY_FILE: PostgreSQL stores"
            " need a master key supplied by the operator"
        )
    if default_file.exists():
        return read_key_file(default_file), default_file
    key = MasterKey.generate()
    write_key_file(default_file, key)
    log.warning(
        "master_key_generated",
        key_id=key.key_id,
        advice="development only: production must supply its own master key"
        " (TRAJECTORY_MASTER_KEY_FILE) and keep a backup of it",
    )
    return key, default_file
