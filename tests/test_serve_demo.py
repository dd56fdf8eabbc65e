"""`trajectory serve --demo` for a person at a terminal: the demo's tokens and sign-ins on
standard output once the server listens (the logs stay on stderr), and a plain word when
the store already held data and no demo was loaded."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port
from tests.reliability_support import prepare_store, server_env
from trajectory.api.server import DEMO_USERS, announce_when_listening


@pytest.mark.slow
def test_serve_demo_on_a_store_with_data_says_so_and_prints_the_accounts_on_stdout(
    database_url: str, tmp_path: Path
) -> None:
    # given a store that already holds trajectories
    prepared = prepare_store(database_url, users=1, trajectories=2)
    port = free_port()
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    # when `trajectory serve --demo` starts on it
    with out_path.open("wb") as out, err_path.open("wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "trajectory", "serve", "--demo"],
            env=server_env(prepared.database_url, port=port), stdout=out, stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while "TOTP secret" not in out_path.read_text() or "otpauth" not in out_path.read_text():
            assert server.poll() is None, err_path.read_text()[-3000:]
            assert time.monotonic() < deadline, err_path.read_text()[-3000:]
            time.sleep(0.1)
        # then it listens by the time the accounts are printed
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    printed = out_path.read_text()
    # and it says plainly that no demo was loaded, and why
    assert "The store already held 2 trajectories: no demo data was loaded." in printed
    # and every demo account's token and sign-in are on standard output
    for _, name, *_ in DEMO_USERS:
        assert any(name in line and "trj_" in line for line in printed.splitlines()), name
        assert any(name in line and "password" in line for line in printed.splitlines()), name
    # while standard error holds the log lines only, none of them a secret
    logged = [line for line in err_path.read_text().splitlines() if line.strip()]
    assert logged
    for line in logged:
        assert isinstance(json.loads(line), dict), line
        assert "trj_" not in line


def test_the_accounts_are_printed_only_once_the_address_listens() -> None:
    # given an address nobody listens on yet
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        out = io.StringIO()
        # when the announcement waits for it
        thread = announce_when_listening("127.0.0.1", port, "tokens\n", out=out, timeout=10)
        time.sleep(0.3)
        # then nothing is printed before the server listens
        assert out.getvalue() == ""
        listener.listen()
        thread.join(timeout=5)
    # and the text once it does
    assert out.getvalue() == "tokens\n"
