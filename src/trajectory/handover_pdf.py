"""The printable handover package: the document that travels with her, on paper or as a
PDF, one page per section (who she is and how to reach her; the package; the people around
her and the receiver; the contacts to watch).

Rendered by fpdf2 (pure Python) with DejaVu Sans, bundled in `trajectory/fonts` (Bitstream
Vera licence, see its LICENSE.txt) so that Dutch text prints the same on every machine,
whatever fonts it has. Every page carries the trajectory's short id, the day it was printed
and who printed it; the words come from the pages' catalogues. What it shows is the
handover view as the printer may see it (`views.handover_view`): a receiving worker before
the warm handover meeting gets the package without her identity, as on the screen.

Who may print and the access-log entry are the callers' (the API and the pages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from trajectory.clock import amsterdam_date
from trajectory.views import HandoverOut
from trajectory.web.i18n import N_, Translator

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVuSans"
MEDIA_TYPE = "application/pdf"

TITLE = N_("Handover package")


def short_id(trajectory_id: object) -> str:
    """The trajectory's short id, as the pages show it: its first eight characters."""
    return str(trajectory_id)[:8]


class _Document(FPDF):
    """A4 pages with the package's running head and foot on each."""

    def __init__(self, head: str, foot: str, page_word: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._head, self._foot, self._page_word = head, foot, page_word
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(20, 18, 20)

    def header(self) -> None:
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self._head, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self._foot} · {self._page_word} {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)

    def section(self, title: str) -> None:
        self.add_page()
        self.set_font(FAMILY, "B", 15)
        self.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def subheading(self, title: str) -> None:
        self.ln(2)
        self.set_font(FAMILY, "B", 11)
        self.multi_cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def item(self, label: str, value: str) -> None:
        """A label and its value, the value under it (long free text wraps)."""
        self.set_font(FAMILY, "B", 9)
        self.multi_cell(0, 5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 10)
        self.multi_cell(0, 5, value or "—", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def lines(self, texts: Iterable[str], empty: str) -> None:
        self.set_font(FAMILY, "", 10)
        written = False
        for text in texts:
            self.multi_cell(0, 5, f"• {text}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            written = True
        if not written:
            self.multi_cell(0, 5, empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)


def handover_pdf(
    h: HandoverOut,
    t: Translator,
    *,
    printed_at: datetime,
    printed_by: str,
    name_of: Callable[[str], str],
) -> bytes:
    """The handover package as a PDF (bytes starting with %PDF)."""
    printed_on = amsterdam_date(printed_at)
    short = short_id(h.id)
    title = t(TITLE)
    head = t("%(title)s · trajectory %(short)s", title=title, short=short)
    foot = t("Printed on %(date)s by %(name)s", date=t.date(printed_on), name=printed_by)
    doc = _Document(head, foot, t("page"))
    doc.set_title(f"{title} {short}")
    doc.set_subject(short)
    doc.set_author(printed_by)
    doc.set_creator("trajectory")
    doc.set_creation_date(printed_at)

    # 1. Who she is and how to reach her.
    doc.section(t("Who she is and how to reach her"))
    identity = h.identity
    if identity is None:
        doc.lines([], t("Her name and how to reach her are shown from the warm handover"
                        " meeting on."))
        doc.item(t("Age"), t.number(h.age))
    else:
        doc.item(t("Name"), identity.name)
        doc.item(t.field("identity.date_of_birth"), t.date(identity.date_of_birth))
        doc.item(t("Age"), t.number(h.age))
        if h.turns_18_on is not None:
            doc.item(t("Turns 18 on"), t.date(h.turns_18_on))
        doc.item(t.field("identity.home_region"), identity.home_region)
        details = identity.contact_details
        doc.subheading(t("How to reach her"))
        if details is None:
            doc.lines([], t("Not recorded yet."))
        else:
            doc.item(t.field("phone"), details.phone)
            doc.item(t.field("address"), details.address)
            doc.item(t.field("school_or_work"), details.school_or_work)
            if details.note:
                doc.item(t.field("note"), details.note)
            doc.item(t("Recorded on"), t.date(details.recorded_on))

    # 2. The package.
    doc.section(title)
    package = h.package
    if package is None:
        doc.lines([], t("No handover has been prepared."))
    else:
        doc.item(t.field("package.sexual_development"), package.sexual_development)
        doc.item(t.field("package.loverboy_problem"), package.loverboy_problem)
        doc.item(t.event("ComenshaRegistrationDecided"),
                 t.value(h.comensha_decision) if h.comensha_decision else t("not recorded"))
        doc.item(t.field("package.safety_plan"), package.safety_plan)
        doc.item(t.field("package.agreements"), package.agreements)
        doc.item(t.field("package.aftercare_plan"), package.aftercare_plan)
    doc.item(t("Agreed contact frequency"),
             t("at least every %(days)s days", days=t.number(h.contact_every_days)))

    # 3. The people around her, and the receiver.
    doc.section(t("The people around her"))
    doc.item(t("Receiving organisation"), h.receiving_organisation or "")
    if h.receiving_worker:
        doc.item(t("Receiving worker"), name_of(h.receiving_worker))
    if h.external_receiver is not None:
        ext = h.external_receiver
        doc.subheading(t("Receiver outside this installation"))
        doc.item(t.field("external_receiver.organisation"), ext.organisation)
        doc.item(t.field("external_receiver.worker"), ext.worker)
        doc.item(t.field("external_receiver.contact"), ext.contact)
    if h.sending_coordinator is not None:
        doc.item(t("Sending coordinator"), h.sending_coordinator.name)
    doc.subheading(t("Around her after the handover"))
    doc.lines(
        (
            " · ".join(
                part for part in (t.value(p.role), p.name, p.organisation, p.contact) if part
            )
            for p in h.parties
        ),
        t("none"),
    )

    # 4. The contacts to watch.
    doc.section(t("Contacts to watch"))
    doc.lines(
        (f"{c.role}: {t.value(c.risk)} ({t.value(c.level)})" for c in h.contacts_to_watch),
        t("none"),
    )
    doc.subheading(t("Restored contacts"))
    doc.lines((f"{c.role}: {t.value(c.level)}" for c in h.restored_contacts), t("none"))
    return bytes(doc.output())
