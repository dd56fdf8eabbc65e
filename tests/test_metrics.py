"""`/metrics`: what operators watch, in Prometheus's text, for the scraper's token only.

Scraped over real HTTP and read back by prometheus-client's own parser: requests counted
per route template (never a path with an id in it), commits with their batch sizes, each
read model's lag, the pool or the disk, the running version. Without the setting the
endpoint does not exist (404), and no user's token opens it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.conftest import MASTER_KEY
from tests.live import Live, live_server
from trajectory import __version__
from trajectory.access_log import AccessEntry, AccessLog
from trajectory.application import TrajectoryApplication
from trajectory.metrics import Metrics
from trajectory.projections import PROJECTION_NAMES
from trajectory.settings import Settings

TOKEN = "metrics-" + "s" * 40
UUID_LIKE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
INTAKE: dict[str, Any] = {
    "intake_date": "2026-01-05",
    "victim_status": "suspected",
    "risk_profiles": ["traumatised"],
    "setting": "residential",
    "referral_source": "police",
    "legal_framework": "ots",
    "identity": {"name": "Meetbaar Meisje", "date_of_birth": "2010-05-05",
                 "home_region": "Utrecht"},
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, master_key=MASTER_KEY, metrics_token=TOKEN)


@pytest.fixture
def live(app: TrajectoryApplication) -> Iterator[Live]:
    with live_server(app) as server:
        yield server


def scrape(live: Live, token: str | None = TOKEN) -> dict[str, list[Sample]]:
    with live.client(token) as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        family.name: family.samples
        for family in text_string_to_metric_families(answer.text)
    }


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples
             if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert found, f"no {name} with {labels} in {samples}"
    return sum(found)


def test_the_scraper_reads_requests_per_route_template_and_no_id_in_any_label(
    live: Live, database_url: str
) -> None:
    # given a coordinator who opens a girl's file and reads it twice, over HTTP
    token = live.token("anna", "coordinator", "Stichting Meetbaar")
    with live.client(token) as http:
        opened = http.post("/trajectories", json=INTAKE)
        assert opened.status_code == 201, opened.text
        trajectory_id = opened.json()["id"]
        for _ in range(2):
            assert http.get(f"/trajectories/{trajectory_id}").status_code == 200
        assert http.get("/trajectories/not-an-id").status_code == 404
    # when the scraper asks with its token
    families = scrape(live)
    # then each request is counted under its route template, method and status
    requests = families["trajectory_http_requests"]
    summary = "/trajectories/{trajectory_id:str}"
    assert value(requests, "trajectory_http_requests_total",
                 route=summary, method="GET", status="200") == 2
    assert value(requests, "trajectory_http_requests_total",
                 route=summary, method="GET", status="404") == 1
    assert value(requests, "trajectory_http_requests_total",
                 route="/trajectories", method="POST", status="201") == 1
    latency = families["trajectory_http_request_duration_seconds"]
    assert value(latency, "trajectory_http_request_duration_seconds_count",
                 route=summary, status="200") == 2
    # and no label of any metric carries an id, the raw path or a name
    for samples in families.values():
        for sample in samples:
            for label in sample.labels.values():
                assert not UUID_LIKE.search(label), sample
                assert "not-an-id" not in label, sample
                assert "Meetbaar" not in label, sample
    # and the write's commit and the reads' access-log commits are timed, with batch sizes
    assert value(families["trajectory_commits"], "trajectory_commits_total", kind="write") >= 1
    assert value(families["trajectory_commit_batch_size"], "trajectory_commit_batch_size_count",
                 kind="access_log") >= 1
    assert value(families["trajectory_commit_batch_size"], "trajectory_commit_batch_size_sum",
                 kind="write") == value(families["trajectory_commit_batch_size"],
                                        "trajectory_commit_batch_size_count", kind="write")
    assert value(families["trajectory_access_log_write_failures"],
                 "trajectory_access_log_write_failures_total") == 0
    # and every read model's lag behind the log, and the running version
    lags = {s.labels["projection"] for s in families["trajectory_projection_lag_events"]}
    assert lags == set(PROJECTION_NAMES)
    assert value(families["trajectory_build_info"], "trajectory_build_info",
                 version=__version__) == 1
    # and the pool (PostgreSQL) or the disk the store is on (SQLite)
    if database_url.startswith("postgres"):
        assert value(families["trajectory_db_pool_max"], "trajectory_db_pool_max") >= 1
    else:
        assert value(families["trajectory_store_disk_free_bytes"],
                     "trajectory_store_disk_free_bytes") > 0


def test_no_users_token_and_no_wrong_token_opens_the_metrics(live: Live) -> None:
    # given a user of every kind an API knows
    admin = live.token("beheer", "admin", "Stichting Meetbaar")
    # when they, an anonymous caller and a wrong scraper token ask
    for token in (admin, None, TOKEN + "x"):
        with live.client(token) as http:
            answer = http.get("/metrics")
        # then the endpoint is not there for them
        assert answer.status_code == 404, token
        assert answer.headers["content-type"].startswith("application/problem+json")
    # and it is not in the API's document
    with live.client() as http:
        assert "/metrics" not in http.get("/schema/openapi.json").json()["paths"]
    # while the scraper still reads it
    assert scrape(live)


def test_without_the_setting_the_metrics_do_not_exist(
    database_url: str, clock: Any
) -> None:
    # given an installation that set no metrics token
    from tests.conftest import all_protocols
    from trajectory.composition import build_application

    settings = Settings(database_url=database_url, master_key=MASTER_KEY)
    application = build_application(settings, clock=clock, protocols=all_protocols())
    try:
        with live_server(application) as live:
            # when anyone asks, with any token
            for token in (None, TOKEN, "anything"):
                with live.client(token) as http:
                    # then it answers as a path that does not exist
                    assert http.get("/metrics").status_code == 404
            # and nothing is counted
            assert live.services.metrics is None
    finally:
        application.close()


def test_an_access_log_entry_that_cannot_be_written_is_counted(
    app: TrajectoryApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the access log of an app with metrics
    metrics = Metrics(version=__version__, store=app.dialect)
    access = AccessLog(app.db)
    access.commit_observers.append(metrics.observe_commit)

    def refuse(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(app.db, "write", refuse)
    entry = AccessEntry(at=datetime.now(UTC), user_id="admin", on_behalf_of=None, role="admin",
                        organisation="org", client=None, action="audit-read",
                        trajectory_id=None, outcome="ok", request_id=None)
    # when an entry cannot be written
    with pytest.raises(RuntimeError):
        access.append(entry)
    # then the failure is counted, and no commit
    families = {f.name: f.samples
                for f in text_string_to_metric_families(metrics.render().decode())}
    assert value(families["trajectory_access_log_write_failures"],
                 "trajectory_access_log_write_failures_total") == 1
    assert value(families["trajectory_commits"], "trajectory_commits_total",
                 kind="access_log") == 0


def test_two_apps_in_one_process_count_apart() -> None:
    # given two apps' metrics in one process (tests, a benchmark beside a server)
    first = Metrics(version=__version__, store="sqlite")
    second = Metrics(version=__version__, store="postgres")
    # when one counts a request
    first.observe_request("GET", "/health", 200, 0.001)
    # then the other has not seen it (no shared, global registry)
    assert b'route="/health"' in first.render()
    assert b'route="/health"' not in second.render()
