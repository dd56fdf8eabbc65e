"""The research export's benchmark, kept working at a size the suite can afford: a log of a
few hundred events, read and exported with every format, each in a fresh process, on both
stores. (The figures themselves are measured in `bench/`, on logs of 100k and 1M events.)"""

from __future__ import annotations

from bench.export import in_child
from bench.rebuild import synthesise

from tests.conftest import MASTER_KEY
from trajectory.composition import build_application
from trajectory.research.formats import EXTRA_FORMATS
from trajectory.settings import Settings


def test_the_export_benchmark_measures_every_format_against_the_librarys_reading(
    settings: Settings, database_url: str
) -> None:
    # Given a small synthetic log of the demo's stories (four girls in five consenting)
    app = build_application(settings)
    try:
        events, girls = synthesise(app, 400, cohort=8, seed=7)
    finally:
        app.close()
    # When the benchmark reads it as the library does and exports it with every format
    read = in_child("read", database_url, "csv", MASTER_KEY)
    exported = in_child("export", database_url, "csv", MASTER_KEY, tuple(EXTRA_FORMATS))
    # Then both count the whole log, each with its own peak memory, and the export wrote
    # the consenting girls' events
    assert read["events"] == exported["events"] == events
    assert girls > 1
    assert 0 < exported["exported_girls_events"] <= events
    assert read["peak_rss_mb"] > 0
    assert exported["peak_rss_mb"] > 0
