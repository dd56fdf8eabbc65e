"""The research export, next to the library reading and decoding the same log.

Builds a synthetic log of about N events (default 100,000; works for 1,000,000), or
reuses one (`--store FILE`, an SQLite file kept between runs with its key file beside
it): the demo's stories told on the aggregate in memory (every command checked by the
rules, every event hash-chained), each girl then giving research consent, merged across
cohorts of girls by the day things happened, and stored in bulk with their data keys and
index rows. Then, each in a fresh process so that its peak memory is its own:

(a) the library alone: `recorder.select_notifications` pages of 500 and
    `mapper.to_domain_event` for every event (decrypting and decoding), in events/s;
(b) `export_project` of the whole log (CSV, or `--format parquet`: CSV and Parquet), in
    events/s of the events it read;

prints both, their ratio and each one's peak resident memory, and appends the figures to
bench/results/export.jsonl.

    .venv/bin/python -m bench.export [N] [--postgres] [--store FILE] [--format parquet]
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import postgres_database, record
from bench.rebuild import PAGE, read_and_decode, story
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.aggregates.vocabulary import ConsentGiver
from trajectory.application import Actor, TrajectoryApplication, project_trajectory
from trajectory.commands import GiveResearchConsent
from trajectory.crypto import MasterKey
from trajectory.logs import configure_logging
from trajectory.persistence.database import RowWrite
from trajectory.protocol.rules import age_on
from trajectory.settings import Settings

INSERT_BATCH = 5_000
RESEARCHER = Actor(user_id="bench-researcher", role="researcher", organisation="bench")


def consenting_story(index: int, seed: int, app: TrajectoryApplication
                     ) -> tuple[list[TrajectoryEvent], Trajectory]:
    """One demo girl's story, then her research consent on its last day."""
    events = story(index, seed, app.protocols.current)
    t = project_trajectory(None, events)
    assert isinstance(t, Trajectory)
    day = max(e.occurred_on for e in events)
    giver: ConsentGiver = "girl" if age_on(t.state.date_of_birth, day) >= 16 else "parent"
    GiveResearchConsent(given_by=giver, note="Toestemming (bench).").execute(
        t, Meta(recorded_by="bench-coord", occurred_on=day, today=day), app.protocols.current
    )
    consent = t.collect_events()
    assert all(isinstance(e, TrajectoryEvent) for e in consent)
    return [*events, *consent], t  # type: ignore[list-item]


def synthesise(app: TrajectoryApplication, n: int, *, cohort: int, seed: int) -> tuple[int, int]:
    """Store whole girls until about `n` events; returns (events, trajectories)."""
    assert app.keys is not None
    stored = girls = index = 0
    while stored < n:
        stories: list[list[TrajectoryEvent]] = []
        rows: list[RowWrite] = []
        while len(stories) < cohort and stored + sum(map(len, stories)) < n:
            events, t = consenting_story(index, seed, app)
            index += 1
            stories.append(events)
            rows += [app.keys.new_key(t.id, app.clock()), app.index_row(t)]
        merged = list(heapq.merge(*stories, key=lambda e: e.occurred_on))
        for start in range(0, len(merged), INSERT_BATCH):
            batch = [app.mapper.to_stored_event(e) for e in merged[start : start + INSERT_BATCH]]
            app.recorder.insert_events(batch, also=rows if start == 0 else [])
        stored += len(merged)
        girls += len(stories)
        print(f"\rstored {stored:,} events of {girls:,} girls", end="", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)
    return stored, girls


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(which: str, url: str, fmt: str) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    app = TrajectoryApplication(Settings(database_url=url, master_key=os.environ.get(
        "TRAJECTORY_MASTER_KEY")), create_tables=False)
    try:
        rss_before = _peak_mb()
        started = time.perf_counter()
        if which == "read":
            events = read_and_decode(app)
        else:
            from trajectory.research import export_project

            with tempfile.TemporaryDirectory(prefix="bench-export-") as out:
                manifest = export_project(app, "bench", Path(out) / "export", fmt=fmt,  # type: ignore[arg-type]
                                          actor=RESEARCHER)
                events = manifest.counts.events_read
                assert manifest.counts.trajectories_exported > 0
        seconds = time.perf_counter() - started
    finally:
        app.close()
    return {"events": events, "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds), "peak_rss_mb": _peak_mb(),
            "rss_before_mb": rss_before}


def in_child(which: str, url: str, fmt: str, key: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if key:
        env["TRAJECTORY_MASTER_KEY"] = key
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", "--measure", which, "--url", url,
         "--format", fmt],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def store(args: argparse.Namespace) -> Iterator[tuple[str, str | None]]:
    """(database url, master key or None for the SQLite key file beside the store)."""
    if args.postgres:
        with postgres_database("bench_export") as url:
            yield url, MasterKey.generate().to_text()
        return
    if args.store:
        yield f"sqlite:///{Path(args.store).resolve()}", None
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'export.sqlite'}", None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--store", help="SQLite file to build once and reuse")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--cohort", type=int, default=256, help="girls interleaved in the log")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--measure", choices=["read", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("warning")
    if args.measure:
        print(json.dumps(measure(args.measure, args.url, args.format)))
        return
    with store(args) as (url, key):
        settings = Settings(database_url=url, master_key=key)
        app = TrajectoryApplication(settings)
        try:
            existing = app.recorder.max_notification_id() or 0
            started = time.perf_counter()
            if existing:
                events, girls = existing, len(app.index())
                print(f"reusing {events:,} events of {girls:,} girls", file=sys.stderr)
            else:
                events, girls = synthesise(app, args.events, cohort=args.cohort, seed=args.seed)
            build = time.perf_counter() - started
        finally:
            app.close()
        read = in_child("read", url, args.format, key)
        export = in_child("export", url, args.format, key)
    assert read["events"] == export["events"] == events, (read, export, events)
    figures = {
        "events": events,
        "trajectories": girls,
        "dialect": "postgres" if args.postgres else "sqlite",
        "format": args.format,
        "page_size": PAGE,
        "build_seconds": round(build, 1),
        "read_decode_seconds": read["seconds"],
        "read_decode_events_per_s": read["events_per_s"],
        "read_decode_peak_rss_mb": read["peak_rss_mb"],
        "export_seconds": export["seconds"],
        "export_events_per_s": export["events_per_s"],
        "export_peak_rss_mb": export["peak_rss_mb"],
        "ratio": round(export["events_per_s"] / read["events_per_s"], 3),
    }
    print(
        f"{events:,} events of {girls:,} trajectories ({figures['dialect']},"
        f" {args.format}), built in {figures['build_seconds']:.0f} s\n"
        f"(a) read + decode, library alone: {read['events_per_s']:>9,} events/s"
        f" ({read['seconds']:.1f} s, peak RSS {read['peak_rss_mb']:.0f} MB)\n"
        f"(b) research export:              {export['events_per_s']:>9,} events/s"
        f" ({export['seconds']:.1f} s, peak RSS {export['peak_rss_mb']:.0f} MB)\n"
        f"ratio (b)/(a): {figures['ratio']:.2f}"
    )
    path = record("export", figures)
    print(f"recorded in bench/results/{path.name}")


if __name__ == "__main__":
    main()
