"""A girl's access report as a PDF (`trajectory.access_report`): what the privacy officer
hands her when she asks who looked at her file. The same A4 pages, fonts, running head and
foot as the handover package (`trajectory.handover_pdf`); one line per access, with the
sign and the word of its basis, so that paper in black and white still tells them apart.

Who may make it and its access-log entry are the caller's (`web.privacy_pages`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from trajectory.access_report import Basis, ReportEntry
from trajectory.clock import amsterdam_date
from trajectory.handover_pdf import _Document  # one look for every printed document
from trajectory.web.i18n import N_, Translator

TITLE = N_("Access report")
BASES: dict[Basis, tuple[str, str]] = {
    "relationship": ("✓", N_("Relationship")),
    "emergency": ("⚠", N_("Emergency access")),
    "refused": ("✕", N_("Refused")),
}


def _line(e: ReportEntry, t: Translator, name_of: Callable[[str], str]) -> str:
    who = name_of(e.user_id) if e.user_id else t("Unknown (not signed in)")
    role = f" ({t.value(e.role)})" if e.role else ""
    what = t.value(e.action) + (f" ({t('in a list of girls')})" if e.listed else "")
    mark, word = BASES[e.basis]
    basis = f"{mark} {t(word)}"
    if e.emergency is not None:
        basis += f" — {t('Reason:')} {t.value(e.emergency.reason)}"
        if e.emergency.explanation:
            basis += f" ({e.emergency.explanation})"
    return f"{t.moment(e.at)} · {who}{role} · {what} · {basis}"


def access_report_pdf(
    entries: list[ReportEntry],
    t: Translator,
    *,
    girl: str,
    period: str,
    made_at: datetime,
    made_by: str,
    name_of: Callable[[str], str],
) -> bytes:
    """The report as a PDF (bytes starting with %PDF)."""
    title = t(TITLE)
    head = t("%(title)s · %(name)s", title=title, name=girl)
    foot = t("Printed on %(date)s by %(name)s", date=t.date(amsterdam_date(made_at)),
             name=made_by)
    doc = _Document(head, foot, t("page"))
    doc.set_title(f"{title} · {girl}")
    doc.set_subject(girl)
    doc.set_author(made_by)
    doc.set_creator("trajectory")
    doc.set_creation_date(made_at)
    doc.section(t("Who looked at this file"))
    doc.item(t("Her file"), girl)
    doc.item(t("Period"), period)
    doc.item(t("Made on"), t.moment(made_at, seconds=False))
    doc.item(t("Made by"), made_by)
    doc.lines([], t(
        "Every time someone opened, recorded in or listed this file, or tried to and was"
        " refused. The basis says why it was allowed: a relationship (she works with the"
        " girl, or it is her task to keep the file: its administrator, its privacy officer),"
        " an emergency access (outside her relationship, for a stated reason and a limited"
        " time), or it was refused."))
    doc.subheading(t("Accesses to the file"))
    doc.lines((_line(e, t, name_of) for e in entries), t("No access in this period."))
    return bytes(doc.output())
