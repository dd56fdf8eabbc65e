"""What the security review of December 2026 found in the web sign-in and sessions, each
reproduced with the review's own requests: an empty form that passed the CSRF check, a
foreign Origin that was never looked at, password guessing per address only and not at
all inside a session, a second factor re-bound without the current code, sessions that
outlived a credential change, failed attempts missing from the access log, and a cookie
never marked Secure behind the TLS proxy."""

from __future__ import annotations

from tests.web_support import World, csrf_of, sqlite_only

FOREIGN = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


# -- CSRF: an empty body, a foreign origin -------------------------------------------------------


def test_an_empty_form_without_token_from_a_foreign_origin_accepts_no_handover(
    world: World,
) -> None:
    tid = world.handed_over
    version = world.version(tid)
    with world.browser("aftercare") as b:
        answer = b.client.post(f"/app/trajectories/{tid}/forms/handover-acceptance",
                               content=b"", headers=FOREIGN)
        assert answer.status_code == 403
        assert "niets vastgelegd" in answer.text
        started = b.client.post(f"/app/trajectories/{tid}/forms/aftercare-start",
                                content=b"", headers=FOREIGN)
        assert started.status_code == 403
    assert world.version(tid) == version


@sqlite_only
def test_an_empty_sign_out_from_a_foreign_origin_leaves_the_session(world: World) -> None:
    with world.browser("coordinator") as b:
        answer = b.client.post("/app/logout", content=b"", headers=FOREIGN,
                               follow_redirects=False)
        assert answer.status_code == 403
        assert b.get("/app/caseload", follow_redirects=False).status_code == 200


@sqlite_only
def test_a_form_with_its_token_but_from_another_origin_is_refused(world: World) -> None:
    path = f"/app/trajectories/{world.girl}/forms/signal"
    version = world.version(world.girl)
    with world.browser("coordinator") as b:
        token = csrf_of(b.get(path).text)
        form = {"csrf_token": token, "kind": "loverboy", "note": "x"}
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Referer": "https://evil.example/page"},
            {"Sec-Fetch-Site": "same-site"},
        ):
            answer = b.post(path, form, headers=headers)
            assert answer.status_code == 403, headers
        assert world.version(world.girl) == version
        # the same form from the page itself goes through
        same = b.post(path, form, headers={"Origin": "http://testserver.local",
                                           "Sec-Fetch-Site": "same-origin"},
                      follow_redirects=False)
        assert same.status_code == 303, same.text
    assert world.version(world.girl) == version + 1


@sqlite_only
def test_an_empty_sign_in_form_is_refused_like_a_wrong_token(world: World) -> None:
    with world.browser() as b:
        b.get("/app/login")
        answer = b.client.post("/app/login", content=b"", follow_redirects=False)
        assert answer.status_code == 403
