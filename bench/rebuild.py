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

import msgspec

from bench.common import postgres_database, record
from trajectory.aggregates.events.base import TrajectoryEvent
from trajectory.aggregates.events.intake import Identity
from trajectory.aggregates.trajectory import Meta, Trajectory
from trajectory.application import TrajectoryApplication
from trajectory.commands import RegisterNetworkContact
from trajectory.crypto import MasterKey
from trajectory.demo import _Girl, _plan
from trajectory.logs import configure_logging
from trajectory.persistence.database import RowWrite
from trajectory.projections import setup_projections
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
        command.execute(t, Meta(recorded_by=actor.user_id, occurred_on=day, today=day), protocol)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--cohort", type=int, default=256, help="girls interleaved in the log")
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args()
    configure_logging("warning")
    with store(args.postgres) as url:
        settings = Settings(database_url=url, master_key=MasterKey.generate().to_text())
        app = TrajectoryApplication(settings)
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


def run(app: TrajectoryApplication, n: int, *, cohort: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    events, trajectories = synthesise(app, n, cohort=cohort, seed=seed)
    build = time.perf_counter() - started
    runner = setup_projections(app)

    started = time.perf_counter()
    decoded = read_and_decode(app)
    read = time.perf_counter() - started
    assert decoded == events, (decoded, events)

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
    }


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
