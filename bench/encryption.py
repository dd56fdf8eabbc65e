"""The cost of encryption at rest, measured in one run on SQLite and PostgreSQL.

For each store, with and without per-trajectory encryption: the latency of one command
(load + rules + hash chain + save) and the replay of a 200-event trajectory without a
snapshot. Prints a table and the ratios; appends to bench/results/encryption.jsonl.

    .venv/bin/python -m bench.encryption [--commands 300]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from tests.builders import COORDINATOR, intake

from bench.common import postgres_database, record, summary, timed
from trajectory.application import project_trajectory
from trajectory.commands import RecordSignal
from trajectory.composition import build_application
from trajectory.crypto import MasterKey
from trajectory.logs import configure_logging
from trajectory.settings import Settings


def measure(url: str, *, encrypt: bool, commands: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url, master_key=MasterKey.generate().to_text(), snapshot_interval=10_000
    )
    app = build_application(settings, encrypt=encrypt)
    try:
        tid = app.open_trajectory(intake(), COORDINATOR).trajectory_id
        signal = RecordSignal(kind="loverboy", note="a short note of ordinary length")
        for _ in range(20):  # warm up
            app.execute(tid, signal, COORDINATOR)
        latency = timed(lambda: app.execute(tid, signal, COORDINATOR), commands)
        long_id = app.open_trajectory(intake(), COORDINATOR).trajectory_id
        for _ in range(199):
            app.execute(long_id, signal, COORDINATOR)
        replay = timed(lambda: project_trajectory(None, app.events.get(long_id)), 30)
        return {"command": summary(latency), "replay_200": summary(replay)}
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=300)
    args = parser.parse_args()
    configure_logging("warning")
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for encrypt in (False, True):
            url = f"sqlite:///{Path(tmp) / f'bench-{encrypt}.sqlite'}"
            figures[f"sqlite/{'encrypted' if encrypt else 'plain'}"] = measure(
                url, encrypt=encrypt, commands=args.commands
            )
    for encrypt in (False, True):
        with postgres_database(f"bench_encryption_{int(encrypt)}") as url:
            figures[f"postgres/{'encrypted' if encrypt else 'plain'}"] = measure(
                url, encrypt=encrypt, commands=args.commands
            )
    print(f"{'store':22} {'command p50':>12} {'p99':>8} {'replay 200 p50':>15}")
    for name, f in figures.items():
        print(
            f"{name:22} {f['command']['p50_ms']:>10.2f}ms {f['command']['p99_ms']:>6.2f}ms"
            f" {f['replay_200']['p50_ms']:>13.2f}ms"
        )
    for store in ("sqlite", "postgres"):
        plain, enc = figures[f"{store}/plain"], figures[f"{store}/encrypted"]
        command = enc["command"]["p50_ms"] / plain["command"]["p50_ms"]
        replay = enc["replay_200"]["p50_ms"] / plain["replay_200"]["p50_ms"]
        print(f"{store}: encryption x{command:.2f} per command (p50), x{replay:.2f} per replay")
    path = record("encryption", figures)
    print(
        f"recorded in {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    )


if __name__ == "__main__":
    main()
