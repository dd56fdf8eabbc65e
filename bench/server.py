"""The API server as `trajectory serve` runs it, plus one empty endpoint for a baseline.

Same settings (from the environment), same services, same in-process projection runner,
same uvicorn configuration (`api.server.UVICORN`); the only addition is `GET /bench/empty`,
a Litestar handler that does nothing, so that the cost of a real page can be set next to
the cost of the framework and the connection alone, on the same server in the same run.

    TRAJECTORY_DATABASE_URL=... .venv/bin/python -m bench.server --port 8123
"""

from __future__ import annotations

import argparse
import sys

import uvicorn
from litestar import get

from trajectory.api.app import build_services, create_app
from trajectory.api.server import UVICORN
from trajectory.application import TrajectoryApplication
from trajectory.logs import configure_logging
from trajectory.protocol import registry_from_settings
from trajectory.settings import Settings


@get("/bench/empty", sync_to_thread=False, include_in_schema=False)
def empty() -> dict[str, str]:
    """The baseline page: routing, serialisation and the middleware, nothing else."""
    return {}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    application = TrajectoryApplication(settings, protocols=registry_from_settings(settings))
    services = build_services(application)
    app = create_app(services)
    app.register(empty)
    runner_thread = None
    if settings.projections == "in-process":
        services.projections.catch_up()
        runner_thread = services.projections.start_in_thread(poll_interval=0.5)
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, **UVICORN)
    try:
        uvicorn.Server(config).run()
    finally:
        if runner_thread is not None:
            runner_thread.stop()
        application.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
