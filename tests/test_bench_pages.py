"""The page benchmark, kept working at a size the suite can afford: a 50-event history
built through the API of a real server process, a coordinator signed in through the
sign-in pages, a few loads of each page next to its JSON baseline. (The figures
themselves are measured in `bench/`, with a 1,000-event history.)"""

from __future__ import annotations

from pathlib import Path

from bench.pages import CASELOAD_TARGET, PAGE_TARGET, exit_code, measure, rows
from bench.run_all import Row


def test_the_page_benchmark_times_her_page_and_the_caseload_beside_their_json(
    database_url: str, tmp_path: Path
) -> None:
    # Given an empty store
    # When the benchmark builds a girl of 50 events and loads each address 3 times
    raw = measure(database_url, events=50, loads=3, girls=2, log=tmp_path / "server.log")
    # Then her history was told through the write path, every kind of fact accepted by
    # the rules: a phase advanced, permissions, contacts, therapy, signals, a runaway and
    # her return, a correction
    assert raw["events"] == 50
    for kind in ("PhaseAdvanced", "PermissionChanged", "NetworkContactRegistered",
                 "NetworkContactRestored", "TraumaTherapySessionHeld", "SignalRecorded",
                 "RunawayReported", "RunawayEnded", "EntryCorrected"):
        assert raw["kinds"].get(kind, 0) >= 1, kind
    # and every address was timed as often, the pages through a signed-in session
    for name in ("page", "events_json", "summary_json", "caseload_page", "caseload_json"):
        assert raw[name]["n"] == 3, name
        assert 0 < raw[name]["p50_ms"] <= raw[name]["p95_ms"], name
    assert raw["bytes"]["page"] > raw["bytes"]["summary_json"]
    assert raw["memory_at_end_mb"]["peak"] >= raw["memory_after_sign_in_mb"]["peak"] > 0
    # and the table sets the page and the caseload against their targets
    found = {r.figure: r for r in rows("sqlite", raw)}
    assert found["girl's page (50 events), p50"].limit == PAGE_TARGET
    assert found["caseload page (3 girls), p50"].limit == CASELOAD_TARGET
    assert found["girl's page (50 events), p50"].verdict in ("PASS", "GAP")


def test_a_missed_target_fails_the_run() -> None:
    # Given a figure within its target, one past it, and an information row
    within = Row("sqlite", "page", 20.0, 10.0, "ms", "<= 3x", "lower", 3.0)
    missed = Row("sqlite", "page", 40.0, 10.0, "ms", "<= 3x", "lower", 3.0)
    info = Row("sqlite", "memory", 400.0, 100.0, "MB", "(info)", "info", 0)
    # Then only the one past its target makes the run fail
    assert exit_code([within, info]) == 0
    assert exit_code([within, missed, info]) == 1


def test_her_history_page_when_it_answers_stands_against_the_same_json() -> None:
    # Given a run in which /app/trajectories/{id}/history answered (4x the JSON)
    timing = {"p50_ms": 10.0, "p95_ms": 20.0, "n": 3}
    raw = {"events": 1000, "girls": 51, "has_history_page": True,
           **{name: timing for name in ("page", "events_json", "summary_json",
                                        "caseload_page", "caseload_json")},
           "history_page": {"p50_ms": 40.0, "p95_ms": 60.0, "n": 3},
           **{f"memory_{m}_mb": {"peak": 200.0, "now": 150.0}
              for m in ("after_build", "after_sign_in", "at_end")}}
    # When the table is made
    found = {r.figure: r for r in rows("sqlite", raw)}
    # Then her history page has its rows, against the JSON of her whole history
    history = found["her history page (1,000 events), p50"]
    assert (history.ours, history.baseline, history.verdict) == (40.0, 10.0, "GAP")
    assert "her history page (1,000 events), p95" in found
