"""The quality officer's page to try a proposed protocol: paste its text, see what it would
have changed for the organisation's girls (`trajectory protocol replay`, on one
organisation), in words. Read-only: nothing is recorded but the access-log entry naming
the girls whose files were read.

Pasted, not uploaded: every posted form passes the web guard as a urlencoded form (its
CSRF check reads it), and a protocol file is a few kilobytes of text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.response import Template

from trajectory.clock import amsterdam_date
from trajectory.identity.users import ROLES
from trajectory.protocol.replay import GirlReport
from trajectory.protocol_replay import ReplayReport, check_protocol_text, replay_store
from trajectory.web.core import first, form_of, log_access, page, session_of, translator, web
from trajectory.web.i18n import N_, Translator

# The quality officer's role is being added beside this page; until it is in the list of
# roles, only an admin reaches the page.
REPLAY_ROLES = tuple(role for role in ("admin", "quality") if role in ROLES)
PROTOCOL_PAGE = {"web_access": "full", "web_roles": REPLAY_ROLES}
MAX_PROTOCOL_CHARS = 100_000

FLOOR_SENTENCES: dict[str, str] = {
    # The floor's rules (`protocol.floor`) in words: a page names no codes.
    "floor-phase1-internet": N_("In phase 1 internet may at most be used under supervision."),
    "floor-phase1-social-media": N_("In phase 1 social media may at most be used under"
                                    " supervision."),
    "floor-phase1-phone": N_("In phase 1 the phone may at most be used under supervision."),
    "floor-risky-contact": N_("Contact with a risky person may at most be supervised, in"
                              " every phase."),
    "floor-prohibited-contact": N_("A prohibited contact is never restored: the protocol may"
                                   " not give prohibited contacts a level."),
    "floor-warm-handover": N_("Aftercare starts only after a warm handover: prepared, a"
                              " meeting held and accepted."),
}
REFUSED_BECAUSE: dict[str, str] = {
    "runaway-open": N_("she had run away and was not back"),
    "phase-unknown": N_("the proposed protocol has no such phase"),
    "waiver-invalid": N_("a criterion was set aside that the proposed protocol does not"
                         " allow to set aside"),
}
NOT_ALLOWED = N_("the proposed protocol does not allow it")


@dataclass(frozen=True)
class GirlLines:
    number: int
    lines: list[str]


@get("/protocols/replay", opt=PROTOCOL_PAGE, sync_to_thread=True)
def protocol_replay_page(request: Request[Any, Any, Any]) -> Template:
    app = web(request).services.application
    return _page(request, text="", as_of=amsterdam_date(app.clock()))


@post("/protocols/replay", opt=PROTOCOL_PAGE, sync_to_thread=True)
def protocol_replay_run(request: Request[Any, Any, Any]) -> Template:
    t = translator(request)
    app = web(request).services.application
    form = form_of(request)
    text = first(form, "protocol")
    today = amsterdam_date(app.clock())
    as_of, date_error = _day(t, first(form, "as_of"), today)
    if not text.strip():
        return _page(request, text=text, as_of=as_of, status_code=422,
                     text_errors=[t("Paste the text of the proposed protocol.")])
    if len(text) > MAX_PROTOCOL_CHARS:
        return _page(request, text="", as_of=as_of, status_code=422,
                     text_errors=[t("This text is far longer than any protocol.")])
    if date_error:
        return _page(request, text=text, as_of=today, status_code=422, date_error=date_error)
    result = check_protocol_text(text, "protocol")
    if not result.ok:
        errors = [t(FLOOR_SENTENCES[rule]) for rule in result.rules if rule in FLOOR_SENTENCES]
        if not result.rules:
            errors = [t("This text is not a protocol that can be read. Ask your IT"
                        " department to check it (trajectory protocol check).")]
        return _page(request, text=text, as_of=as_of, status_code=422, text_errors=errors,
                     floor=bool(result.rules))
    assert result.protocol is not None
    user = session_of(request).user
    report = replay_store(app, result.protocol, as_of, organisation=user.organisation)
    # One entry naming every girl whose file was read for the report.
    log_access(request, "search", None,
               shown=tuple(str(r["trajectory_id"]) for r in app.index(user.organisation)))
    return _page(request, text=text, as_of=as_of, report=report,
                 girls=[GirlLines(g.number, _lines(t, g)) for g in report.girls],
                 summary=_summary(t, report))


def _day(t: Translator, value: str, today: date) -> tuple[date, str | None]:
    if not value:
        return today, None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return today, t("Give the day as a date.")
    if day > today:
        return today, t("The day of the report cannot lie in the future.")
    return day, None


def _page(request: Request[Any, Any, Any], *, text: str, as_of: date, status_code: int = 200,
          text_errors: list[str] | None = None, date_error: str | None = None,
          floor: bool = False, report: ReplayReport | None = None,
          girls: list[GirlLines] | None = None, summary: list[str] | None = None) -> Template:
    return page(request, "protocol_replay.html", status_code=status_code, text=text,
                as_of=as_of, text_errors=text_errors or [], date_error=date_error,
                floor=floor, report=report, girls=girls or [], summary=summary or [])


def _summary(t: Translator, report: ReplayReport) -> list[str]:
    s = report.totals
    refused = s.refused
    return [
        t("%(girls)s trajectories read; for %(affected)s the proposed protocol would have"
          " made a difference.", girls=t.number(s.girls), affected=t.number(s.girls_affected)),
        t("Phase advances that would have been refused: %(n)s.",
          n=t.number(refused.get("phase-advance", 0))),
        t("Starts of aftercare that would have been refused: %(n)s.",
          n=t.number(refused.get("aftercare-start", 0))),
        t("Permissions raised above the proposed limits: %(n)s.",
          n=t.number(refused.get("permission", 0))),
        t("Contacts allowed above the proposed limits: %(n)s.",
          n=t.number(refused.get("contact-restored", 0))),
        t("Days above the proposed limits: %(days)s, for %(girls)s girls.",
          days=t.number(sum(s.above_cap_days.values())), girls=t.number(s.above_cap_girls)),
        t("Attention items that would be due: %(due)s; overdue: %(overdue)s.",
          due=t.number(s.attention_due), overdue=t.number(s.attention_overdue)),
        t("Girls in another setting, under another protocol, were not read again: %(n)s.",
          n=t.number(s.other_setting)),
    ]


def _lines(t: Translator, girl: GirlReport) -> list[str]:
    lines = []
    for r in girl.refusals:
        day = t.date(r.on)
        if r.decision in ("phase-advance", "aftercare-start"):
            why = (
                ", ".join(t.criterion(c) for c in r.unmet)
                if r.unmet
                else t(REFUSED_BECAUSE.get(r.rule, NOT_ALLOWED))
            )
            if r.decision == "phase-advance":
                lines.append(t("On %(day)s: the step to phase %(phase)s would have been"
                               " refused (%(why)s).", day=day, phase=r.to_phase, why=why))
            else:
                lines.append(t("On %(day)s: the start of aftercare would have been refused"
                               " (%(why)s).", day=day, why=why))
        elif r.decision == "permission":
            lines.append(t("On %(day)s: %(what)s was allowed above the proposed limit.",
                           day=day, what=t.pgettext("permission-noun", r.subject or "")))
        else:
            lines.append(t("On %(day)s: a contact (%(risk)s) was allowed above the proposed"
                           " limit.", day=day, risk=t.value(r.subject)))
    for a in girl.above_caps:
        what = (t.pgettext("permission-noun", a.subject) if a.what == "permission"
                else t("contacts (%(risk)s)", risk=t.value(a.subject)))
        lines.append(t("%(what)s above the proposed limit for %(days)s days (up to"
                       " %(level)s).", what=what, days=t.number(a.days),
                       level=t.value(a.highest)))
    for c in girl.attention:
        text = (N_("%(item)s would be overdue (due %(day)s).") if c.became == "overdue"
                else N_("%(item)s would be due (on %(day)s)."))
        lines.append(t(text, item=t.criterion(c.code), day=t.date(c.due_on)))
    return lines


def protocol_routes() -> list[Any]:
    return [protocol_replay_page, protocol_replay_run]
