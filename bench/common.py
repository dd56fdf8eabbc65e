"""Shared helpers for the benchmarks: stores, timing, and recording results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

RESULTS = Path(__file__).parent / "results"
POSTGRES_URL = os.environ.get(
    "TRAJECTORY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(percentile(samples, 0.95), 3),
        "p99_ms": round(percentile(samples, 0.99), 3),
        "n": len(samples),
    }


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A scratch PostgreSQL database for one benchmark, dropped afterwards."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on: they only compare on the same kind of machine."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_mb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        memory_mb = int(first.split()[1]) // 1024
    postgres = None
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn,
    ):
        row = conn.execute("SHOW server_version").fetchone()
        postgres = row[0] if row else None
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres,
        # Other work on the machine moves every figure: the 1, 5 and 15 minute load averages
        # when the run was recorded.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def record(name: str, figures: dict[str, Any]) -> Path:
    """Append one run's figures to bench/results/NAME.jsonl, with where and when."""
    RESULTS.mkdir(exist_ok=True)
    line = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        # Uncommitted changes to src/ or bench/ mean the commit alone does not say what ran.
        "dirty": bool(_git("status", "--porcelain", "--", "src", "bench", ":!bench/results")),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": machine(),
        **figures,
    }
    path = RESULTS / f"{name}.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line, sort_keys=True) + "\n")
    return path
