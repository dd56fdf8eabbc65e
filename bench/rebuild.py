"""Rebuilding every projection, next to the library reading and decoding the same log.

Builds a synthetic log of N events (default 100,000; works for 1,000,000): the demo's
stories, told on the aggregate in memory (every command checked by the rules, every event
hash-chained), merged across cohorts of girls by the day things happened, then stored in
bulk as properly encoded events, each sealed under its own trajectory's data key, with
the data keys written in the same transactions. Then, in one run:

(a) the library alone: `recorder.select_notifications` pages of 500 and
    `mapper.to_domain_event` for every event (decrypting and decoding), in events/s;
(b) `ProjectionRunner.rebuild()` of all projections, in events/s;

prints both and their ratio, and appends the figures to bench/results/rebuild.jsonl.

    .venv/bin/python -m bench.rebuild [N] [--postgres] [--cohort 256] [--seed 2014]
        [--keep-log FILE] [--drop-log FILE]

Building a log of 1,000,000 events takes minutes. With `--keep-log FILE` the store is
kept after the run and described in FILE (its URL and master key; a synthetic key for a
synthetic log); a later run with the same FILE, size, cohort and seed measures on that
same log instead of building it again. `--drop-log FILE` drops the kept store and FILE.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from bench.common import POSTGRES_URL, postgres_database, record
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.application import TrajectoryApplication
from trajectory.commands import RegisterNetworkContact
from trajectory.composition import build_application, projection_runner
from trajectory.crypto import MasterKey
from trajectory.demo import _Girl, _plan
from trajectory.logs import configure_logging
from trajectory.persistence.database import RowWrite
from trajectory.protocol.model import Protocol
from trajectory.settings import Settings

PAGE = 500
INSERT_BATCH = 5_000
TODAY = date(2026, 3, 2)


def story(index: int, seed: int, protocol: Protocol) -> list[TrajectoryEvent]:
    """One demo girl's whole story, told on the aggregate alone (no store)."""
    return told(index, seed, protocol)[0]


def told(index: int, seed: int, protocol: Protocol) -> tuple[list[TrajectoryEvent], Trajectory]:
    """One demo girl's whole story and the trajectory it leaves (for its index row)."""
    plan, coordinator, worker = _plan(index, seed, protocol)
    rng = random.Random(f"bench:{seed}:{index}")
    intake_date = TODAY - timedelta(days=plan.day + plan.slack + rng.randint(0, 3 * 365))
    birth_day, age_days = plan.birth
    date_of_birth = intake_date + timedelta(days=birth_day - age_days)
    t = Trajectory.open(
        meta=Meta(recorded_by=coordinator.user_id, occurred_on=intake_date, today=intake_date),
        protocol=protocol,
        organisation=coordinator.organisation,
        coordinator=coordinator.user_id,
        referral_source="bench",
        legal_framework="vrijwillig",
        setting=plan.setting,
        victim_status=plan.victim_status,
        risk_profiles=plan.risk_profiles,
        risk_assessment_instrument="bench instrument",
        risk_assessment_result="high",
        identity=Identity(
            name=f"Bench Meisje {index}", date_of_birth=date_of_birth, home_region="Bench"
        ),
    )
    girl = _Girl(t.id, intake_date, date_of_birth)
    for step in plan.steps:
        day = girl.on(step.day)
        command = msgspec.structs.replace(step.make(girl), occurred_on=day.isoformat())
        actor = worker if step.aftercare else coordinator
        known = set(t.state.contacts)
        t.handle(command, Meta(recorded_by=actor.user_id, occurred_on=day, today=day), protocol)
        if step.key is not None:
            girl.positions[step.key] = t.version
            if isinstance(command, RegisterNetworkContact):
                (girl.contacts[step.key],) = set(t.state.contacts) - known
    events = t.collect_events()
    assert all(isinstance(e, TrajectoryEvent) for e in events)
    return events, t  # type: ignore[return-value]


def synthesise(app: TrajectoryApplication, n: int, *, cohort: int, seed: int) -> tuple[int, int]:
    """Store whole girls until about `n` events; returns (events, trajectories). A cohort of
    girls is merged by the day things happened, so that the log interleaves trajectories as
    a real one does; each girl's data key and index row are written with her first events
    (so that `verify` and the research export find a consistent store)."""
    assert app.keys is not None
    protocol = app.protocols.current
    stored = girls = 0
    index = 0
    while stored < n:
        stories: list[list[TrajectoryEvent]] = []
        rows: list[RowWrite] = []
        while len(stories) < cohort and stored + sum(map(len, stories)) < n:
            events, t = told(index, seed, protocol)
            index += 1
            stories.append(events)
            rows += [app.keys.new_key(t.id, app.clock()), app.index_row(t)]
        merged = list(heapq.merge(*stories, key=lambda e: e.occurred_on))
        for start in range(0, len(merged), INSERT_BATCH):
            batch = [app.mapper.to_stored_event(e) for e in merged[start : start + INSERT_BATCH]]
            app.recorder.insert_events(batch, also=rows if start == 0 else [])
        stored += len(merged)
        girls += len(stories)
        print(f"\rstored {stored:,} events", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return stored, girls


def read_and_decode(app: TrajectoryApplication) -> int:
    """What the library does alone: every event read in pages and decoded."""
    count = 0
    start = 0
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False)
        if not page:
            return count
        for notification in page:
            app.mapper.to_domain_event(notification)
        count += len(page)
        start = page[-1].id


@contextmanager
def store(postgres: bool) -> Iterator[str]:
    if postgres:
        with postgres_database("bench_rebuild") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'rebuild.sqlite'}"


class KeptLog(msgspec.Struct, frozen=True, kw_only=True):
    """A log kept between runs (`--keep-log`): where it is, and what it was built from."""

    database_url: str
    master_key: str
    events: int
    trajectories: int
    build_seconds: float
    asked: int
    cohort: int
    seed: int


def kept_store(path: Path, postgres: bool) -> str:
    """Where a kept log goes: an SQLite file beside `path`, or a database of its own."""
    if not postgres:
        return f"sqlite:///{path.resolve().with_suffix('.sqlite')}"
    name = "bench_rebuild_kept_" + "".join(c if c.isalnum() else "_" for c in path.stem.lower())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


def drop_kept(path: Path) -> None:
    """Drop a kept log's store and its description."""
    kept = msgspec.json.decode(path.read_bytes(), type=KeptLog)
    if kept.database_url.startswith("sqlite:///"):
        path_of = kept.database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):  # the journal too, when a run was killed
            Path(path_of + suffix).unlink(missing_ok=True)
    else:
        name = kept.database_url.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--cohort", type=int, default=256, help="girls interleaved in the log")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--keep-log", type=Path, help="keep the log, or reuse the one kept here")
    parser.add_argument("--drop-log", type=Path, help="drop a log kept with --keep-log, and stop")
    args = parser.parse_args()
    configure_logging("warning")
    if args.drop_log is not None:
        drop_kept(args.drop_log)
        return
    if args.keep_log is not None:
        figures = run_kept(args.keep_log, args.postgres, args.events, args.cohort, args.seed)
    else:
        with store(args.postgres) as url:
            settings = Settings(database_url=url, master_key=MasterKey.generate().to_text())
            app = build_application(settings)
            try:
                figures = run(app, args.events, cohort=args.cohort, seed=args.seed)
            finally:
                app.close()
    figures["dialect"] = "postgres" if args.postgres else "sqlite"
    print(
        f"{figures['events']:,} events of {figures['trajectories']:,} trajectories"
        f" ({figures['dialect']}), stored in {figures['build_seconds']:.0f} s\n"
        f"(a) read + decode, library alone: {figures['read_decode_events_per_s']:>9,.0f} events/s"
        f" ({figures['read_decode_seconds']:.1f} s)\n"
        f"(b) rebuild of all projections:   {figures['rebuild_events_per_s']:>9,.0f} events/s"
        f" ({figures['rebuild_seconds']:.1f} s)\n"
        f"ratio (b)/(a): {figures['ratio']:.2f}"
    )
    path = record("rebuild", figures)
    print(f"recorded in bench/results/{path.name}")


def run_kept(path: Path, postgres: bool, n: int, cohort: int, seed: int) -> dict[str, Any]:
    """`run` on the log kept in `path`, built (and kept) first when there is none yet."""
    kept = msgspec.json.decode(path.read_bytes(), type=KeptLog) if path.exists() else None
    if kept is not None and (kept.asked, kept.cohort, kept.seed) != (n, cohort, seed):
        raise SystemExit(
            f"{path} keeps a log of {kept.asked:,} events (cohort {kept.cohort},"
            f" seed {kept.seed}); drop it first (--drop-log)"
        )
    if kept is not None and kept.database_url.startswith("sqlite") == postgres:
        raise SystemExit(f"{path} keeps a log in another store")
    url = kept.database_url if kept else kept_store(path, postgres)
    master_key = kept.master_key if kept else MasterKey.generate().to_text()
    app = build_application(Settings(database_url=url, master_key=master_key))
    try:
        built = None if kept is None else (kept.events, kept.trajectories, kept.build_seconds)
        figures = run(app, n, cohort=cohort, seed=seed, built=built)
    finally:
        app.close()
    if kept is None:
        path.write_bytes(
            msgspec.json.encode(
                KeptLog(
                    database_url=url,
                    master_key=master_key,
                    events=figures["events"],
                    trajectories=figures["trajectories"],
                    build_seconds=figures["build_seconds"],
                    asked=n,
                    cohort=cohort,
                    seed=seed,
                )
            )
        )
    figures["log_reused"] = kept is not None
    return figures


def run(
    app: TrajectoryApplication,
    n: int,
    *,
    cohort: int,
    seed: int,
    built: tuple[int, int, float] | None = None,
) -> dict[str, Any]:
    """Build the log (unless `built` says it is there: events, trajectories, seconds),
    then read + decode it and rebuild every projection from it, in this order."""
    if built is None:
        started = time.perf_counter()
        events, trajectories = synthesise(app, n, cohort=cohort, seed=seed)
        build = time.perf_counter() - started
    else:
        events, trajectories, build = built
    runner = projection_runner(app)
    trajectory_ids = app.stored_trajectory_ids()

    _forget_keys(app, trajectory_ids)
    started = time.perf_counter()
    decoded = read_and_decode(app)
    read = time.perf_counter() - started
    assert decoded == events, (decoded, events)

    _forget_keys(app, trajectory_ids)
    started = time.perf_counter()
    applied = runner.rebuild(None, _progress(events))
    rebuild = time.perf_counter() - started
    assert applied == events, (applied, events)
    assert {s.lag for s in runner.status()} == {0}
    return {
        "events": events,
        "trajectories": trajectories,
        "cohort": cohort,
        "page_size": PAGE,
        "projections": sorted(runner.projections),
        "build_seconds": round(build, 1),
        "read_decode_seconds": round(read, 2),
        "read_decode_events_per_s": round(events / read),
        "rebuild_seconds": round(rebuild, 2),
        "rebuild_events_per_s": round(events / rebuild),
        "ratio": round(read / rebuild, 3),
        "state_loads": runner.states.loads,
        "keys": "cold",
    }


def _forget_keys(app: TrajectoryApplication, trajectory_ids: list[UUID]) -> None:
    """Both measurements start without a data key in the cache, as a rebuild in a fresh
    process does. Otherwise whichever comes second finds the keys the first fetched (for
    30 s), and the first the keys the build left; on PostgreSQL fetching the key of each
    of 1,561 trajectories took a quarter of reading 100k events."""
    assert app.keys is not None
    for trajectory_id in trajectory_ids:
        app.keys.forget(trajectory_id)


def _progress(total: int) -> Any:
    last = [0.0]

    def report(done: int, _total: int | None = None) -> None:
        now = time.monotonic()
        if now - last[0] > 1 or done >= total:
            last[0] = now
            print(f"\rrebuilt {done:,}/{total:,}", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)

    return report


if __name__ == "__main__":
    main()
