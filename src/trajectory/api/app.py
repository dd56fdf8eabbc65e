"""create_app: the HTTP API mounted on services built elsewhere (`composition.http`)."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from trajectory import __version__
from trajectory.api.context import Services
from trajectory.api.erasures import erasure_routes
from trajectory.api.errors import handle_exception
from trajectory.api.facts import fact_routes
from trajectory.api.middleware import HttpHygiene
from trajectory.api.privacy import erase_trajectory, retention
from trajectory.api.quality import core_elements, quality_signals, victim_statistics
from trajectory.api.research import research_export
from trajectory.api.routes import (
    access_log,
    caseload,
    handover,
    health,
    open_trajectory,
    trajectory_event,
    trajectory_events,
    trajectory_summary,
)
from trajectory.web.core import build_web
from trajectory.web.routes import template_config, web_routes

DESCRIPTION = """\
The treatment trajectories of girls who are (suspected) victims of loverboys, as
immutable, hash-chained event streams governed by a versioned phase protocol.

Authenticate with `Authorization: Bearer <token>` (tokens come from `trajectory users
add`). Writes accept `If-Match` (the ETag you read; a mismatch answers 412) and
`Idempotency-Key` (a retry records nothing new). Errors are `application/problem+json`
(RFC 9457); a refusal by the phase protocol is 409 with a stable `rule` code and, for
entry criteria, the `unmet` criteria.
"""


def _release(app: Litestar) -> None:
    """What the services hold for the app's lifetime, let go when it stops."""
    services = app.state["services"]
    if services.loop_reader is not None:
        services.loop_reader.close()
    services.access_writers.shutdown(wait=True)


def create_app(services: Services) -> Litestar:
    openapi = OpenAPIConfig(
        title="trajectory",
        version=__version__,
        description=DESCRIPTION,
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API token")
            }
        ),
        security=[{"bearer": []}],
    )
    app = Litestar(
        route_handlers=[
            open_trajectory,
            caseload,
            trajectory_summary,
            trajectory_events,
            trajectory_event,
            handover,
            access_log,
            health,
            *fact_routes(),
            erase_trajectory,
            *erasure_routes(),
            retention,
            core_elements,
            quality_signals,
            victim_statistics,
            research_export,
            # The web pages (trajectory.web), under /app: their own guard and error pages.
            *web_routes(),
        ],
        state=State({"services": services, "web": build_web(services)}),
        template_config=template_config(),
        openapi_config=openapi,
        exception_handlers={Exception: handle_exception},
        request_max_body_size=services.max_body_bytes,
        # Logging is ours (trajectory.logs: JSON lines for every logger); Litestar's default
        # would put its own plain-text handler on the root logger.
        logging_config=None,
        on_shutdown=[_release],
        debug=False,
    )
    # Outside the router, not as route middleware: answers for unknown paths and wrong
    # methods (404/405) never reach route middleware, and they need the headers too.
    app.asgi_handler = HttpHygiene(app.asgi_handler)
    return app
