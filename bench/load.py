"""A realistic load: coordinators and aftercare workers doing a day's work, at once.

The demo's organisations (`trajectory.demo`: three organisations of two teams each, their
girls, an aftercare worker per region) in a scratch store, one `trajectory serve` process
(`bench.server`: the in-process projection runner keeps the read models current) on
loopback, and simulated users, each in her own thread with her own keep-alive client and
bearer token, working until the time is up:

- a coordinator (a user of her own, a member of one of her organisation's teams) opens her
  caseload, opens a girl of it, reads her history, records a fact (a quality signal) on a
  girl in care, and looks at this week's items (her caseload's overdue ones);
- an aftercare worker (the demo's, per region: several simulated people share one
  worker's token) opens the girls handed over to her, one girl's handover view (her
  summary and history are the coordinators': 403 to aftercare), and the girls out of view.

Between steps each thinks (an exponential pause, `--think` seconds on average). The run
reports per route p50/p95/p99 and count, the errors (any answer of 400 or more, any
failed connection: there must be none), the requests per second, and the server's CPU
time per request (its user + system time from /proc, over the whole run).

    .venv/bin/python -m bench.load                       # 50 users, 5 minutes, SQLite
    .venv/bin/python -m bench.load --postgres --users 50 --seconds 300
    .venv/bin/python -m bench.load --postgres --workers 2   # + `trajectory projections run`
    .venv/bin/python -m bench.load --users 10 --seconds 30 --think 0.2 --girls 12  # short

`tests/test_bench_load.py` runs the short form on both stores and asserts zero errors.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.common import postgres_database, record, summary
from bench.http import server, server_env, stop
from trajectory.commands import RecordSignal
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.demo import AFTERCARE_WORKERS, ORGANISATIONS, TEAMS, run_demo
from trajectory.identity.teams import Teams
from trajectory.identity.users import UserStore
from trajectory.logs import configure_logging
from trajectory.settings import Settings

AFTERCARE_SHARE = 0.2
"""The part of the users who are aftercare workers."""

SIGNAL = msgspec.json.encode(RecordSignal(kind="loverboy", note="seen on the daily round"))
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class User:
    role: str
    token: str


@dataclass
class Tally:
    """What every simulated user saw, by route template (thread-safe)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, route: str, ms: float, problem: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(route, []).append(ms)
            if problem is not None:
                self.errors.append(f"{route}: {problem}")


def prepare(url: str, key: str, *, users: int, girls: int, seed: int) -> list[User]:
    """The demo's organisations with `girls` girls, and the users' tokens."""
    app = build_application(Settings(database_url=url, master_key=key))
    try:
        run_demo(app, count=girls, seed=seed, progress=lambda done, total: None)
        store, teams, now = UserStore(app.db), Teams(app.db), app.clock()
        aftercare = max(1, round(users * AFTERCARE_SHARE)) if users > 1 else 0
        out: list[User] = []
        for n in range(users - aftercare):
            organisation = ORGANISATIONS[n % len(ORGANISATIONS)]
            team_id, _ = TEAMS[organisation][(n // len(ORGANISATIONS)) % 2]
            added, token = store.add(name=f"load-coordinator-{n}", role="coordinator",
                                     organisation=organisation, now=now)
            teams.add_member(team_id, added.user_id, by="load", now=now)
            out.append(User("coordinator", token))
        worker_tokens = []
        for worker in AFTERCARE_WORKERS:
            enrolled = store.by_id(worker.user_id)
            assert enrolled is not None
            worker_tokens.append(store.reissue(enrolled.name, now))
        out += [User("aftercare", worker_tokens[n % len(worker_tokens)])
                for n in range(aftercare)]
        return out
    finally:
        app.close()


class Session:
    """One simulated user's day, request after request with think times."""

    def __init__(self, base_url: str, user: User, tally: Tally, think: float, seed: int):
        self.client = httpx.Client(base_url=base_url, timeout=60,
                                   headers={"Authorization": f"Bearer {user.token}"})
        self.user, self.tally, self.think = user, tally, think
        self.rng = random.Random(seed)

    def ask(self, method: str, route: str, path: str, **kwargs: Any) -> Any:
        began = time.perf_counter()
        problem = None
        body: Any = None
        try:
            answer = self.client.request(method, path, **kwargs)
            if answer.status_code >= 400:
                problem = f"{answer.status_code} {answer.text[:200]}"
            elif answer.headers.get("content-type", "").startswith("application/json"):
                body = answer.json()
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"
        self.tally.add(f"{method} {route}", (time.perf_counter() - began) * 1000, problem)
        return body

    def pause(self, until: float) -> None:
        time.sleep(max(0.0, min(self.rng.expovariate(1 / self.think) if self.think else 0,
                                until - time.monotonic())))

    def girls(self, listing: Any, *, in_care: bool = False) -> list[str]:
        items = (listing or {}).get("items", [])
        return [i["id"] for i in items
                if not in_care or i.get("status") == "in_care"]

    def coordinator_round(self, until: float) -> None:
        listing = self.ask("GET", "/trajectories", "/trajectories?limit=50")
        self.pause(until)
        girls = self.girls(listing)
        if girls:
            tid = self.rng.choice(girls)
            self.ask("GET", "/trajectories/{id}", f"/trajectories/{tid}")
            self.pause(until)
            self.ask("GET", "/trajectories/{id}/events", f"/trajectories/{tid}/events")
            self.pause(until)
        in_care = self.girls(listing, in_care=True)
        if in_care:
            tid = self.rng.choice(in_care)
            self.ask("POST", "/trajectories/{id}/signals", f"/trajectories/{tid}/signals",
                     content=SIGNAL, headers=JSON)
            self.pause(until)
        self.ask("GET", "/trajectories?overdue=true", "/trajectories?overdue=true&limit=50")
        self.pause(until)

    def aftercare_round(self, until: float) -> None:
        listing = self.ask("GET", "/trajectories (handed over)", "/trajectories")
        self.pause(until)
        girls = self.girls(listing)
        if girls:
            tid = self.rng.choice(girls)
            self.ask("GET", "/trajectories/{id}/handover", f"/trajectories/{tid}/handover")
            self.pause(until)
        self.ask("GET", "/out-of-view", "/out-of-view")
        self.pause(until)

    def run(self, until: float) -> None:
        with self.client:
            try:
                while time.monotonic() < until:
                    if self.user.role == "coordinator":
                        self.coordinator_round(until)
                    else:
                        self.aftercare_round(until)
            except Exception as e:  # a user who stopped early is an error of the run
                self.tally.add("(session)", 0.0, f"{type(e).__name__}: {e}")


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its living descendants (uvicorn's workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0.0
    for member in tree:
        with contextlib.suppress(OSError):
            total += cpu_seconds(member)
    return total


@contextlib.contextmanager
def projection_runner(url: str, key: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`trajectory projections run`: the external runner of several API processes."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "trajectory", "projections", "run"],
            env={**server_env(url, key), "TRAJECTORY_PROJECTIONS": "external"},
            stdout=out, stderr=out,
        )
    try:
        yield process
    finally:
        stop(process)


@contextlib.contextmanager
def scratch_store(postgres: bool) -> Iterator[str]:
    if postgres:
        with postgres_database("bench_load") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'load.sqlite'}"


def run(*, postgres: bool, users: int, seconds: float, think: float, girls: int,
        seed: int = 2014, log: Path | None = None, url: str | None = None,
        workers: int = 1) -> dict[str, Any]:
    """One run (on the empty store `url`, or a scratch one); its figures (`errors` lists
    every failed request). `workers` > 1: that many API processes (`trajectory serve
    --workers`) and the external projection runner (PostgreSQL only)."""
    key = MasterKey.generate().to_text()
    given = contextlib.nullcontext(url) if url is not None else scratch_store(postgres)
    with given as url, tempfile.TemporaryDirectory() as tmp:
        log = log or Path(tmp) / "server.log"
        prepared = time.perf_counter()
        people = prepare(url, key, users=users, girls=girls, seed=seed)
        prepare_seconds = time.perf_counter() - prepared
        tally = Tally()
        several = {"TRAJECTORY_WORKERS": str(workers), "TRAJECTORY_PROJECTIONS": "external"}
        with contextlib.ExitStack() as stack:
            runner = None
            if workers > 1:
                runner = stack.enter_context(projection_runner(url, key, log))
                s = stack.enter_context(server(url, key, log, module=("trajectory", "serve"),
                                               env=several))
            else:
                s = stack.enter_context(server(url, key, log))
            sessions = [Session(s.base_url, u, tally, think, seed + n)
                        for n, u in enumerate(people)]
            cpu_before = tree_cpu_seconds(s.process.pid)
            runner_before = cpu_seconds(runner.pid) if runner else 0.0
            began = time.monotonic()
            until = began + seconds
            threads = [threading.Thread(target=x.run, args=(until,)) for x in sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - began
            cpu = tree_cpu_seconds(s.process.pid) - cpu_before
            runner_cpu = cpu_seconds(runner.pid) - runner_before if runner else 0.0
    requests = sum(len(v) for v in tally.latencies.values())
    return {
        "store": url.split(":", 1)[0].replace("postgresql", "postgres"),
        "users": users,
        "coordinators": sum(u.role == "coordinator" for u in people),
        "aftercare": sum(u.role == "aftercare" for u in people),
        "girls": girls,
        "seconds": round(elapsed, 1),
        "think_s": think,
        "prepare_seconds": round(prepare_seconds, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "api_processes": workers,
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, requests), 2),
        "runner_cpu_s": round(runner_cpu, 2),
        "routes": {route: summary(ms) for route, ms in sorted(tally.latencies.items())},
        "errors": tally.errors,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['store']}: {result['users']} users ({result['coordinators']} coordinators,"
        f" {result['aftercare']} aftercare) over {result['girls']} demo girls,"
        f" {result['seconds']} s, think {result['think_s']} s,"
        f" {result['api_processes']} API process(es)",
        f"{'route':<40} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for route, s in result["routes"].items():
        lines.append(f"{route:<40} {s['n']:>6} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f}"
                     f" {s['p99_ms']:>8.1f}")
    lines.append(
        f"requests {result['requests']}, {result['requests_per_s']}/s; errors"
        f" {len(result['errors'])}; server CPU {result['server_cpu_s']} s,"
        f" {result['server_cpu_ms_per_request']} ms per request"
        + (f"; external runner CPU {result['runner_cpu_s']} s" if result["api_processes"] > 1
           else "")
    )
    lines += [f"  error: {e}" for e in result["errors"][:10]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean think time between steps, seconds")
    parser.add_argument("--girls", type=int, default=40, help="demo girls in the store")
    parser.add_argument("--workers", type=int, default=1,
                        help="API processes; more than one (PostgreSQL only) runs the"
                             " external projection runner beside them")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if args.workers > 1 and not args.postgres:
        parser.error("--workers needs --postgres (SQLite has one writer process)")
    configure_logging("warning")
    result = run(postgres=args.postgres, users=args.users, seconds=args.seconds,
                 think=args.think, girls=args.girls, workers=args.workers)
    print(table(result))
    if not args.no_record:
        path = record("load", {**result, "errors": result["errors"][:20],
                               "error_count": len(result["errors"])})
        print(f"recorded in bench/results/{path.name}")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
