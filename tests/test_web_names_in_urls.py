"""No girl's name travels in an address or a page title: addresses go into the reverse
proxy's access log and the browser's history, titles into history, tabs and window lists.
The search by name is a form posted with the session's CSRF token; signing in again after
a time-out returns to the page's path, without its query string."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from tests.web_support import GIRL, Page, World, csrf_of, sqlite_only

NAME = "Verborgen"  # part of GIRL's name


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None, "the page has no title"
    return found.group(1)


@sqlite_only
def test_the_search_by_name_is_posted_and_no_address_carries_the_name(world: World) -> None:
    # given a signed-in coordinator on her caseload
    with world.browser("coordinator") as b:
        page = b.get("/app/caseload")
        form = Page.of(page.text).find("form", **{"class": "filters"})
        # then the search form posts its fields, with the session's CSRF token
        assert [e.attrs.get("method") for e in form] == ["post"]
        # when she searches for a girl by name
        found = b.post("/app/caseload", {"csrf_token": csrf_of(page.text), "q": NAME})
        # then the girl is found, and neither the address nor a link on the page names her
        assert found.status_code == 200
        assert GIRL in found.text
        assert NAME not in unquote_plus(str(found.url))
        links = [a.attrs.get("href") or "" for a in Page.of(found.text).find("a")]
        assert not [h for h in links if NAME in unquote_plus(h)]


@sqlite_only
def test_an_old_search_address_is_sent_on_without_the_name_and_searches_nothing(
    world: World,
) -> None:
    # given a bookmarked search address from before
    with world.browser("coordinator") as b:
        # when it is opened
        answer = b.get(f"/app/caseload?q={NAME}&phase=1", follow_redirects=False)
        # then it is sent on to the caseload without the name, filters kept
        assert answer.status_code == 303
        assert answer.headers["location"] == "/app/caseload?phase=1"
    assert not [e for e in world.access(world.girl) if e["action"] == "search"]


@sqlite_only
def test_after_a_time_out_next_carries_the_path_and_no_query_string(world: World) -> None:
    # given a signed-out browser at a search address with a name in it
    with world.browser() as b:
        # when it asks for the page
        answer = b.get(f"/app/caseload?q={NAME}", follow_redirects=False)
        # then the sign-in page it is sent to names the path only
        assert answer.status_code == 303
        location = unquote_plus(answer.headers["location"])
        assert NAME not in location
        assert location == "/app/login?next=/app/caseload"


@sqlite_only
def test_no_page_title_names_the_girl(world: World) -> None:
    # given a coordinator on her girl's page
    with world.browser("coordinator") as b:
        page = b.get(f"/app/trajectories/{world.girl}")
        assert page.status_code == 200
        # then her name is on the page, but not in its title
        assert GIRL in page.text
        assert GIRL not in title_of(page.text)
        assert "Verborgen" not in title_of(page.text)
