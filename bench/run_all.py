"""Every benchmark in one run, on SQLite and on PostgreSQL, each figure next to its baseline.

    .venv/bin/python -m bench.run_all [--quick] [--stores sqlite,postgres]

For each store, in scratch databases made for this run and dropped after it:

- the library alone (`bench.plain`): a command (get + mutate + save) of a plain aggregate,
  a load from a snapshot at the head, 16 threads saving at once, and reading + decoding
  the whole log;
- the same work done by trajectory: a command over HTTP through the whole path (auth,
  visibility, rules, hash chain, encryption, index row, access log; the in-process
  projection runner keeping the read models current), loading a 1,000-event trajectory,
  16 clients writing over HTTP at once, the caseload page next to an empty endpoint of the
  same server, rebuilding every read model, the research export (`bench.export`, when
  present) and its peak memory, and `trajectory serve` from process start to ready;
- the care pages (`bench.pages`): the girl's page with a 1,000-event history and the
  caseload page, each next to the API's JSON of the same work on the same server;
- growth: the log at 10k, 100k and 1M events (10k and 100k with --quick), trajectories of
  10, 100 and 1,000 events, so that anything worse than linear shows.

Prints one table (figure, baseline, ratio, target, PASS/GAP) and the growth tables, and
appends the whole run to bench/results/run_all.jsonl (with the commit and the machine).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from uuid import UUID

from bench import http, plain
from bench.common import postgres_database, record, summary, timed
from bench.rebuild import read_and_decode, synthesise
from trajectory.composition import build_application, projection_runner
from trajectory.crypto import MasterKey
from trajectory.logs import configure_logging
from trajectory.research.formats import EXTRA_FORMATS
from trajectory.settings import Settings

Store = Literal["sqlite", "postgres"]
CLIENTS = 16
MANY_CLIENTS = 64
"""The second row of concurrent writers (issue 21), against the same 16-thread baseline."""
FLAT = 1.5
"""Memory counts as flat when the largest log's peak is at most this times the smallest's."""
TRAJECTORY_LADDER = (10, 100, 1000)


@dataclass(frozen=True)
class Size:
    """How much work a run does."""

    commands: int
    pages: int
    loads: int
    concurrent_seconds: float
    caseload_trajectories: int
    log_ladder: tuple[int, ...]
    startups: int

    @classmethod
    def of(cls, quick: bool) -> Size:
        if quick:
            return cls(300, 100, 100, 5.0, 120, (10_000, 100_000), 3)
        return cls(1000, 300, 300, 10.0, 200, (10_000, 100_000, 1_000_000), 5)


@dataclass
class Row:
    """One line of the table: our figure next to the library's, and the target."""

    store: str
    figure: str
    ours: float | None
    baseline: float | None
    unit: str
    target: str
    better: Literal["lower", "higher", "absolute", "info", "flat"]
    limit: float
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.ours / self.baseline

    @property
    def verdict(self) -> str:
        if self.ours is None:
            return "pending"
        if self.better == "info":
            return "info"
        if self.better == "absolute":
            return "PASS" if self.ours < self.limit else "GAP"
        if self.better == "flat":  # under the limit, and at most half again the baseline
            flat = self.ratio is not None and self.ratio <= FLAT
            return "PASS" if self.ours < self.limit and flat else "GAP"
        ratio = self.ratio
        if ratio is None:
            return "n/a"
        ok = ratio <= self.limit if self.better == "lower" else ratio >= self.limit
        return "PASS" if ok else "GAP"

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "figure": self.figure,
            "ours": self.ours,
            "baseline": self.baseline,
            "unit": self.unit,
            "ratio": round(self.ratio, 3) if self.ratio is not None else None,
            "target": self.target,
            "verdict": self.verdict,
            "note": self.note,
        }


@dataclass
class Run:
    size: Size
    rows: list[Row] = field(default_factory=list)
    growth: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def scratch(store: Store, name: str) -> Iterator[str]:
    """A database URL made for this run, removed afterwards."""
    if store == "postgres":
        with postgres_database(f"bench_all_{name}") as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        yield f"sqlite:///{Path(tmp) / (name + '.sqlite')}"


def p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


# -- the library alone ---------------------------------------------------------------------


def library(store: Store, size: Size, run: Run) -> dict[str, Any]:
    say(f"{store}: the library alone")
    out: dict[str, Any] = {}
    with scratch(store, "plain") as url:
        app = plain.PlainApplication(url)
        try:
            out["command"] = summary(plain.command_latency(app, 20, size.commands))
            loads: dict[int, dict[str, float]] = {}
            commands: dict[int, dict[str, float]] = {}
            for events in TRAJECTORY_LADDER:
                counter = plain.grown(app, events)
                loads[events] = summary(plain.snapshot_load(app, counter, size.loads))
                commands[events] = summary(
                    timed(lambda c=counter: app.command(c), 50)  # type: ignore[misc]
                )
            out["load"] = loads
            out["command_at"] = commands
            concurrent = plain.concurrent_saves(app, CLIENTS, size.concurrent_seconds)
            out["concurrent"] = {
                **{k: v for k, v in concurrent.items() if k != "latencies"},
                "latency": summary(concurrent["latencies"]),
            }
        finally:
            app.close()
    run.raw.setdefault(store, {})["library"] = out
    return out


# -- trajectory over HTTP ------------------------------------------------------------------


def api(store: Store, size: Size, run: Run, lib: dict[str, Any], log: Path) -> None:
    say(f"{store}: the API over HTTP")
    raw: dict[str, Any] = {}
    key = MasterKey.generate().to_text()
    with scratch(store, "api") as url:
        token = http.prepare_store(url, key)
        app = build_application(Settings(database_url=url, master_key=key))
        try:
            with http.server(url, key, log) as server, server.client(token) as client:
                ids = http.open_trajectories(client, 20)
                http.settle(client)
                command = http.command_latency(client, ids, size.commands)
                raw["command"] = summary(command)

                say(f"{store}: caseload page and empty endpoint")
                http.open_trajectories(client, size.caseload_trajectories - len(ids))
                http.settle(client)
                got = http.pages(client, ["/trajectories?limit=50", "/bench/empty"], size.pages)
                raw["caseload"] = summary(got["/trajectories?limit=50"])
                raw["empty"] = summary(got["/bench/empty"])

                say(f"{store}: {CLIENTS} clients writing at once")
                writers = http.open_trajectories(client, CLIENTS)
                http.settle(client)
                concurrent = http.concurrent_writes(server, token, writers, size.concurrent_seconds)
                raw["concurrent"] = {
                    **{k: v for k, v in concurrent.items() if k != "latencies"},
                    "latency": summary(concurrent["latencies"]),
                }

                say(f"{store}: {MANY_CLIENTS} clients writing at once")
                writers = http.open_trajectories(client, MANY_CLIENTS)
                http.settle(client)
                many = http.concurrent_writes(server, token, writers, size.concurrent_seconds)
                http.settle(client)
                raw["concurrent_many"] = {
                    **{k: v for k, v in many.items() if k != "latencies"},
                    "latency": summary(many["latencies"]),
                }

                say(f"{store}: trajectories of {', '.join(map(str, TRAJECTORY_LADDER))} events")
                loads: dict[int, dict[str, float]] = {}
                commands: dict[int, dict[str, float]] = {}
                for events in TRAJECTORY_LADDER:
                    (tid,) = http.open_trajectories(client, 1)
                    http.grow(client, tid, events)
                    http.settle(client)
                    trajectory_id = UUID(tid)
                    assert app.get(trajectory_id).version == events
                    timed(lambda t=trajectory_id: app.get(t), 20)  # type: ignore[misc]
                    loads[events] = summary(
                        timed(lambda t=trajectory_id: app.get(t), size.loads)  # type: ignore[misc]
                    )
                    commands[events] = summary(http.command_latency(client, [tid], 50))
                raw["load"] = loads
                raw["command_at"] = commands
                raw["server_ready_seconds"] = round(server.ready_seconds, 3)
        finally:
            app.close()
        say(f"{store}: start-up of `trajectory serve`")
        starts = http.startup_seconds(url, key, log, size.startups)
        raw["startup_seconds"] = [round(s, 3) for s in starts]
    run.raw.setdefault(store, {})["api"] = raw

    lc, cc = lib["command"], raw["command"]
    run.rows += [
        Row(
            store,
            "command over HTTP, p50",
            cc["p50_ms"],
            lc["p50_ms"],
            "ms",
            "<= 2x",
            "lower",
            2.0,
            "baseline: library get+mutate+save, plain aggregate;"
            f" HTTP alone (the empty endpoint) {raw['empty']['p50_ms']:.2f} ms",
        ),
        Row(
            store,
            "command over HTTP less HTTP alone, p50",
            round(cc["p50_ms"] - raw["empty"]["p50_ms"], 3),
            lc["p50_ms"],
            "ms",
            "(info)",
            "info",
            2.0,
            "the command's p50 less the empty endpoint's: what the path adds to HTTP itself",
        ),
        Row(
            store, "command over HTTP, p99", cc["p99_ms"], lc["p99_ms"], "ms", "<= 3x", "lower", 3.0
        ),
        Row(
            store,
            "load a 1,000-event trajectory, p50",
            raw["load"][1000]["p50_ms"],
            lib["load"][1000]["p50_ms"],
            "ms",
            "<= 1.5x",
            "lower",
            1.5,
            "baseline: library load from a snapshot at the head",
        ),
        Row(
            store,
            f"{CLIENTS} clients writing over HTTP",
            raw["concurrent"]["events_per_s"],
            lib["concurrent"]["events_per_s"],
            "events/s",
            ">= 1.5x",
            "higher",
            1.5,
            f"baseline: library saves from {CLIENTS} threads",
        ),
        Row(
            store,
            f"{MANY_CLIENTS} clients writing over HTTP",
            raw["concurrent_many"]["events_per_s"],
            lib["concurrent"]["events_per_s"],
            "events/s",
            ">= 1.5x",
            "higher",
            1.5,
            f"baseline: library saves from {CLIENTS} threads;"
            f" p99 {raw['concurrent_many']['latency']['p99_ms']:.1f} ms",
        ),
        Row(
            store,
            f"caseload page (50 of {size.caseload_trajectories}), p50",
            raw["caseload"]["p50_ms"],
            raw["empty"]["p50_ms"],
            "ms",
            "<= 2x",
            "lower",
            2.0,
            "baseline: an empty endpoint of the same server",
        ),
    ]
    starts = raw["startup_seconds"]
    run.rows.append(
        Row(
            store,
            "start-up to ready (median)",
            statistics.median(starts),
            None,
            "s",
            "< 2 s" if store == "sqlite" else "(info)",
            "absolute",
            2.0 if store == "sqlite" else float("inf"),
            f"max {max(starts):.2f} s of {len(starts)}",
        )
    )
    for events in TRAJECTORY_LADDER:
        run.growth.append(
            {
                "store": store,
                "axis": "events per trajectory",
                "work": events,
                "command_http_p50_ms": raw["command_at"][events]["p50_ms"],
                "library_command_p50_ms": lib["command_at"][events]["p50_ms"],
                "load_p50_ms": raw["load"][events]["p50_ms"],
                "library_load_p50_ms": lib["load"][events]["p50_ms"],
            }
        )


# -- the care pages -----------------------------------------------------------------------


def care_pages(store: Store, size: Size, run: Run, log: Path) -> None:
    """`bench.pages` on a scratch store: the girl's page with a 1,000-event history, the
    caseload, each next to the API's JSON of the same work."""
    from bench import pages  # (bench.pages borrows this module's table and rows)

    say(f"{store}: the care pages")
    with scratch(store, "pages") as url:
        raw = pages.measure(url, 1000, size.pages // 3, 50, log)
    run.raw.setdefault(store, {})["pages"] = raw
    run.rows += pages.rows(store, raw)


# -- the whole log ------------------------------------------------------------------------


def export_module() -> ModuleType | None:
    """bench/export.py, written alongside; None while it is not there."""
    try:
        module = importlib.import_module("bench.export")
    except ImportError:
        return None
    needed = ("synthesise", "in_child")
    return module if all(hasattr(module, n) for n in needed) else None


def export_figures(export: ModuleType, url: str, key: str) -> dict[str, Any]:
    """bench/export.py's own measurement: reading, then exporting, each in a fresh process."""
    read = export.in_child("read", url, "csv", key)
    exported = export.in_child("export", url, "csv", key)
    # with every format researchers use (issue 15): OCEL, XES, SPSS, Stata beside the CSV
    every = export.in_child("export", url, "csv", key, tuple(EXTRA_FORMATS))
    return {
        "export_read_events_per_s": read["events_per_s"],
        "export_read_peak_rss_mb": read["peak_rss_mb"],
        "export_events_per_s": exported["events_per_s"],
        "export_peak_rss_mb": exported["peak_rss_mb"],
        "export_events": exported["events"],
        "export_all_events_per_s": every["events_per_s"],
        "export_all_peak_rss_mb": every["peak_rss_mb"],
    }


def whole_log(store: Store, size: Size, run: Run) -> None:
    export = export_module()
    export_error = ""
    key = MasterKey.generate().to_text()
    raw: list[dict[str, Any]] = []
    with scratch(store, "log") as url:
        app = build_application(Settings(database_url=url, master_key=key))
        try:
            runner = projection_runner(app)
            events = girls = 0
            for rung, target in enumerate(size.log_ladder):
                say(f"{store}: building the log up to {target:,} events")
                started = time.perf_counter()
                # The demo's stories: four girls in five consent, so the export has work.
                added, added_girls = synthesise(app, target - events, cohort=256, seed=2014 + rung)
                events += added
                girls += added_girls
                built = time.perf_counter() - started
                say(f"{store}: read + decode, then rebuild, of {events:,} events")
                gc.collect()
                started = time.perf_counter()
                decoded = read_and_decode(app)
                read = time.perf_counter() - started
                assert decoded == events, (decoded, events)
                gc.collect()
                started = time.perf_counter()
                applied = runner.rebuild()
                rebuilt = time.perf_counter() - started
                assert applied == events, (applied, events)
                figures: dict[str, Any] = {
                    "events": events,
                    "trajectories": girls,
                    "build_seconds": round(built, 1),
                    "read_decode_events_per_s": round(events / read),
                    "rebuild_events_per_s": round(events / rebuilt),
                    "rebuild_seconds": round(rebuilt, 2),
                }
                if export is not None and not export_error:
                    say(f"{store}: research export of {events:,} events (fresh processes)")
                    try:
                        figures.update(export_figures(export, url, key))
                    except Exception as e:  # theirs, in the making: say so, go on
                        export_error = f"{type(e).__name__}: {str(e).strip()[-300:]}"
                        say(f"{store}: the research export failed: {export_error}")
                raw.append(figures)
                run.growth.append(
                    {
                        "store": store,
                        "axis": "events in the log",
                        "work": events,
                        **{k: v for k, v in figures.items() if k != "events"},
                    }
                )
        finally:
            app.close()
    run.raw.setdefault(store, {})["log"] = raw
    top = raw[-1]
    n = f"{top['events']:,}"
    run.rows.append(
        Row(
            store,
            f"rebuild all read models, {n} events",
            top["rebuild_events_per_s"],
            top["read_decode_events_per_s"],
            "events/s",
            ">= 0.5x",
            "higher",
            0.5,
            "baseline: library reads + decodes the same log",
        )
    )
    if export is None or "export_events_per_s" not in top:
        why = export_error or "bench/export.py not present yet"
        run.rows.append(
            Row(
                store,
                f"research export, {n} events",
                None,
                None,
                "events/s",
                ">= 0.5x",
                "higher",
                0.5,
                why,
            )
        )
        return
    run.rows += [
        Row(
            store,
            f"research export, {n} events",
            top["export_events_per_s"],
            top["export_read_events_per_s"],
            "events/s",
            ">= 0.5x",
            "higher",
            0.5,
            "baseline: library reads + decodes, in a fresh process too",
        ),
        Row(
            store,
            f"research export peak memory, {n} events",
            top["export_peak_rss_mb"],
            raw[0]["export_peak_rss_mb"],
            "MB",
            "< 300 MB, flat",
            "flat",
            300.0,
            f"baseline: the same export of {raw[0]['events']:,} events",
        ),
    ]
    if "export_all_events_per_s" in top:
        run.rows += [
            Row(
                store,
                f"research export, all formats, {n} events",
                top["export_all_events_per_s"],
                top["export_read_events_per_s"],
                "events/s",
                ">= 0.5x",
                "higher",
                0.5,
                "CSV + OCEL + XES + SPSS + Stata + Data Package; baseline as above",
            ),
            Row(
                store,
                f"research export, all formats, peak memory, {n} events",
                top["export_all_peak_rss_mb"],
                raw[0]["export_all_peak_rss_mb"],
                "MB",
                "< 300 MB, flat",
                "flat",
                300.0,
                f"baseline: the same export of {raw[0]['events']:,} events",
            ),
        ]


# -- the table ------------------------------------------------------------------------------


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("events/s", "MB"):
        return f"{value:,.0f} {unit}"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.2f} {unit}"


def table(rows: Sequence[Row]) -> str:
    head = f"{'store':8} {'figure':44} {'ours':>14} {'baseline':>14} {'ratio':>7} {'target':>15}"
    lines = [head + "  verdict", "-" * (len(head) + 9)]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        lines.append(
            f"{r.store:8} {r.figure[:44]:44} {_num(r.ours, r.unit):>14}"
            f" {_num(r.baseline, r.unit):>14} {ratio:>7} {r.target:>15}  {r.verdict}"
        )
    notes = [f"  {r.store} / {r.figure}: {r.note}" for r in rows if r.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def growth_tables(run: Run) -> str:
    out = []
    per = [g for g in run.growth if g["axis"] == "events per trajectory"]
    if per:
        out.append("growth with the events of one trajectory (p50, ms; flat is good)")
        out.append(
            f"{'store':8} {'events':>7} {'HTTP command':>13} {'library cmd':>12}"
            f" {'load':>8} {'library load':>13}"
        )
        for g in per:
            out.append(
                f"{g['store']:8} {g['work']:>7,} {g['command_http_p50_ms']:>13.2f}"
                f" {g['library_command_p50_ms']:>12.2f} {g['load_p50_ms']:>8.2f}"
                f" {g['library_load_p50_ms']:>13.2f}"
            )
    log = [g for g in run.growth if g["axis"] == "events in the log"]
    if log:
        out.append("")
        out.append("growth with the log (events/s: constant is linear; memory: flat is good)")
        out.append(
            f"{'store':8} {'events':>10} {'read+decode':>12} {'rebuild':>9}"
            f" {'export':>8} {'export MB':>10}"
        )
        for g in log:
            out.append(
                f"{g['store']:8} {g['work']:>10,} {g['read_decode_events_per_s']:>12,}"
                f" {g['rebuild_events_per_s']:>9,}"
                f" {g.get('export_events_per_s', '-'):>8}"
                f" {g.get('export_peak_rss_mb', '-'):>10}"
            )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller ladders, fewer samples")
    parser.add_argument("--stores", default="sqlite,postgres", help="comma-separated")
    parser.add_argument(
        "--only",
        default="api,log,pages",
        help="parts: api (with its library baselines), log, pages (bench.pages)",
    )
    args = parser.parse_args()
    configure_logging("warning")
    size = Size.of(args.quick)
    run = Run(size)
    parts = set(args.only.split(","))
    stores: list[Store] = [s for s in ("sqlite", "postgres") if s in args.stores.split(",")]
    started = time.perf_counter()
    run.raw["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    say(f"load average at start: {run.raw['load_average_at_start']}")
    with tempfile.TemporaryDirectory(prefix="bench-all-logs-") as logs:
        for store in stores:
            log = Path(logs) / f"server-{store}.log"
            try:
                if "api" in parts:
                    lib = library(store, size, run)
                    api(store, size, run, lib, log)
                if "log" in parts:
                    whole_log(store, size, run)
                if "pages" in parts:
                    care_pages(store, size, run, log)
            except Exception:
                with contextlib.suppress(OSError):
                    print(log.read_text()[-3000:], file=sys.stderr)
                raise
    print()
    print(table(run.rows))
    print()
    print(growth_tables(run))
    path = record(
        "run_all",
        {
            "quick": args.quick,
            "stores": stores,
            "parts": sorted(parts),
            "seconds": round(time.perf_counter() - started),
            "rows": [r.as_dict() for r in run.rows],
            "growth": run.growth,
            "raw": run.raw,
        },
    )
    print(f"\nrecorded in bench/results/{path.name}")


if __name__ == "__main__":
    main()
