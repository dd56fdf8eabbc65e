"""A real server for API tests: uvicorn on a free port in a thread, spoken to over TCP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from trajectory.api.app import create_app
from trajectory.api.context import Services
from trajectory.api.throttle import FailureThrottle
from trajectory.application import TrajectoryApplication
from trajectory.composition.http import build_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    base_url: str
    services: Services

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def token(self, name: str, role: str, organisation: str, user_id: str | None = None) -> str:
        app = self.services.application
        _, token = self.services.users.add(
            name=name, role=role, organisation=organisation, now=app.clock(), user_id=user_id
        )
        return token


@contextmanager
def live_server(
    application: TrajectoryApplication, *, throttle: FailureThrottle | None = None
) -> Iterator[Live]:
    services = build_services(application, throttle=throttle)
    port = free_port()
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield Live(base_url=f"http://127.0.0.1:{port}", services=services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
