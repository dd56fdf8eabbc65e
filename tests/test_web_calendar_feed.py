"""An agenda feed of due dates (iCalendar), without names: an agenda app cannot sign in,
so the feed lives at a secret address that she makes on her account page (confirming who
she is), sees once, and can renew or revoke. Only a hash of the address's secret is kept;
every fetch is access-logged; a revoked or unknown address answers 404."""

from __future__ import annotations

import re
from datetime import date

import httpx
from icalendar import Calendar

from tests.web_support import (
    GIRL,
    HANDED_OVER_GIRL,
    PASSWORD,
    Browser,
    World,
    csrf_of,
)

FEED = re.compile(r"(/app/calendar/[A-Za-z0-9_-]+\.ics)")


def make_feed(b: Browser, who: str = "coordinator") -> httpx.Response:
    """Ask for an agenda address on the account page, confirming password and a code."""
    page = b.get("/app/account")
    return b.post("/app/account/calendar", {
        "csrf_token": csrf_of(page.text), "reauth_password": PASSWORD,
        "reauth_code": b.code(who),
    })


def address_in(page: httpx.Response) -> str:
    found = FEED.search(page.text)
    assert found is not None, "the page shows no agenda address"
    return found.group(1)


def test_the_feed_is_made_only_after_she_confirms_who_she_is(world: World) -> None:
    with world.browser("coordinator") as b:
        page = b.get("/app/account")
        # when she asks for an address without her password and a code
        refused = b.post("/app/account/calendar", {"csrf_token": csrf_of(page.text)})
        # then nothing is made
        assert refused.status_code == 401
        assert FEED.search(refused.text) is None
        assert world.app.db.fetchall("SELECT * FROM calendar_feeds") == []
        # when she confirms with her password and a code
        made = make_feed(b)
        # then the page shows the address, once
        assert made.status_code == 200
        address = address_in(made)
        assert FEED.search(b.get("/app/account").text) is None
    # and only a hash of its secret is kept
    secret = address.rsplit("/", 1)[1].removesuffix(".ics")
    rows = world.app.db.fetchall("SELECT * FROM calendar_feeds")
    assert len(rows) == 1
    assert secret not in " ".join(str(v) for row in rows for v in row.values())


def test_the_feed_holds_her_due_dates_and_nothing_that_names_a_girl(world: World) -> None:
    # given an agenda address
    with world.browser("coordinator") as b:
        address = address_in(make_feed(b))
    # when her agenda app fetches it, signed in as nobody
    with world.browser() as app:
        fetched = app.get(address)
    # then it is an iCalendar of all-day events, one per due item of her girls
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(fetched.content)
    events = list(calendar.walk("VEVENT"))
    summaries = [str(e["SUMMARY"]) for e in events]
    assert any("Veiligheidsanalyse (fase 1)" in s for s in summaries), summaries
    assert any("overdracht" in s.lower() for s in summaries), summaries
    for event in events:
        assert isinstance(event.decoded("DTSTART"), date)
        assert str(event["URL"]).startswith("http")
    # and nothing in it names a girl or says when she was born
    text = fetched.content.decode()
    for forbidden in (GIRL, HANDED_OVER_GIRL, "Noor", "Sara", "1-4-2010", "20100401",
                      "2010-04-01", "Utrecht", "Zonnebloem"):
        assert forbidden not in text
    # and the same item has the same UID on the next fetch
    with world.browser() as app:
        again = Calendar.from_ical(app.get(address).content)
    assert sorted(str(e["UID"]) for e in again.walk("VEVENT")) == sorted(
        str(e["UID"]) for e in events
    )


def test_every_fetch_is_access_logged(world: World) -> None:
    with world.browser("coordinator") as b:
        address = address_in(make_feed(b))
    before = len(world.access())
    with world.browser() as app:
        app.get(address)
    entries = [e for e in world.access()[before:] if e["action"] == "calendar-read"]
    assert [(e["user_id"], e["outcome"]) for e in entries] == [("coordinator", "ok")]
    assert str(world.girl) in str(entries[0]["shown"])


def test_a_revoked_renewed_or_unknown_address_answers_404(world: World) -> None:
    with world.browser("coordinator") as b:
        first = address_in(make_feed(b))
        # when she renews it
        second = address_in(make_feed(b))
    # then the old address no longer answers, the new one does, an unknown one neither
    with world.browser() as app:
        assert app.get(first).status_code == 404
        assert app.get(second).status_code == 200
        assert app.get("/app/calendar/unknown-secret.ics").status_code == 404
    # when she stops it
    with world.browser("coordinator") as b:
        page = b.get("/app/account")
        stopped = b.post("/app/account/calendar/revoke", {"csrf_token": csrf_of(page.text)})
        assert stopped.status_code == 200
    # then it answers 404 too, and each refused fetch is in the log
    with world.browser() as app:
        assert app.get(second).status_code == 404
    denied = [e for e in world.access() if e["action"] == "calendar-read"
              and e["outcome"] == "denied"]
    assert len(denied) == 3


def test_a_revoked_user_s_feed_answers_404(world: World) -> None:
    with world.browser("coordinator") as b:
        address = address_in(make_feed(b))
    world.services.users.revoke("coordinator", world.clock())
    with world.browser() as app:
        assert app.get(address).status_code == 404
