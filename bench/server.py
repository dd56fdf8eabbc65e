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

from trajectory.api.server import UVICORN
from trajectory.composition import build_application
from trajectory.composition.http import build_api, build_services, runs_projections_in_process
from trajectory.logs import configure_logging
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
    application = build_application(settings)
    try:
        services = build_services(application)
        in_process = runs_projections_in_process(application)
        if in_process:
            services.projections.catch_up()
        app = build_api(services, run_projections=in_process)
        app.register(empty)
        config = uvicorn.Config(app, host="127.0.0.1", port=args.port, **UVICORN)
        uvicorn.Server(config).run()
    finally:
        application.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
