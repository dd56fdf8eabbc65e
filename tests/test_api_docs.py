"""The interactive API docs load their viewer from a CDN onto the care pages' origin, so
they are off unless the settings ask for them. The OpenAPI document itself is always
there: clients and the contract tests read it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from tests.conftest import FakeClock
from tests.live import Live, live_server
from trajectory.application import TrajectoryApplication
from trajectory.settings import Settings


@contextmanager
def server(tmp_path: Path, api_docs: Literal["off", "on"] | None = None) -> Iterator[Live]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    if api_docs is not None:
        settings = Settings(database_url=settings.database_url, api_docs=api_docs)
    application = TrajectoryApplication(settings, clock=FakeClock())
    try:
        with live_server(application) as live:
            yield live
    finally:
        application.close()


def test_by_default_no_page_loads_a_script_from_elsewhere_and_the_document_stays(
    tmp_path: Path,
) -> None:
    # given a server with the default settings
    with server(tmp_path) as live, live.client() as http:
        # when the docs' addresses are asked for
        swagger = http.get("/schema/swagger")
        root = http.get("/schema")
        document = http.get("/schema/openapi.json")
    # then there is no interactive page, nothing names a CDN, and the policy allows no
    # inline script; the OpenAPI document is served as before
    assert swagger.status_code == 404
    for answer in (swagger, root, document):
        assert "cdn.jsdelivr.net" not in answer.text
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "trajectory"


def test_the_interactive_docs_are_served_when_the_settings_ask_for_them(
    tmp_path: Path,
) -> None:
    # given a development server with TRAJECTORY_API_DOCS=on
    with server(tmp_path, api_docs="on") as live, live.client() as http:
        # when the docs page is asked for
        swagger = http.get("/schema/swagger")
    # then it is there, with the policy its viewer needs
    assert swagger.status_code == 200
    assert "swagger-ui" in swagger.text
    assert "cdn.jsdelivr.net" in swagger.headers["content-security-policy"]


def test_the_setting_reads_from_the_environment_and_is_off_unless_given() -> None:
    assert Settings.from_env({}).api_docs == "off"
    assert Settings.from_env({"TRAJECTORY_API_DOCS": "on"}).api_docs == "on"
