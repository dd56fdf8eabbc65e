"""The API over real HTTP: a server process, keep-alive clients, and what they measure.

The server runs in its own process (`bench.server`: `trajectory serve` plus an empty
endpoint), so that the clients of the benchmark do not share its interpreter lock. Every
request goes over TCP with a keep-alive `httpx.Client`, authenticated with a bearer token.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pyotp
from tests.builders import intake

from trajectory.aggregates.events.intake import Identity
from trajectory.commands import RecordSignal
from trajectory.composition import build_application
from trajectory.identity.credentials import Credentials
from trajectory.identity.users import UserStore
from trajectory.settings import Settings

ORGANISATION = "bench-org"
PASSWORD = "een lang genoeg wachtwoord voor de bench"
SIGNAL = msgspec.json.encode(RecordSignal(kind="loverboy", note="a short note of ordinary length"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(url: str, key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRAJECTORY_DATABASE_URL=url,
        TRAJECTORY_MASTER_KEY=key,
        TRAJECTORY_LOG_LEVEL="info",
        PYTHONPATH=os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")])),
    )
    return env


@dataclass(frozen=True)
class Coordinator:
    """The benchmark's coordinator: a token for the API, a password and a TOTP secret for
    the sign-in pages."""

    name: str
    token: str
    password: str
    totp_secret: str


def prepare_coordinator(url: str, key: str) -> Coordinator:
    """Create every table once (as `trajectory init` does) and a coordinator who can use
    both the API and the pages."""
    app = build_application(Settings(database_url=url, master_key=key))
    try:
        name = f"bench-{time.monotonic_ns()}"
        user, token = UserStore(app.db).add(
            name=name, role="coordinator", organisation=ORGANISATION, now=app.clock()
        )
        secret = pyotp.random_base32()
        credentials = Credentials(app.db, app.keys)
        credentials.set_password(user.user_id, PASSWORD)
        credentials.save_totp(user.user_id, secret)
    finally:
        app.close()
    return Coordinator(name=name, token=token, password=PASSWORD, totp_secret=secret)


def prepare_store(url: str, key: str) -> str:
    """Create every table once and a coordinator; her token."""
    return prepare_coordinator(url, key).token


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    ready_seconds: float

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds from now until GET /health answers 200."""
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if client.get("/health").status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the server did not become ready")
            time.sleep(0.005)


@contextmanager
def server(
    url: str, key: str, log: Path, *, module: Sequence[str] = ("bench.server",),
    env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """A server process on a free port; `module` is what `python -m` runs (`env`: settings
    beside the store's and the key's)."""
    port = free_port()
    command = [sys.executable, "-m", *module, "--port", str(port)]
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env={**server_env(url, key), **(env or {})},
                                   stdout=out, stderr=out)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        ready = time.perf_counter() - started
        yield Server(f"http://127.0.0.1:{port}", process, ready)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this bench started: asked first, killed after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def startup_seconds(url: str, key: str, log: Path, runs: int) -> list[float]:
    """`trajectory serve` from process start to the first 200 of /health, `runs` times."""
    out = []
    for _ in range(runs):
        with server(url, key, log, module=("trajectory", "serve")) as s:
            out.append(s.ready_seconds)
    return out


def ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}:"
            f" {response.status_code} {response.text[:300]}"
        )
    return response


def open_trajectories(
    client: httpx.Client, n: int, *, intake_date: date | None = None, name: str = "Bench Meisje"
) -> list[str]:
    # (each girl her own name: the same name and birth date twice in care is a possible
    # duplicate intake, refused without a reason)
    # (and across calls: a run opens girls several times in one store)
    headers = {"Content-Type": "application/json"}
    dated = {} if intake_date is None else {"intake_date": intake_date}
    return [
        str(ok(client.post("/trajectories", headers=headers, content=msgspec.json.encode(
            intake(identity=Identity(name=f"{name} {next(_girls)}",
                                     date_of_birth=date(2010, 4, 1),
                                     home_region="Utrecht"), **dated)))).json()["id"])
        for _ in range(n)
    ]


_girls = itertools.count()


def command(client: httpx.Client, trajectory_id: str) -> None:
    ok(
        client.post(
            f"/trajectories/{trajectory_id}/signals",
            content=SIGNAL,
            headers={"Content-Type": "application/json"},
        )
    )


def grow(client: httpx.Client, trajectory_id: str, events: int) -> None:
    """Record signals until the trajectory holds `events` events."""
    version = int(ok(client.get(f"/trajectories/{trajectory_id}")).json()["version"])
    for _ in range(events - version):
        command(client, trajectory_id)


def settle(client: httpx.Client, timeout: float = 120) -> None:
    """Wait until the server's read models have applied the whole log (`/health` lag 0):
    the in-process runner catching up with a burst of writes would otherwise share the
    CPU with what is measured next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lags = [p["lag"] for p in ok(client.get("/health")).json()["projections"]]
        if not any(lags):
            return
        time.sleep(0.05)
    raise RuntimeError("the read models did not catch up")


def command_latency(client: httpx.Client, ids: Sequence[str], commands: int) -> list[float]:
    """Milliseconds per command over HTTP, round-robin over `ids`."""
    for i in range(20):
        command(client, ids[i % len(ids)])
    out = []
    for i in range(commands):
        began = time.perf_counter()
        command(client, ids[i % len(ids)])
        out.append((time.perf_counter() - began) * 1000)
    return out


def pages(
    client: httpx.Client,
    paths: Sequence[str],
    repeat: int,
    *,
    via: Mapping[str, httpx.Client] | None = None,
) -> dict[str, list[float]]:
    """Milliseconds per GET of each path, the paths taken in turn (so drift hits all);
    `via`: another client for some paths (a signed-in browser for the pages)."""
    def of(path: str) -> httpx.Client:
        return (via or {}).get(path, client)

    for path in paths:
        for _ in range(10):
            ok(of(path).get(path))
    out: dict[str, list[float]] = {p: [] for p in paths}
    for _ in range(repeat):
        for path in paths:
            asker = of(path)
            began = time.perf_counter()
            ok(asker.get(path))
            out[path].append((time.perf_counter() - began) * 1000)
    return out


def concurrent_writes(s: Server, token: str, ids: Sequence[str], seconds: float) -> dict[str, Any]:
    """One keep-alive client per trajectory, all writing at once for `seconds`."""
    threads = len(ids)
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def writer(i: int) -> None:
        with s.client(token) as client:
            command(client, ids[i])
            start.wait()
            try:
                while not stop.is_set():
                    began = time.perf_counter()
                    command(client, ids[i])
                    latencies[i].append((time.perf_counter() - began) * 1000)
                    counts[i] += 1
            except BaseException as e:  # reported, not swallowed
                errors.append(e)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return {
        "events": sum(counts),
        "seconds": round(elapsed, 2),
        "events_per_s": round(sum(counts) / elapsed, 1),
        "latencies": [x for xs in latencies for x in xs],
    }
