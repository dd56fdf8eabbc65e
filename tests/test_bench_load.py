"""The realistic load test (`bench.load`) in its short form, on both stores: a handful of
coordinators and an aftercare worker doing a day's mix against a real server process over
the demo's organisations, for a bounded time. Every request must succeed. (The full form,
50 users for five minutes, is run by hand: bench/README.md.)"""

from __future__ import annotations

from pathlib import Path

from bench.load import run, table

SECONDS = 20.0


def test_a_short_day_of_coordinators_and_aftercare_workers_answers_without_errors(
    database_url: str, tmp_path: Path
) -> None:
    # given the demo's organisations with twelve girls, eight coordinators of their teams
    # and two aftercare workers
    # when they work for twenty seconds with short think times
    result = run(postgres=database_url.startswith("postgres"), users=10, seconds=SECONDS,
                 think=0.2, girls=12, url=database_url, log=tmp_path / "server.log")
    print(table(result))
    # then nothing failed
    assert result["errors"] == [], result["errors"][:5]
    # and every step of the day was taken, by both kinds of user
    assert result["coordinators"] == 8
    assert result["aftercare"] == 2
    routes = result["routes"]
    for route in ("GET /trajectories", "GET /trajectories/{id}",
                  "GET /trajectories/{id}/events", "POST /trajectories/{id}/signals",
                  "GET /trajectories?overdue=true", "GET /trajectories (handed over)",
                  "GET /trajectories/{id}/handover", "GET /out-of-view"):
        assert routes.get(route, {}).get("n", 0) > 0, (route, sorted(routes))
    # and the figures were measured: throughput and the server's CPU per request
    assert result["requests_per_s"] > 0
    assert result["server_cpu_ms_per_request"] > 0
    assert SECONDS <= result["seconds"] < SECONDS + 30
