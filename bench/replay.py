"""What-if replay (`trajectory protocol replay`) over a synthetic log, next to the library
reading and decoding the same log.

The log is `bench.rebuild`'s (the demo's stories, every command checked by the rules and
hash-chained, each girl sealed under her own key). In one run, on the same store:

(a) the library alone: every trajectory's events read (`select_events`) and decoded
    (`mapper.to_domain_event`, which decrypts), trajectory by trajectory, in events/s;
(b) `replay_store` of a stricter protocol (days in phase 1 doubled, phone in phase 2 only
    supervised, the care analysis every 60 days): the same reading and decoding, plus
    folding every event and judging every decision, in events/s;

prints both, their ratio, and the minutes a 1,000,000-event log would take at (b)'s rate
(the replay is linear in the events: one pass, one girl at a time, memory per girl),
and appends the figures to bench/results/replay.jsonl.

    .venv/bin/python -m bench.replay [N] [--postgres] [--keep-log FILE]

`--keep-log FILE` reuses (or keeps) a log as `bench.rebuild --keep-log` does.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from bench.common import postgres_database, record
from bench.rebuild import TODAY, KeptLog, kept_store, synthesise
from trajectory.application import TrajectoryApplication
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.logs import configure_logging
from trajectory.protocol import default_protocol
from trajectory.protocol.model import Protocol
from trajectory.protocol_replay import replay_store
from trajectory.settings import Settings

ONE_MILLION = 1_000_000


def stricter() -> Protocol:
    """The proposed protocol of the measurement: stricter in a phase, a cap and a number."""
    default = default_protocol()
    phase_2 = msgspec.structs.replace(
        default.phase[1],
        min_days_in_previous_phase=default.phase[1].min_days_in_previous_phase * 2,
        caps={**default.phase[1].caps, "phone": "supervised"},
    )
    return msgspec.structs.replace(
        default,
        # For every setting: the bench log opens every girl under the default.
        protocol=msgspec.structs.replace(
            default.protocol,
            name="bench-stricter",
            settings=("residential", "ambulatory", "closed"),
        ),
        phase=(default.phase[0], phase_2, *default.phase[2:]),
        attention=msgspec.structs.replace(default.attention, care_analysis_interval_days=60),
    )


def read_and_decode(app: TrajectoryApplication) -> int:
    count = 0
    for trajectory_id in app.stored_trajectory_ids():
        for stored in app.stored_events(trajectory_id):
            app.mapper.to_domain_event(stored)
            count += 1
    return count


def measure(app: TrajectoryApplication, events: int, as_of: date) -> dict[str, Any]:
    ids = app.stored_trajectory_ids()
    assert app.keys is not None
    for trajectory_id in ids:
        app.keys.forget(trajectory_id)
    started = time.perf_counter()
    decoded = read_and_decode(app)
    read = time.perf_counter() - started
    assert decoded == events, (decoded, events)
    for trajectory_id in ids:
        app.keys.forget(trajectory_id)
    started = time.perf_counter()
    report = replay_store(app, stricter(), as_of)
    replay = time.perf_counter() - started
    assert report.totals.events == events, (report.totals.events, events)
    rate = events / replay
    return {
        "events": events,
        "trajectories": len(ids),
        "read_decode_seconds": round(read, 2),
        "read_decode_events_per_s": round(events / read),
        "replay_seconds": round(replay, 2),
        "replay_events_per_s": round(rate),
        "ratio": round(read / replay, 3),
        "million_events_minutes": round(ONE_MILLION / rate / 60, 1),
        "refused": sum(report.totals.refused.values()),
        "girls_affected": report.totals.girls_affected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--cohort", type=int, default=256)
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--keep-log", type=Path)
    args = parser.parse_args()
    configure_logging("warning")
    dialect = "postgres" if args.postgres else "sqlite"
    if args.keep_log is not None and args.keep_log.exists():
        kept = msgspec.json.decode(args.keep_log.read_bytes(), type=KeptLog)
        settings = Settings(database_url=kept.database_url, master_key=kept.master_key)
        app = build_application(settings)
        try:
            figures = measure(app, kept.events, TODAY)
        finally:
            app.close()
    elif args.keep_log is not None:
        url = kept_store(args.keep_log, args.postgres)
        key = MasterKey.generate().to_text()
        figures = _build_and_measure(url, key, args)
        args.keep_log.write_bytes(msgspec.json.encode(KeptLog(
            database_url=url, master_key=key, events=figures["events"],
            trajectories=figures["trajectories"], build_seconds=figures["build_seconds"],
            asked=args.events, cohort=args.cohort, seed=args.seed,
        )))
    elif args.postgres:
        with postgres_database("bench_replay") as url:
            figures = _build_and_measure(url, MasterKey.generate().to_text(), args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'replay.sqlite'}"
            figures = _build_and_measure(url, MasterKey.generate().to_text(), args)
    figures["dialect"] = dialect
    print(
        f"{figures['events']:,} events of {figures['trajectories']:,} trajectories ({dialect})\n"
        f"(a) read + decode, library alone: {figures['read_decode_events_per_s']:>9,} events/s"
        f" ({figures['read_decode_seconds']:.1f} s)\n"
        f"(b) protocol replay:              {figures['replay_events_per_s']:>9,} events/s"
        f" ({figures['replay_seconds']:.1f} s; {figures['refused']:,} decisions refused)\n"
        f"ratio (b)/(a): {figures['ratio']:.2f}; 1,000,000 events at (b):"
        f" {figures['million_events_minutes']} min"
    )
    path = record("replay", figures)
    print(f"recorded in bench/results/{path.name}")


def _build_and_measure(url: str, key: str, args: argparse.Namespace) -> dict[str, Any]:
    app = build_application(Settings(database_url=url, master_key=key))
    try:
        started = time.perf_counter()
        events, _ = synthesise(app, args.events, cohort=args.cohort, seed=args.seed)
        build = time.perf_counter() - started
        figures = measure(app, events, TODAY)
        figures["build_seconds"] = round(build, 1)
        return figures
    finally:
        app.close()


if __name__ == "__main__":
    main()
