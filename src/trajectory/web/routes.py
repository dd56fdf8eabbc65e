"""The web pages as Litestar routes under /app, their templates and static files.

`create_app` adds `*web_routes()`, `template_config()` and `build_web(services)` (in its
state, as "web"); nothing else of the API changes. Every page passes the web guard and
answers its errors as pages, not as problem+json.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from trajectory.web import i18n
from trajectory.web.admin_pages import admin_routes
from trajectory.web.auth_pages import auth_routes
from trajectory.web.bij_pages import bij_routes
from trajectory.web.calendar_feed import calendar_feed_routes
from trajectory.web.care_pages import care_routes
from trajectory.web.core import PREFIX, handle_web_exception, web_guard
from trajectory.web.dossier import dossier_routes
from trajectory.web.emergency_pages import emergency_routes
from trajectory.web.exchange_pages import exchange_routes
from trajectory.web.organisation_pages import organisation_routes
from trajectory.web.other_pages import other_routes
from trajectory.web.out_of_view_page import out_of_view_routes
from trajectory.web.outcomes_page import outcomes_routes
from trajectory.web.privacy_pages import privacy_routes
from trajectory.web.project_pages import project_routes
from trajectory.web.protocol_page import protocol_routes
from trajectory.web.register_pages import register_routes
from trajectory.web.week_pages import week_routes

HERE = Path(__file__).parent


def web_routes() -> list[Router]:
    pages = Router(
        path=PREFIX,
        route_handlers=[
            *auth_routes(), *admin_routes(), *care_routes(), *exchange_routes(),
            *dossier_routes(), *other_routes(),
            *out_of_view_routes(),
            *protocol_routes(),
            *organisation_routes(),
            *project_routes(),
            *register_routes(),
            *week_routes(),
            *privacy_routes(),
            *calendar_feed_routes(),
            *emergency_routes(),
            *bij_routes(),
            *outcomes_routes(),
        ],
        guards=[web_guard],
        exception_handlers={Exception: handle_web_exception},
        include_in_schema=False,
    )
    static = create_static_files_router(
        path=f"{PREFIX}/static", directories=[HERE / "static"], include_in_schema=False
    )
    return [pages, static]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    i18n.install(environment)  # `_()` and `{% trans %}` in the language of each page
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
