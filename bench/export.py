"""The research export, next to the library reading and decoding the same log.

Builds a synthetic log of about N events (default 100,000; works for 1,000,000) with
`bench.rebuild.synthesise` (the demo's stories, four girls in five giving research
consent, as `bench.run_all` builds it), or reuses one: `--store FILE`, an SQLite file kept
between runs with its key file beside it, or `--postgres --keep NAME`, a PostgreSQL
database kept between runs (its master key in `NAME.key` in the system's temporary
folder; `--drop` drops both). A 1M-event log takes minutes to build; the measurements
below take less. Then, each in a fresh process so that its peak memory is its own:

(a) the library alone: `recorder.select_notifications` pages of 500 and
    `mapper.to_domain_event` for every event (decrypting and decoding), in events/s;
(b) `export_project` of the whole log (CSV, or `--format parquet`: CSV and Parquet; with
    `--also FORMAT`, repeated, the other formats too: ocel, xes, sav, dta, or `all`), in
    events/s of the log: it reads, decodes and checks every event, also those of the girls
    it then leaves out for want of consent (the exported girls' events are recorded too);

prints both, their ratio and each one's peak resident memory, and appends the figures to
bench/results/export.jsonl.

    .venv/bin/python -m bench.export [N] [--postgres [--keep NAME [--drop]]] [--store FILE]
                                   [--format parquet] [--also FORMAT ...] [--small M]
                                   [--repeat R]

With `--small M` a second log of M events is built in the same run (a scratch store of the
same kind) and exported the same way: the ratio of the two exports' peak memory says
whether memory is flat (`peak_rss_growth`, at most `FLAT`).
"""

from __future__ import annotations

import argparse
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

import psycopg

from bench.common import POSTGRES_URL, postgres_database, record
from bench.rebuild import PAGE, read_and_decode, synthesise
from trajectory.application import Actor
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.logs import configure_logging
from trajectory.research.formats import EXTRA_FORMATS
from trajectory.settings import Settings

__all__ = ["in_child", "measure", "synthesise"]

RESEARCHER = Actor(user_id="bench-researcher", role="researcher", organisation="bench")


def _peak_mb() -> float:
    """This process's own peak resident memory, in MB.

    Linux's `ru_maxrss` is not that: a process started by `subprocess` (vfork, then exec)
    begins with the peak of the process that started it, so every child of a large parent
    (`bench.run_all`, after a rebuild of 1M events) reported the parent's peak, the
    reading child and the export child alike. `VmHWM` belongs to the process's own memory
    map, which exec makes afresh."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(which: str, url: str, fmt: str, also: tuple[str, ...] = ()) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    app = build_application(Settings(database_url=url, master_key=os.environ.get(
        "TRAJECTORY_MASTER_KEY")), create_tables=False)
    exported_girls_events = None
    try:
        rss_before = _peak_mb()
        if which == "read":
            started = time.perf_counter()
            events = read_and_decode(app)
            seconds = time.perf_counter() - started
        else:
            from trajectory.research import export_project

            # The export reads, decodes and checks every event of the log: the girls without
            # research consent too (consent is decided on her events). Its events per second
            # are the log's events, as for the reading, not only the exported girls' events
            # (`counts.events_read`: four in five of the log, the demo's consent rate).
            row = app.db.fetchone(
                f"SELECT COUNT(*) AS n FROM {app.recorder.events_table_name}"  # type: ignore[attr-defined]
            )
            assert row is not None
            events = int(row["n"])
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="bench-export-") as out:
                manifest = export_project(app, "bench", Path(out) / "export", fmt=fmt,  # type: ignore[arg-type]
                                          actor=RESEARCHER, formats=also)
            seconds = time.perf_counter() - started
            exported_girls_events = manifest.counts.events_read
            assert manifest.counts.trajectories_exported > 0
    finally:
        app.close()
    return {"events": events, "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds), "peak_rss_mb": _peak_mb(),
            "rss_before_mb": rss_before, "exported_girls_events": exported_girls_events}


def in_child(which: str, url: str, fmt: str, key: str | None,
             also: tuple[str, ...] = ()) -> dict[str, Any]:
    env = dict(os.environ)
    if key:
        env["TRAJECTORY_MASTER_KEY"] = key
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", "--measure", which, "--url", url,
         "--format", fmt, *(f"--also={a}" for a in also)],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def kept_postgres(name: str, *, drop: bool) -> Iterator[tuple[str, str | None]]:
    """A PostgreSQL database kept between runs, so that a 1M-event log is built once; its
    master key is kept beside it in a file of the temporary folder (the store is useless
    without it). `drop`: use it one last time, then drop it and its key."""
    if not name.startswith("bench_"):
        raise SystemExit("--keep: the database's name must start with bench_ (a scratch one)")
    key_file = Path(tempfile.gettempdir()) / f"{name}.key"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {name}")
    if not key_file.exists():
        key_file.write_text(MasterKey.generate().to_text())
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}", key_file.read_text().strip()
    finally:
        if drop:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            key_file.unlink(missing_ok=True)


@contextmanager
def store(args: argparse.Namespace) -> Iterator[tuple[str, str | None]]:
    """(database url, master key or None for the SQLite key file beside the store)."""
    if args.postgres and args.keep:
        yield from kept_postgres(args.keep, drop=args.drop)
        return
    if args.postgres:
        with postgres_database("bench_export") as url:
            yield url, MasterKey.generate().to_text()
        return
    if args.store:
        yield f"sqlite:///{Path(args.store).resolve()}", None
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'export.sqlite'}", None


FLAT = 1.5
"""The most the export's peak memory may grow from the smaller log to the larger one and
still be called flat (as `bench.run_all` judges it). What does grow is a few hundred bytes
per girl (her pseudonym in the export's order, her index row, her head for the root hash,
her quasi-identifiers for the small-cell and linkage checks): ten times the girls, about
20 MB more; never her events."""


def smaller_log(args: argparse.Namespace, also: tuple[str, ...]) -> dict[str, Any]:
    """`--small N`: a log of N events built in this run, in a scratch store of the same
    kind, read and exported like the larger one (memory is flat when the larger log's
    export peaks no higher)."""
    if args.postgres:
        scratch: Any = postgres_database("bench_export_small")
    else:
        scratch = tempfile.TemporaryDirectory()
    with scratch as where:
        url = where if args.postgres else f"sqlite:///{Path(where) / 'small.sqlite'}"
        key = MasterKey.generate().to_text() if args.postgres else None
        app = build_application(Settings(database_url=url, master_key=key))
        try:
            events, _girls = synthesise(app, args.small, cohort=args.cohort, seed=args.seed)
        finally:
            app.close()
        return {"events": events, "read": in_child("read", url, args.format, key),
                "export": in_child("export", url, args.format, key, also)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--store", help="SQLite file to build once and reuse")
    parser.add_argument("--keep", help="with --postgres: a database bench_* to build once and"
                        " reuse")
    parser.add_argument("--drop", action="store_true", help="with --keep: drop it afterwards")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--also", action="append", default=[],
                        choices=[*EXTRA_FORMATS, "all"],
                        help="also write this format (repeat; all: every one)")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of measurements, in"
                        " turn; the best of each is compared")
    parser.add_argument("--small", type=int, help="also build a log of this many events in"
                        " the same run and compare the export's peak memory with it")
    parser.add_argument("--cohort", type=int, default=256, help="girls interleaved in the log")
    parser.add_argument("--seed", type=int, default=2014)
    parser.add_argument("--measure", choices=["read", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("warning")
    also = tuple(EXTRA_FORMATS) if "all" in args.also else tuple(sorted(set(args.also)))
    if args.measure:
        print(json.dumps(measure(args.measure, args.url, args.format, also)))
        return
    with store(args) as (url, key):
        settings = Settings(database_url=url, master_key=key)
        app = build_application(settings)
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
        # `--repeat R`: R pairs, read then export, in turn; the best of each (a shared
        # machine only ever makes a figure slower, never faster)
        pairs = [(in_child("read", url, args.format, key),
                  in_child("export", url, args.format, key, also))
                 for _ in range(args.repeat)]
        read = max((r for r, _ in pairs), key=lambda r: r["events_per_s"])
        export = max((e for _, e in pairs), key=lambda e: e["events_per_s"])
    assert read["events"] == export["events"] == events, (read, export, events)
    small = smaller_log(args, also) if args.small else None
    figures = {
        "events": events,
        "trajectories": girls,
        "dialect": "postgres" if args.postgres else "sqlite",
        "format": args.format,
        "also": list(also),
        "page_size": PAGE,
        "build_seconds": round(build, 1),
        "read_decode_seconds": read["seconds"],
        "read_decode_events_per_s": read["events_per_s"],
        "read_decode_peak_rss_mb": read["peak_rss_mb"],
        "export_seconds": export["seconds"],
        "export_events_per_s": export["events_per_s"],
        "export_peak_rss_mb": export["peak_rss_mb"],
        "export_girls_events": export["exported_girls_events"],
        "ratio": round(export["events_per_s"] / read["events_per_s"], 3),
        "repeat": args.repeat,
        "pairs_ratio": [round(e["events_per_s"] / r["events_per_s"], 3) for r, e in pairs],
        "export_peak_rss_mb_max": max(e["peak_rss_mb"] for _, e in pairs),
    }
    if small is not None:
        figures.update({
            "small_events": small["events"],
            "small_read_decode_events_per_s": small["read"]["events_per_s"],
            "small_export_events_per_s": small["export"]["events_per_s"],
            "small_export_peak_rss_mb": small["export"]["peak_rss_mb"],
            # flat: the export's peak memory of the larger log over that of the smaller one
            "peak_rss_growth": round(export["peak_rss_mb"] / small["export"]["peak_rss_mb"], 3),
        })
    print(
        f"{events:,} events of {girls:,} trajectories ({figures['dialect']},"
        f" {'+'.join([args.format, *also])}), built in {figures['build_seconds']:.0f} s\n"
        f"(a) read + decode, library alone: {read['events_per_s']:>9,} events/s"
        f" ({read['seconds']:.1f} s, peak RSS {read['peak_rss_mb']:.0f} MB)\n"
        f"(b) research export:              {export['events_per_s']:>9,} events/s"
        f" ({export['seconds']:.1f} s, peak RSS {export['peak_rss_mb']:.0f} MB)\n"
        f"ratio (b)/(a): {figures['ratio']:.2f}"
        + (f" (best of {args.repeat}; each pair: {figures['pairs_ratio']})"
           if args.repeat > 1 else "")
    )
    if small is not None:
        print(
            f"the same export of a log of {small['events']:,} events, in the same run:"
            f" {small['export']['events_per_s']:,} events/s against"
            f" {small['read']['events_per_s']:,} read + decode, peak RSS"
            f" {small['export']['peak_rss_mb']:.0f} MB\n"
            f"peak memory, {events:,} against {small['events']:,} events:"
            f" {figures['peak_rss_growth']:.2f}x (flat: at most {FLAT}x)"
        )
    path = record("export", figures)
    print(f"recorded in bench/results/{path.name}")


if __name__ == "__main__":
    main()
