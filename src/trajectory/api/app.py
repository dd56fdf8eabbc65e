"""create_app: the HTTP API mounted on services built elsewhere (`composition.http`)."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from trajectory import __version__
from trajectory.api.audit import access_anomalies
from trajectory.api.context import Services
from trajectory.api.edge import HeadLimits
from trajectory.api.emergency import emergency_routes
from trajectory.api.erasures import erasure_routes
from trajectory.api.errors import handle_exception
from trajectory.api.facts import fact_routes
from trajectory.api.fhir import access_log_fhir, trajectory_fhir
from trajectory.api.forwarded import TrustedProxies
from trajectory.api.metrics import metrics
from trajectory.api.middleware import HttpHygiene
from trajectory.api.organisation import organisation_routes
from trajectory.api.out_of_view import out_of_view
from trajectory.api.outcomes import quality_outcomes, quality_outcomes_csv
from trajectory.api.privacy import erase_trajectory, retention
from trajectory.api.projects import project_routes
from trajectory.api.quality import (
    core_elements,
    quality_out_of_view,
    quality_signals,
    statistics_signing_key,
    victim_statistics,
)
from trajectory.api.research import research_export
from trajectory.api.root import root_index
from trajectory.api.routes import (
    access_log,
    aftercare_workers,
    caseload,
    handover,
    handover_pdf,
    health,
    open_trajectory,
    trajectory_event,
    trajectory_events,
    trajectory_summary,
)
from trajectory.api.step_up import step_up_token
from trajectory.api.teams import team_routes
from trajectory.settings import parse_networks
from trajectory.web.core import build_web
from trajectory.web.routes import template_config, web_routes

DESCRIPTION = """\
The treatment trajectories of girls who are (suspected) victims of loverboys, as
immutable, hash-chained event streams governed by a versioned phase protocol.

Authenticate with `Authorization: Bearer <token>` (tokens come from `trajectory users
add`). Writes accept `If-Match` (the ETag you read; a mismatch answers 412) and
`Idempotency-Key` (a retry records nothing new). Tokens expire (401 `token-expired`) and
carry scopes; an export or an erasure needs a five-minute token from `POST /auth/step-up`
(password and TOTP code), and a long-lived token gets 403 `step-up-required`. Errors are
`application/problem+json` (RFC 9457); a refusal by the phase protocol is 409 with a
stable `rule` code and, for entry criteria, the `unmet` criteria.
"""


def _release(app: Litestar) -> None:
    """What the services hold for the app's lifetime, let go when it stops."""
    services = app.state["services"]
    if services.loop_reader is not None:
        services.loop_reader.close()
    services.access_writers.shutdown(wait=True)
    if services.metrics is not None:  # the application may live on, under another app
        observe = services.metrics.observe_commit
        for observers in (services.application.commit_observers,
                          services.access.commit_observers):
            while observe in observers:
                observers.remove(observe)


def create_app(services: Services) -> Litestar:
    # Swagger UI fetches its scripts from a CDN and runs them on this origin, beside the
    # care pages: off unless the settings ask for it; the document alone stays.
    docs_page = services.application.settings.api_docs == "on"
    openapi = OpenAPIConfig(
        title="trajectory",
        version=__version__,
        description=DESCRIPTION,
        path="/schema",
        render_plugins=[SwaggerRenderPlugin() if docs_page else JsonRenderPlugin()],
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
            handover_pdf,
            trajectory_fhir,
            aftercare_workers,
            out_of_view,
            access_log,
            access_anomalies,
            access_log_fhir,
            health,
            metrics,
            root_index,
            *fact_routes(),
            erase_trajectory,
            *erasure_routes(),
            *emergency_routes(),
            retention,
            core_elements,
            quality_signals,
            quality_out_of_view,
            quality_outcomes,
            quality_outcomes_csv,
            victim_statistics,
            statistics_signing_key,
            *organisation_routes(),
            research_export,
            *project_routes(),
            step_up_token,
            *team_routes(),
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
    # Outermost: what a trusted proxy forwards (scheme, client) is settled before the
    # headers (HSTS over HTTPS) and the pages (Secure cookies, throttles) look at it.
    # HeadLimits inside the hygiene: an oversized head is refused (with the headers,
    # logged) before the router, the guards or any cookie parser read it.
    networks = parse_networks(services.application.settings.trusted_proxies)
    app.asgi_handler = TrustedProxies(
        HttpHygiene(HeadLimits(app.asgi_handler), docs_page=docs_page,
                    metrics=services.metrics),
        networks,
    )
    return app
