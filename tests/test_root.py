"""The server's own address: a person lands on the pages, a program on the API's index.

Issue 17 (part 9): `/` answered 404, so someone opening the server's address landed
nowhere. The design's contract: "`/` leads to `/app/`".
"""

from __future__ import annotations

from typing import Any

from tests.live import live_server
from trajectory.api.root import wants_html
from trajectory.application import TrajectoryApplication

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_opening_the_address_is_sent_to_the_pages(app: TrajectoryApplication) -> None:
    # given the server; when a browser opens its bare address
    with live_server(app) as live, live.client() as http:
        answer = http.get("/", headers={"Accept": BROWSER_ACCEPT})
        # then it is redirected to the pages, and following it lands on a page (sign-in)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/app/"
        landed = http.get("/", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True)
    assert landed.status_code == 200
    assert landed.url.path.startswith("/app")
    assert "text/html" in landed.headers["content-type"]


def test_an_api_client_gets_the_index_with_the_openapi_document(
    app: TrajectoryApplication,
) -> None:
    # given the server; when a program asks its address for JSON, or names nothing
    with live_server(app) as live, live.client() as http:
        answers = [
            http.get("/", headers={"Accept": "application/json"}),
            http.get("/", headers={"Accept": "*/*"}),
            http.get("/", headers={"Accept": ""}),
        ]
        # then each gets the index, and its links answer
        for answer in answers:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("application/json")
            body: dict[str, Any] = answer.json()
            assert body["links"]["openapi"]["href"] == "/schema/openapi.json"
            assert body["links"]["health"]["href"] == "/health"
        assert http.get(body["links"]["openapi"]["href"]).json()["paths"]["/"]
        assert http.get(body["links"]["health"]["href"]).status_code == 200
        # and the answer says it depends on the Accept header (no cache mixes them up)
        assert "accept" in answers[0].headers.get("vary", "").lower()


def test_only_an_explicit_html_is_a_browser() -> None:
    assert wants_html(BROWSER_ACCEPT)
    assert wants_html("text/html")
    assert wants_html("TEXT/HTML; q=0.5")
    assert not wants_html("text/html;q=0, application/json")
    assert not wants_html("application/json")
    assert not wants_html("*/*")
    assert not wants_html("")
