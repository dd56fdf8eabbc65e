"""What operators watch (Prometheus): requests, commits, read-model lag, the pool, the version.

One registry per `Metrics`, never the library's global one: two apps in one process (the
tests, a benchmark beside a server) each count their own, and nothing registers twice.

Labels carry route templates (`/trajectories/{trajectory_id:str}`), methods, statuses,
read-model names and commit kinds only: never a path as it came, an id, a user or a name.

Several API processes (`serve --workers N`): each process keeps its own registry, and a
scrape of the shared address is answered by whichever worker takes it. prometheus-client's
multiprocess mode was weighed and left out: it exports every metric created in the process
(no registry of one's own), its Info metric and custom collectors (the lag and the pool,
read at scrape time here) do not work, and it needs a directory shared by the workers and
wiped at each start. Operators who want every process counted run one `trajectory serve`
per port and scrape each as a target (docs/operations.md); the server warns at start when
the metrics are on under several workers (`metrics_per_worker`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COMMIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                  0.25, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

CommitObserver = Callable[[str, float, int, bool], None]
"""Told of each commit: its kind (`write`, `access_log`), its seconds, its batch size, and
whether it committed."""


class Metrics:
    """The registry and the metrics of one app. `observe_*` are cheap and thread-safe;
    `render` reads the store (lag, pool) and so belongs in a worker thread."""

    def __init__(self, *, version: str, store: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "trajectory_http_requests", "HTTP requests answered, by route template and status",
            labels, registry=self.registry,
        )
        self.latency = Histogram(
            "trajectory_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status",
            labels, buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        self.commits = Counter(
            "trajectory_commits", "Transactions committed, by kind (write, access_log)",
            ("kind",), registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "trajectory_commit_duration_seconds", "Time a commit took, by kind",
            ("kind",), buckets=COMMIT_BUCKETS, registry=self.registry,
        )
        self.batch_size = Histogram(
            "trajectory_commit_batch_size",
            "Commands or entries written in one commit, by kind (a group commit's batch)",
            ("kind",), buckets=BATCH_BUCKETS, registry=self.registry,
        )
        self.access_log_failures = Counter(
            "trajectory_access_log_write_failures",
            "Access-log entries that could not be written (the act they log failed with them)",
            registry=self.registry,
        )
        self.commit_failures = Counter(
            "trajectory_commit_failures", "Commits that failed, by kind",
            ("kind",), registry=self.registry,
        )
        info = Info("trajectory_build", "The running version and store", registry=self.registry)
        info.info({"version": version, "store": store})
        for kind in ("write", "access_log"):  # present from the start, at zero
            self.commits.labels(kind=kind)
            self.commit_failures.labels(kind=kind)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route, status=str(status)).observe(seconds)

    def observe_commit(self, kind: str, seconds: float, batch: int, ok: bool) -> None:
        if not ok:
            self.commit_failures.labels(kind=kind).inc()
            if kind == "access_log":
                self.access_log_failures.inc(batch)
            return
        self.commits.labels(kind=kind).inc()
        self.commit_seconds.labels(kind=kind).observe(seconds)
        self.batch_size.labels(kind=kind).observe(batch)

    def watch(self, collector: Collector) -> None:
        """Add a collector read at each scrape (the read models' lag, the pool)."""
        self.registry.register(collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class Timed:
    """A commit timed for `observers`: `with Timed(observers, "write", 1): commit()`. An
    error leaving the block is told as a failed commit, and goes on."""

    def __init__(self, observers: list[CommitObserver], kind: str, batch: int) -> None:
        self.observers, self.kind, self.batch = observers, kind, batch
        self.started = 0.0

    def __enter__(self) -> Timed:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        seconds = time.perf_counter() - self.started
        for observe in self.observers:
            observe(self.kind, seconds, self.batch, error is None)


class LagCollector:
    """Each read model's position in the log and its lag behind the log's head, read at
    the scrape (`status`: the runner's, a list of name, position and lag)."""

    def __init__(self, status: Callable[[], list[Any]]) -> None:
        self.status = status

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "trajectory_projection_lag_events",
            "Notifications in the log not yet applied by a read model (an upper bound on"
            " PostgreSQL, whose ids can have gaps)",
            labels=["projection"],
        )
        position = GaugeMetricFamily(
            "trajectory_projection_position", "The last notification id a read model applied",
            labels=["projection"],
        )
        for row in self.status():
            lag.add_metric([row.name], row.lag)
            position.add_metric([row.name], row.position)
        yield lag
        yield position


class PoolCollector:
    """The PostgreSQL connection pool's figures (psycopg_pool's `get_stats`), read at the
    scrape; SQLite has no pool to show."""

    STATS = {
        "pool_size": "Connections the pool holds now, in use or idle",
        "pool_available": "Idle connections, ready to use",
        "pool_max": "The most connections the pool may open",
        "requests_waiting": "Requests waiting for a connection now",
    }

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.pool.get_stats()
        for name, text in self.STATS.items():
            family = GaugeMetricFamily(f"trajectory_db_{name}", text)
            family.add_metric([], float(stats.get(name, 0)))
            yield family


class DiskCollector:
    """Free space where the SQLite store lives (PostgreSQL's disk is the database
    server's: watch it there, with the node exporter)."""

    def __init__(self, path: str) -> None:
        self.directory = Path(path).resolve().parent

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        usage = shutil.disk_usage(self.directory)
        free = GaugeMetricFamily(
            "trajectory_store_disk_free_bytes", "Free bytes on the SQLite store's file system"
        )
        free.add_metric([], float(usage.free))
        yield free
