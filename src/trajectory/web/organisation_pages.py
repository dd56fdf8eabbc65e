"""The quality officer's pages (her organisation's own duties: lists and forms) and the
inspector's comparison of every organisation.

The forms are generated from the organisation's command Structs as a trajectory's are
(`web.forms`), and a submitted form goes through the organisation write path
(`organisation.writing`), the one below the API too. The inspector's table is
`organisation.inspection`'s figures: counts of girls under 5 read "<5", never a girl.
Every page read is in the access log.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from trajectory.aggregates.errors import RuleRefused, VersionConflict
from trajectory.api.context import actor, client_of, request_id
from trajectory.clock import amsterdam_date
from trajectory.organisation.facts import ORGANISATION_FACTS
from trajectory.organisation.inspection import inspection, twelve_months_to
from trajectory.organisation.store import OrganisationStore
from trajectory.organisation.view import duties
from trajectory.organisation.writing import OrganisationWrites
from trajectory.web.core import (
    PathText,
    first,
    form_of,
    log_access,
    not_found,
    page,
    redirect,
    session_of,
    translator,
    web,
)
from trajectory.web.forms import (
    Choice,
    Context,
    Field,
    FormInvalid,
    FormSpec,
    apply_values,
    attach_errors,
    decode,
    fields_of,
)
from trajectory.web.i18n import N_, Translator
from trajectory.write_errors import InputRefused
from trajectory.writing import Via

QUALITY_STAFF = {"web_access": "full", "web_roles": ("quality", "admin")}
INSPECTOR = {"web_access": "full", "web_roles": ("inspector",)}

ORGANISATION_FORMS: tuple[FormSpec, ...] = tuple(
    FormSpec(fact.path, fact.command, ("quality", "admin"), fact.title, "organisation")
    for fact in ORGANISATION_FACTS
)
"""The forms of the organisation's facts, read off the same declaration as its routes."""
_BY_SLUG = {spec.slug: spec for spec in ORGANISATION_FORMS}

MISSING_SENTENCES: dict[str, str] = {
    # What element 1 or 9 still needs, as a sentence (`organisation.elements`' codes).
    "basic-training": N_("Nobody followed the basic loverboy training in the last 12 months."),
    "expert-training": N_("No expert followed the deepening training in the last 12 months."),
    "aandachtsfunctionaris": N_("There is no appointed aandachtsfunctionaris."),
    "reflection": N_("No intervisie, supervision or case reflection in the last 12 months."),
    "climate-assessment": N_("The pedagogical climate was not assessed in the last 12 months."),
}


def _day(raw: str | None, today: date) -> date:
    try:
        return min(date.fromisoformat((raw or "")[:10]), today)
    except ValueError:
        return today


@get("/organisation", opt=QUALITY_STAFF, sync_to_thread=True)
def organisation_page(request: Request[Any, Any, Any]) -> Template:
    """Her organisation's duties: elements 1 and 9, the open improvement actions, the
    facts recorded, and the forms to record more."""
    t = translator(request)
    app = web(request).services.application
    user = session_of(request).user
    today = amsterdam_date(app.clock())
    as_of = _day(request.query_params.get("as_of"), today)
    stream = OrganisationStore(app.db).load(user.organisation)
    out = duties(user.organisation, stream, as_of, today)
    log_access(request, "search", None)
    return page(
        request, "organisation.html", out=out, as_of=as_of, forms=ORGANISATION_FORMS,
        idempotency_key=secrets.token_urlsafe(16),
        titles={spec.slug: spec.title(t) for spec in ORGANISATION_FORMS},
        missing_sentences={code: t(text) for code, text in MISSING_SENTENCES.items()},
    )


def _fields(request: Request[Any, Any, Any], spec: FormSpec, t: Translator) -> list[Field]:
    """The form's fields; which improvement action was carried out is chosen from the open
    ones, by what it is (not by its position in the stream)."""
    fields = fields_of(spec, t, Context())
    if spec.slug != "completed-actions":
        return fields
    app = web(request).services.application
    stream = OrganisationStore(app.db).load(session_of(request).user.organisation)
    open_ones = [] if stream is None else [
        a for a in stream.state.analyses.values() if a.done_on is None
    ]
    for f in fields:
        if f.name == "analysis":
            f.widget = "select"
            f.choices = [
                Choice(str(a.position), f"{a.action} ({t.date(a.due_on)})") for a in open_ones
            ]
    return fields


def _form_page(
    request: Request[Any, Any, Any], spec: FormSpec, t: Translator, *,
    fields: list[Any] | None = None, problems: list[str] | None = None, status_code: int = 200,
    marked: list[tuple[str, str]] | None = None,
) -> Template:
    return page(
        request, "organisation_form.html", status_code=status_code, title=spec.title(t),
        fields=fields if fields is not None else _fields(request, spec, t),
        problems=problems or [], marked=marked or [], action=f"/organisation/forms/{spec.slug}",
        idempotency_key=secrets.token_urlsafe(16),
    )


@get("/organisation/forms/{slug:str}", opt=QUALITY_STAFF, sync_to_thread=True)
def organisation_form(request: Request[Any, Any, Any], slug: PathText) -> Template:
    spec = _BY_SLUG.get(slug)
    if spec is None:
        raise not_found()
    return _form_page(request, spec, translator(request))


@post("/organisation/forms/{slug:str}", opt=QUALITY_STAFF, sync_to_thread=True)
def record_organisation_fact(
    request: Request[Any, Any, Any], slug: PathText
) -> Response[Any] | Template:
    """A submitted form: the organisation write path, then back to the list (a refusal
    as a sentence at the form)."""
    spec = _BY_SLUG.get(slug)
    if spec is None:
        raise not_found()
    t = translator(request)
    form = form_of(request)
    fields = _fields(request, spec, t)
    apply_values(fields, form)
    try:
        command = decode(spec, fields, form, t)
    except FormInvalid as e:
        return _invalid(request, spec, t, fields, e.errors)
    user = session_of(request).user
    writes = OrganisationWrites(web(request).services.application,
                                access=web(request).services.access)
    try:
        writes.record(
            actor(user), command,  # type: ignore[arg-type]
            idempotency_key=first(form, "idempotency_key") or None,
            request_digest=slug + "\n" + repr(command),
            via=Via(client=client_of(request), request_id=request_id(request)),
        )
    except InputRefused as e:
        return _invalid(request, spec, t, fields, {e.field: t("This value does not fit.")})
    except RuleRefused as e:
        sentence = t.rule(e.code) if t.has("rule", e.code) else t("This value does not fit.")
        return _form_page(request, spec, t, fields=fields, problems=[sentence], status_code=409)
    except VersionConflict:
        return _form_page(request, spec, t, fields=fields, status_code=409, problems=[
            t("Someone else recorded something meanwhile. Check and try again.")])
    return redirect("/organisation")


def _invalid(
    request: Request[Any, Any, Any], spec: FormSpec, t: Translator, fields: list[Any],
    errors: dict[str, str],
) -> Template:
    """The form again with each error at its field and a link to it on top."""
    marked, _, loose = attach_errors(fields, errors)
    return _form_page(request, spec, t, fields=fields, marked=marked, status_code=422,
                      problems=[t("Please check the marked fields."), *loose])


@get("/inspection", opt=INSPECTOR, sync_to_thread=True)
def inspection_page(request: Request[Any, Any, Any]) -> Template:
    """Every organisation side by side: girls, core elements, signals, out of view,
    elements 1 and 9 and improvement actions. Counts under 5 read "<5"."""
    w = web(request)
    app = w.services.application
    if w.services.fresh_reads:
        w.services.projections.catch_up()
    today = amsterdam_date(app.clock())
    as_of = _day(request.query_params.get("as_of"), today)
    last = as_of.isoformat()[:7]
    out = inspection(app.db, as_of, twelve_months_to(last), last, today)
    log_access(request, "search", None)
    return page(request, "inspection.html", out=out, as_of=as_of)


def organisation_routes() -> list[Any]:
    return [organisation_page, organisation_form, record_organisation_fact, inspection_page]
