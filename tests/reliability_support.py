"""What the reliability tests share: scratch PostgreSQL databases, `trajectory serve` and
`trajectory projections run` as real processes, a load of HTTP writers that remember what
was acknowledged, a TCP proxy that takes "the database" away, and the checks that follow
a fault: every acknowledged write present exactly once, no unacknowledged write
half-present, every hash chain intact, read models equal to a rebuild.

Each write carries a marker (its idempotency key) in a free-text field, so that its events
are found by content as well as through the idempotency table.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from tests.builders import intake
from tests.conftest import MASTER_KEY
from tests.live import free_port
from tests.projection_support import contents
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import TrajectoryOpened
from trajectory.aggregates.events.quality import SignalRecorded
from trajectory.application import Actor, TrajectoryApplication
from trajectory.identity.users import UserStore
from trajectory.projections import setup_projections
from trajectory.settings import Settings
from trajectory.verify import verify_store

FIGURES: list[str] = []
"""Figures the reliability tests measured; the run prints them at its end (conftest)."""

ORG = "Stichting Betrouwbaar"
INTAKE: dict[str, Any] = {
    "intake_date": "2026-01-05",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "police",
    "legal_framework": "ots",
    "identity": {"name": "Load Meisje", "date_of_birth": "2010-05-05", "home_region": "Utrecht"},
}


def figure(line: str) -> None:
    print(line)
    FIGURES.append(line)


# -- stores ---------------------------------------------------------------------------------
@contextmanager
def scratch_database(server_url: str, tag: str) -> Iterator[str]:
    """A database of its own on the test server (made here, dropped afterwards), so that
    faults and settings never touch the shared one."""
    name = f"trajectory_{tag}_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def with_port(database_url: str, port: int) -> str:
    """The same PostgreSQL URL, through another port (a proxy's)."""
    parts = urlsplit(database_url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{port}"))


@dataclass(frozen=True)
class Prepared:
    """A store made ready for a load: tables, coordinators with tokens, trajectories."""

    database_url: str
    users: list[tuple[str, str]]  # (user id, token)
    trajectories: list[str]


def prepare_store(database_url: str, *, users: int = 2, trajectories: int = 8) -> Prepared:
    """What `trajectory init` and `trajectory users add` do, done once before the servers
    start; plus some trajectories for the writers to record facts on."""
    app = TrajectoryApplication(Settings(database_url=database_url, master_key=MASTER_KEY))
    try:
        setup_projections(app)
        store = UserStore(app.db)
        made = []
        for n in range(users):
            user, token = store.add(
                name=f"load-{n}", role="coordinator", organisation=ORG, now=app.clock(),
                user_id=f"load-{n}",
            )
            made.append((user.user_id, token))
        actor = Actor(user_id=made[0][0], role="coordinator", organisation=ORG)
        ids = [str(app.open_trajectory(intake(), actor).trajectory_id) for _ in range(trajectories)]
    finally:
        app.close()
    return Prepared(database_url, made, ids)


def open_app(database_url: str) -> TrajectoryApplication:
    return TrajectoryApplication(
        Settings(database_url=database_url, master_key=MASTER_KEY), create_tables=False
    )


# -- processes ------------------------------------------------------------------------------
def server_env(database_url: str, *, port: int, **settings: str) -> dict[str, str]:
    """The environment of a `trajectory` process: ours, without any TRAJECTORY_* of the
    caller's, plus the store, the run's master key and the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAJECTORY_")}
    env.update(
        {
            "TRAJECTORY_DATABASE_URL": database_url,
            "TRAJECTORY_MASTER_KEY": MASTER_KEY,
            "TRAJECTORY_PORT": str(port),
            "TRAJECTORY_LOG_LEVEL": "info",
        }
    )
    env.update({f"TRAJECTORY_{name.upper()}": value for name, value in settings.items()})
    return env


class Process:
    """`python -m trajectory ARGS` as a child of this test, its output in a log file."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log_path: Path):
        self.args = list(args)
        self.env = env
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.popen is None or self.popen.poll() is not None, "already running"
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "trajectory", *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then SIGKILL if it does not end in time; returns the exit code."""
        if self.popen is None or self.popen.poll() is not None:
            return self.popen.returncode if self.popen else 0
        self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)
            raise

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_events(self) -> list[dict[str, Any]]:
        """The JSON log lines of every run of this process so far."""
        events = []
        for line in self.output().splitlines():
            with suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    events.append(parsed)
        return events


class Server(Process):
    """`trajectory serve` on a port of its own."""

    def __init__(self, database_url: str, log_path: Path, **settings: str):
        self.port = free_port()
        super().__init__(["serve"], server_env(database_url, port=self.port, **settings), log_path)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_and_wait(self, timeout: float = 30) -> float:
        """Start and wait until /health answers 200; returns the seconds it took."""
        started = time.monotonic()
        self.start()
        self.wait_ready(timeout)
        return time.monotonic() - started

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"the server exited:\n{self.output()[-3000:]}")
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the server did not become ready:\n{self.output()[-3000:]}")

    def health(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base_url}/health", timeout=10)
        body: dict[str, Any] = answer.json()
        return body

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until /health reports no read model behind the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(p["lag"] == 0 for p in self.health()["projections"]):
                return
            time.sleep(0.1)
        raise AssertionError(f"read models still behind: {self.health()}")


@contextmanager
def running(*processes: Process) -> Iterator[None]:
    """Stop (or at last kill) every process on the way out, whatever happened."""
    try:
        yield
    finally:
        for p in processes:
            if p.running:
                with suppress(subprocess.TimeoutExpired):
                    p.stop(timeout=15)


# -- load -------------------------------------------------------------------------------------
@dataclass
class Write:
    """One write, perhaps sent several times with its idempotency key."""

    key: str
    user_id: str
    kind: str  # "open" or "signal"
    trajectory_id: str | None
    tries: list[str] = field(default_factory=list)
    acknowledged: bool = False
    acknowledged_at: float | None = None


@dataclass(frozen=True)
class Answer:
    """A failed answer as the client saw it (not 201)."""

    status: int
    seconds: float
    content_type: str
    text: str


class Load:
    """Writer threads over HTTP: each opens trajectories now and then and records quality
    signals on its own ones, every request with an Idempotency-Key. A write that got no
    answer or a 503 is retried with the same key (or, now and then, abandoned: its fate is
    then unknown to the client, which is what a crash leaves behind)."""

    def __init__(
        self,
        urls: Sequence[str],
        prepared: Prepared,
        *,
        writers: int,
        seed: int,
        tag: str,
        open_rate: float = 0.15,
        abandon_rate: float = 0.3,
        retry_for: float = 20.0,
        request_timeout: float = 15.0,
    ):
        self.urls = list(urls)
        self.prepared = prepared
        self.writers = writers
        self.seed = seed
        self.tag = tag
        self.open_rate = open_rate
        self.abandon_rate = abandon_rate
        self.retry_for = retry_for
        self.request_timeout = request_timeout
        self.writes: list[Write] = []
        self.failures: list[Answer] = []
        self.statuses: Counter[str] = Counter()
        self.timings: list[tuple[float, float, str]] = []
        """(sent at, seconds, outcome) of every try."""
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.started_at = 0.0
        self.stopped_at = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        for n in range(self.writers):
            thread = threading.Thread(target=self._writer, args=(n,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=self.request_timeout + 10)
        self.stopped_at = time.monotonic()
        assert not any(t.is_alive() for t in self._threads), "a writer hangs"

    def run_for(self, seconds: float) -> None:
        self.start()
        time.sleep(seconds)
        self.stop()

    @property
    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes if w.acknowledged]

    def _writer(self, n: int) -> None:
        rng = random.Random(f"{self.seed}:{n}")
        user_id, token = self.prepared.users[n % len(self.prepared.users)]
        own = list(self.prepared.trajectories[n :: self.writers])
        url = self.urls[n % len(self.urls)]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=self.request_timeout) as client:
            count = 0
            while not self.stop_event.is_set():
                count += 1
                key = f"{self.tag}-{n}-{count}"
                if not own or rng.random() < self.open_rate:
                    write = Write(key, user_id, "open", None)
                    # (each girl her own name: one name and birth date twice in care
                    # is a possible duplicate intake, refused without a reason)
                    path, body = "/trajectories", {
                        **INTAKE, "referral_source": key,
                        "identity": {**INTAKE["identity"], "name": f"Load Meisje {key}"}}
                else:
                    tid = rng.choice(own)
                    write = Write(key, user_id, "signal", tid)
                    path = f"/trajectories/{tid}/signals"
                    body = {"kind": "loverboy", "note": key}
                with self._lock:
                    self.writes.append(write)
                created = self._send(client, rng, write, path, body)
                if created is not None:
                    own.append(created)

    def _send(
        self,
        client: httpx.Client,
        rng: random.Random,
        write: Write,
        path: str,
        body: dict[str, Any],
    ) -> str | None:
        first = time.monotonic()
        while True:
            sent = time.monotonic()
            answer: httpx.Response | None = None
            try:
                answer = client.post(path, json=body, headers={"Idempotency-Key": write.key})
                outcome = str(answer.status_code)
            except httpx.TransportError as e:
                outcome = type(e).__name__
            seconds = time.monotonic() - sent
            with self._lock:
                self.timings.append((sent, seconds, outcome))
            if answer is not None and answer.status_code == 201:
                write.tries.append(outcome)
                write.acknowledged = True
                write.acknowledged_at = time.monotonic()
                with self._lock:
                    self.statuses[outcome] += 1
                created: str | None = answer.json()["id"] if write.kind == "open" else None
                return created
            if answer is not None:
                failed = Answer(
                    answer.status_code,
                    seconds,
                    answer.headers.get("content-type", ""),
                    answer.text[:2000],
                )
                with self._lock:
                    self.failures.append(failed)
            write.tries.append(outcome)
            with self._lock:
                self.statuses[outcome] += 1
            retryable = outcome == "503" or not outcome.isdigit()
            if not retryable or self.stop_event.is_set():
                return None
            if len(write.tries) == 1 and rng.random() < self.abandon_rate:
                return None  # the client gives up: whether it was recorded, it cannot know
            if time.monotonic() - first > self.retry_for:
                return None
            time.sleep(rng.uniform(0.05, 0.2))


# -- checks -----------------------------------------------------------------------------------
def marker_of(event: TrajectoryEvent) -> str | None:
    if isinstance(event, TrajectoryOpened):
        return event.referral_source
    if isinstance(event, SignalRecorded):
        return event.note
    return None


@dataclass(frozen=True)
class StoreCheck:
    acknowledged: int
    present: int
    unacknowledged: int
    unacknowledged_recorded: int
    trajectories: int
    events: int

    def line(self, what: str) -> str:
        return (
            f"{what}: acknowledged {self.acknowledged}, present {self.present};"
            f" unacknowledged {self.unacknowledged} (recorded {self.unacknowledged_recorded},"
            f" none half); {self.trajectories} trajectories, {self.events} events verified"
        )


def check_store(app: TrajectoryApplication, writes: Sequence[Write], tag: str) -> StoreCheck:
    """Every acknowledged write present exactly once (by content and by its idempotency
    record); an unacknowledged one either wholly there or wholly absent; every chain and
    every index row (version and head) verified."""
    found: Counter[str] = Counter()
    for trajectory_id in app.stored_trajectory_ids():
        for event in app.stream(trajectory_id):
            marker = marker_of(event)
            if marker is not None and marker.startswith(f"{tag}-"):
                found[marker] += 1
    records = {
        (str(r["user_id"]), str(r["idem_key"]))
        for r in app.db.fetchall("SELECT user_id, idem_key FROM idempotency")
    }
    problems: list[str] = []
    known = {w.key for w in writes}
    problems += [f"{m}: recorded but never sent" for m in found if m not in known]
    problems += [f"{m}: recorded {n} times" for m, n in found.items() if n > 1]
    present = recorded = 0
    for w in writes:
        events, record = found.get(w.key, 0), (w.user_id, w.key) in records
        if w.acknowledged:
            if events == 1 and record:
                present += 1
            else:
                problems.append(f"{w.key} acknowledged: {events} events, record {record}")
        elif events != int(record):
            problems.append(f"{w.key} half-present: {events} events, record {record} {w.tries}")
        else:
            recorded += events
    report = verify_store(app)
    problems += [str(f) for f in report.findings]
    assert not problems, "\n".join(problems[:50])
    acknowledged = sum(w.acknowledged for w in writes)
    return StoreCheck(
        acknowledged=acknowledged,
        present=present,
        unacknowledged=len(writes) - acknowledged,
        unacknowledged_recorded=recorded,
        trajectories=report.trajectories,
        events=report.events,
    )


def assert_read_models_equal_a_rebuild(app: TrajectoryApplication) -> int:
    """The read models as the processes left them (caught up) equal a rebuild of the log
    into the same tables; returns the events the rebuild applied."""
    runner = setup_projections(app, create_tables=False)
    head = app.recorder.max_notification_id() or 0
    positions = runner.positions()
    assert set(positions.values()) == {head}, (positions, head)
    before = contents(app, runner)
    applied = runner.rebuild()
    after = contents(app, runner)
    assert after == before, [t for t in before if before[t] != after.get(t)]
    return applied


# -- a database that goes away ----------------------------------------------------------------
class TcpProxy:
    """127.0.0.1:<port> forwarding to the database server. `cut()` is the database going
    down for the app (every connection dropped, new ones refused: the port is closed);
    `restore()` is it coming back on the same port. The shared server itself never stops.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.connections = 0

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets: socket.socket) -> None:
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                s.close()
            with self._lock:
                self._sockets.discard(s)

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown() first: a close() alone leaves a thread blocked in accept() accepting
            with suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        self._drop(*sockets)

    def restore(self) -> None:
        self.start()

    def close(self) -> None:
        self.cut()
