"""The edge: an oversized or slow request head is refused before anything parses it, and
no Cookie header ever reaches the interpreter's quadratic cookie parser.

The review's probe, as a test: one unauthenticated request with a 120 kB Cookie header of
backslashes (CVE-2024-7592 in Python before 3.11.10) once held `trajectory serve` for 22
seconds, `/health` included. Here a real `trajectory serve` gets the same request from a
thread while the test asks `/health`.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar._parsers import parse_cookie_string

from tests.live import free_port
from tests.reliability_support import Server, running
from tests.web_support import World, sqlite_only
from trajectory.api import server as server_module
from trajectory.api.app import create_app
from trajectory.api.connection_guard import GuardedHttpToolsProtocol
from trajectory.api.edge import MAX_FIELD_BYTES, MAX_TARGET_BYTES, parse_cookies
from trajectory.api.server import UVICORN, interpreter_fixes_cookie_parsing

BACKSLASHES = 120_000


def raw_request(port: int, head: bytes, timeout: float = 30) -> tuple[bytes, float]:
    """Send a request head as it is; return the answer's first line and the seconds."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0], time.monotonic() - started


def read_until_closed(s: socket.socket) -> bytes:
    answer = b""
    with suppress(ConnectionResetError):
        while chunk := s.recv(4096):
            answer += chunk
    return answer


def hostile_cookie_request() -> bytes:
    cookie = b'trj_lang="' + b"\\" * BACKSLASHES + b'"'
    return (
        b"GET /app/caseload HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie + b"\r\n\r\n"
    )


# -- the review's probe, on a real server process ----------------------------------------------
def test_a_120_kB_cookie_is_refused_with_431_while_health_answers_within_a_second(
    tmp_path: Path,
) -> None:
    # Given a running `trajectory serve`
    server = Server(f"sqlite:///{tmp_path / 'edge.sqlite'}", tmp_path / "serve.log")
    with running(server):
        server.start_and_wait()
        big: dict[str, Any] = {}

        def send_big() -> None:
            big["answer"], big["seconds"] = raw_request(server.port, hostile_cookie_request())

        # When one client sends the 120 kB Cookie header and another asks /health meanwhile
        sender = threading.Thread(target=send_big)
        sender.start()
        time.sleep(0.05)
        health_seconds = []
        for _ in range(5):
            started = time.monotonic()
            answer = httpx.get(f"{server.base_url}/health", timeout=30)
            health_seconds.append(time.monotonic() - started)
            assert answer.status_code == 200
        sender.join(timeout=60)

    # Then /health kept answering within a second, and the big request was refused
    assert max(health_seconds) < 1.0, health_seconds
    assert big["answer"].startswith(b"HTTP/1.1 431"), big
    assert big["seconds"] < 2.0, big
    # and an interpreter without the cookie fix was named at start-up
    outdated = [e for e in server.log_events() if e.get("event") == "interpreter_outdated"]
    running_version = (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
    assert bool(outdated) != interpreter_fixes_cookie_parsing(running_version), outdated


# -- the same limits on the app, whatever server runs it ---------------------------------------
@sqlite_only
def test_an_oversized_header_field_is_refused_with_431_naming_the_field(world: World) -> None:
    with world.browser() as b:
        answer = b.get("/app/login", headers={"Cookie": "trj_lang=" + "a" * MAX_FIELD_BYTES})
    assert answer.status_code == 431, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [
        {"field": "cookie", "message": f"header field longer than {MAX_FIELD_BYTES} bytes"}
    ]
    assert answer.headers["x-content-type-options"] == "nosniff"  # the hygiene still ran


@sqlite_only
def test_many_header_fields_together_over_the_limit_are_refused_with_431(
    world: World,
) -> None:
    headers = {f"x-filler-{n}": "a" * 4000 for n in range(10)}
    with world.browser() as b:
        answer = b.get("/health", headers=headers)
    assert answer.status_code == 431, answer.text
    assert answer.json()["errors"][0]["field"] == "headers"


@sqlite_only
def test_an_overlong_request_target_is_refused_with_414(world: World) -> None:
    with world.browser() as b:
        answer = b.get("/app/caseload?q=" + "a" * MAX_TARGET_BYTES)
    assert answer.status_code == 414, answer.text
    assert answer.json()["errors"][0]["field"] == "request target"


@sqlite_only
def test_a_page_never_hands_its_cookies_to_the_interpreters_parser(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the interpreter's cookie unquoting made to fail loudly
    def vulnerable(_: str) -> str:
        raise AssertionError("http.cookies._unquote was called")

    monkeypatch.setattr("litestar._parsers.unquote_cookie", vulnerable)
    parse_cookie_string.cache_clear()
    # When a person signs in and opens pages with cookies (a quoted one among them)
    with world.browser("coordinator") as b:
        b.client.cookies.set("trj_lang", '"en"', path="/app")
        page = b.get("/app/caseload")
    # Then the pages work, in the language of the quoted cookie
    assert page.status_code == 200, page.text
    assert 'lang="en"' in page.text


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(header=st.text(alphabet='ab=; "\\017%2é', max_size=40))
def test_our_cookie_reading_is_litestars_reading(header: str) -> None:
    assert parse_cookies(header) == parse_cookie_string.__wrapped__(header)


def test_our_cookie_reading_is_linear_in_backslashes() -> None:
    # (CPU time, not the wall clock: a loaded machine must not fail it. A parser that is
    # quadratic in backslashes takes hours on a million; a linear one a fraction of a
    # second.)
    started = time.process_time()
    parse_cookies('trj_lang="' + "\\" * 1_000_000 + '"')
    assert time.process_time() - started < 2.0


# -- the connection guard -------------------------------------------------------------------
class QuickGuard(GuardedHttpToolsProtocol):
    """The server's guard with a deadline short enough for a test."""

    head_seconds = 0.5


@pytest.fixture
def guarded_port(world: World) -> Iterator[int]:
    port = free_port()
    config = uvicorn.Config(
        create_app(world.services), host="127.0.0.1", port=port,
        **{**UVICORN, "http": QuickGuard},
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@sqlite_only
def test_a_head_sent_line_by_line_too_slowly_is_answered_408_and_closed(
    guarded_port: int,
) -> None:
    with socket.create_connection(("127.0.0.1", guarded_port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        for n in range(10):  # one header line every 0.2 s: never complete
            time.sleep(0.2)
            try:
                s.sendall(b"X-Slow-%d: 1\r\n" % n)
            except OSError:
                break
        s.settimeout(3)  # the answer, then the end of the connection; not a timeout
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < 6  # the deadline and the linger, not for ever


@sqlite_only
def test_a_connection_that_sends_nothing_is_closed(guarded_port: int) -> None:
    with socket.create_connection(("127.0.0.1", guarded_port), timeout=5) as s:
        started = time.monotonic()
        assert s.recv(4096) == b""
    assert time.monotonic() - started < 4


@sqlite_only
def test_a_head_over_the_raw_limit_is_refused_with_431_before_it_is_complete(
    guarded_port: int,
) -> None:
    # A head that never ends: the guard answers once it is over the limit
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000
    first_line, _ = raw_request(guarded_port, head, timeout=5)
    assert first_line.startswith(b"HTTP/1.1 431"), first_line  # not 408: not the deadline


@sqlite_only
def test_a_normal_request_passes_the_guard_and_keeps_its_connection(guarded_port: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{guarded_port}") as client:
        for _ in range(3):
            assert client.get("/health").status_code == 200
            time.sleep(0.3)  # idle between requests is not a slow head


def test_the_server_warns_on_an_interpreter_without_the_cookie_fix() -> None:
    assert not interpreter_fixes_cookie_parsing((3, 11, 7))
    assert interpreter_fixes_cookie_parsing((3, 11, 10))
    assert not interpreter_fixes_cookie_parsing((3, 12, 5))
    assert interpreter_fixes_cookie_parsing((3, 12, 6))
    assert interpreter_fixes_cookie_parsing((3, 13, 0))
    assert UVICORN["http"] is GuardedHttpToolsProtocol
    server_module.warn_if_interpreter_outdated((3, 11, 7))  # a log line, never a refusal
