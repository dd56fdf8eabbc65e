"""The exchange with other installations on the pages (`trajectory.exchange.handover`).

- On her file (the handover section): a coordinator downloads the sealed bundle for a
  registered partner organisation (recorded as `HandoverExported`), and, for a girl taken
  in from a bundle, the signed acknowledgement that she was accepted.
- `/app/admin/exchange`, for administrators: this installation's card and its fingerprints,
  the registered partners, registering a partner's card, and taking in a file (a bundle,
  which opens her trajectory with the coordinator chosen; or an acknowledgement).

Refusals are sentences here, keyed by the exchange's codes; nothing is taken in then.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template

from trajectory.aggregates.errors import RuleRefused, TrajectoryNotFound
from trajectory.application import Actor
from trajectory.crypto import TrajectoryErased
from trajectory.exchange.handover import (
    AcknowledgementTakenIn,
    Exchange,
    ExchangeRefused,
    installation_organisations,
)
from trajectory.exchange.keys import Card, CardRefused, Partners, our_card
from trajectory.exchange.sealing import Partner
from trajectory.statistics.signing import SigningUnavailable
from trajectory.web.care_pages import COORD, _via, _visible, _write_path
from trajectory.web.core import (
    PathText,
    files_of,
    first,
    form_of,
    log_access,
    page,
    session_of,
    translator,
    web,
)
from trajectory.web.i18n import N_, Translator
from trajectory.write_errors import InputRefused

ADMIN = {"web_access": "full", "web_roles": ("admin",)}

REFUSED: dict[str, str] = {
    "file-unreadable": N_("The file is not a handover bundle or an acknowledgement of"
                          " trajectory."),
    "sender-unknown": N_("The sending organisation is not registered here. Register its"
                         " card first, after comparing the fingerprints by telephone."),
    "file-altered": N_("The file was changed after it was sealed, or it was not sealed by"
                       " the organisation it names. Ask the sender for a new file."),
    "addressed-elsewhere": N_("The file is addressed to another installation."),
    "addressed-to-another-organisation": N_(
        "The bundle is addressed to another organisation of this installation: choose a"
        " coordinator of that organisation."),
    "bundle-imported-already": N_("This bundle was taken in already."),
    "bundle-unknown": N_("No handover bundle with this hash was sent from here to the"
                         " organisation that acknowledges it."),
    "partner-unknown": N_("The receiving organisation is not a registered partner. An"
                          " administrator registers its card first."),
    "not-received": N_("She was not taken in from a handover bundle."),
    "exchange-unavailable": N_("This installation has no keys for the exchange: its store"
                               " is not encrypted."),
}
"""The exchange's refusals (`ExchangeRefused.code`) as sentences."""


def refusal_sentence(t: Translator, code: str) -> str:
    text = REFUSED.get(code)
    return t(text) if text is not None else t("The file was not taken in.")


def rule_sentence(t: Translator, e: RuleRefused | InputRefused) -> str:
    code = getattr(e, "code", "")
    if code and t.has("rule", code) and "%(" not in t.pgettext("rule", code):
        return t.rule(code)
    return t("The protocol does not allow this.")


def partner_organisations(request: Request[Any, Any, Any]) -> list[str]:
    return sorted(Partners(web(request).services.application.db).all())


def _exchange(request: Request[Any, Any, Any]) -> Exchange:
    return Exchange(web(request).services.application, _write_path(request))


def _actor(request: Request[Any, Any, Any]) -> Actor:
    user = session_of(request).user
    return Actor(user_id=user.user_id, role=user.role, organisation=user.organisation)


# -- on her file -------------------------------------------------------------------------------


def _download(data: bytes, file_name: str) -> Response[bytes]:
    return Response(content=data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{file_name}"',
        "Cache-Control": "no-store",
    })


def _section_again(request: Request[Any, Any, Any], trajectory_id: str, message: str,
                   status: int) -> Template:
    from trajectory.web.dossier import render_section

    response = render_section(request, trajectory_id, "handover-and-aftercare",
                              exchange_error=message)
    response.status_code = status
    return response


@post("/trajectories/{trajectory_id:str}/handover/bundle", opt=COORD, sync_to_thread=True,
      status_code=200)
def export_bundle(request: Request[Any, Any, Any],
                  trajectory_id: PathText) -> Response[bytes] | Template:
    """Her handover, sealed for the partner organisation chosen; recorded in her file."""
    t = translator(request)
    tid = _visible(request, trajectory_id)
    to = first(form_of(request), "to").strip()[:200]
    try:
        exported = _exchange(request).export(_actor(request), tid, to, via=_via(request))
    except ExchangeRefused as e:
        log_access(request, "export", str(tid), "refused")
        return _section_again(request, trajectory_id, refusal_sentence(t, e.code), 409)
    except (RuleRefused, InputRefused) as e:
        log_access(request, "export", str(tid), "refused")
        return _section_again(request, trajectory_id, rule_sentence(t, e), 409)
    return _download(exported.data, exported.file_name)


@post("/trajectories/{trajectory_id:str}/handover/acknowledgement", opt=COORD,
      sync_to_thread=True, status_code=200)
def acknowledgement(request: Request[Any, Any, Any],
                    trajectory_id: PathText) -> Response[bytes] | Template:
    """The signed acknowledgement that she, taken in from a bundle, was accepted here."""
    t = translator(request)
    tid = _visible(request, trajectory_id)
    user = session_of(request).user
    try:
        sealed = _exchange(request).acknowledge(_actor(request), tid, user.shown_name)
    except ExchangeRefused as e:
        return _section_again(request, trajectory_id, refusal_sentence(t, e.code), 409)
    return _download(sealed, f"ontvangstbevestiging-{str(tid)[:8]}.trajectory-ack")


# -- the administrator's page ----------------------------------------------------------------------


def _coordinators(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    me = session_of(request).user
    return sorted(((u.user_id, u.shown_name) for u in web(request).services.users.all()
                   if u.role == "coordinator" and not u.revoked
                   and u.organisation == me.organisation), key=lambda p: p[1])


def _exchange_page(request: Request[Any, Any, Any], *, status_code: int = 200,
                   **context: Any) -> Template:
    app = web(request).services.application
    me = session_of(request).user
    card: Card | None = None
    try:
        card = our_card(app.keys, app.db, installation_organisations(app.db) or
                        [me.organisation], app.clock())
    except SigningUnavailable:
        card = None
    partners: dict[str, Partner] = Partners(app.db).all()
    listed = [(org, Card((org,), p.signing_key, p.encryption_key).fingerprints)
              for org, p in partners.items()]
    ctx: dict[str, Any] = {"notice": None, "error": None, "registered": None}
    ctx.update(context)
    return page(request, "exchange.html", status_code=status_code, card=card,
                partners=listed, coordinators=_coordinators(request),
                imported=_exchange(request).imported(me.organisation), **ctx)


@get("/admin/exchange", opt=ADMIN, sync_to_thread=True)
def exchange_page(request: Request[Any, Any, Any]) -> Template:
    return _exchange_page(request)


@get("/admin/exchange/card", opt=ADMIN, sync_to_thread=True)
def card_file(request: Request[Any, Any, Any]) -> Response[bytes]:
    """This installation's card, to send to a partner's administrator."""
    app = web(request).services.application
    me = session_of(request).user
    card = our_card(app.keys, app.db, installation_organisations(app.db) or
                    [me.organisation], app.clock())
    return _download(card.to_bytes(), "installatiekaart.json")


@post("/admin/exchange/partners", opt=ADMIN, sync_to_thread=True, status_code=200)
def register_partner(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    data = files_of(request).get("card", b"")
    try:
        card = Card.from_bytes(data)
    except CardRefused:
        return _exchange_page(request, status_code=422,
                              error=t("The file is not an installation card."))
    app = web(request).services.application
    me = session_of(request).user
    Partners(app.db).register(card, by=me.user_id, now=app.clock())
    return _exchange_page(request, registered=card, notice=t(
        "The card was registered. Compare both fingerprints by telephone with the partner's"
        " administrator before you exchange a bundle."))


@post("/admin/exchange/imports", opt=ADMIN, sync_to_thread=True, status_code=200)
def take_in(request: Request[Any, Any, Any]) -> Template:
    """Take in a bundle (her trajectory opens, with the coordinator chosen) or an
    acknowledgement (recorded on her file by the coordinator chosen)."""
    t = translator(request)
    data = files_of(request).get("file", b"")
    chosen = first(form_of(request), "coordinator")
    coordinators = dict(_coordinators(request))
    if chosen not in coordinators:
        return _exchange_page(request, status_code=422,
                              error=t("Choose the coordinator who takes her on."))
    me = session_of(request).user
    actor = Actor(user_id=chosen, role="coordinator", organisation=me.organisation)
    try:
        taken = _exchange(request).take_in(actor, data, via=_via(request))
    except ExchangeRefused as e:
        return _exchange_page(request, status_code=409, error=refusal_sentence(t, e.code))
    except (RuleRefused, InputRefused) as e:
        return _exchange_page(request, status_code=409, error=rule_sentence(t, e))
    except (TrajectoryNotFound, TrajectoryErased):
        return _exchange_page(request, status_code=404, error=t(
            "The coordinator chosen may not record on the file this acknowledgement is"
            " about: choose her coordinator."))
    log_access(request, "write", str(taken.trajectory_id))
    if isinstance(taken, AcknowledgementTakenIn):
        notice = t("The acknowledgement of %(organisation)s was recorded: the handover was"
                   " accepted.", organisation=taken.receiver)
    else:
        notice = t("She was taken in from %(organisation)s. Her file is with %(coordinator)s.",
                   organisation=taken.sender, coordinator=coordinators[chosen])
    return _exchange_page(request, notice=notice)


def exchange_routes() -> list[Any]:
    return [export_bundle, acknowledgement, exchange_page, card_file, register_partner,
            take_in]
