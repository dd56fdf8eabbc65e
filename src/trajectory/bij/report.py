"""The half-yearly delivery of Beleidsinformatie Jeugd to CBS.

Follows the Informatieprotocol Beleidsinformatie Jeugd version 5 (`codes.PROTOCOL`): per
reporting period (a half year, `2026H2`) one record per care trajectory that ran in the
period (started on or before its last day, not ended before its first), with the young
person's items, the care's items and, for care ended in the period, the outcome criteria.

Every record is checked before the file is written (`record_problems`: the code lists and
the date rules); a record with a problem is left out of the file and named, with every
problem, in `Delivery.left_out`, so that the organisation corrects the file and makes the
delivery again. A delivery made again for a period already delivered is a correction
(`correction=True`): it replaces the earlier one as a whole.

NOT VERIFIED (see `codes`): the column layout and the date format are this installation's
reading of the protocol's items, in its order; CBS's upload specification for the period
decides. What must not change without that check: a column's name and order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from trajectory.access_log import AccessEntry, AccessLog, Acting
from trajectory.application import TrajectoryApplication
from trajectory.bij import codes
from trajectory.bij.care import CareRecord, care_records
from trajectory.bij.municipalities import Municipalities
from trajectory.bij.rules import bsn_valid

COLUMNS: tuple[str, ...] = (
    "aanbieder",            # the provider (this installation's organisation id)
    "periode",              # the reporting period, e.g. 2026H2
    "correctie",            # J: this delivery replaces an earlier one of the period
    "jeugdhulptraject",     # the trajectory's id: the same in every period and correction
    "bsn",                  # 2.2
    "geboortedatum",        # 2.3, JJJJMMDD
    "geslacht",             # 2.4
    "gemeentecode",         # 2.5, CBS municipality code
    "verwijzer",            # 3.2
    "hulpvorm",             # 3.3
    "gestart_met_crisis",   # 3.4, J/N
    "datum_aanvang",        # 3.5, JJJJMMDD
    "datum_einde",          # 3.6, JJJJMMDD; empty while care goes on
    "reden_beeindiging",    # 3.7; with an end date only
    "tevredenheid",         # 4.3 (criterion 2); ended care only
    "zonder_hulp_verder",   # 4.4 (criterion 3.1); ended care only
    "type_informant",       # 4.5; ended care only
)

PERIOD = re.compile(r"^(\d{4})H([12])$")


class PeriodRefused(ValueError):
    """Not a reporting period (`YYYYH1` or `YYYYH2`)."""


@dataclass(frozen=True)
class Period:
    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = PERIOD.match(text.strip())
        if match is None:
            raise PeriodRefused(f"{text!r} is not a period: give YYYYH1 or YYYYH2")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def first(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def last(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def __str__(self) -> str:
        return f"{self.year}H{self.half}"

    @classmethod
    def holding(cls, day: date) -> Period:
        """The half year `day` lies in."""
        return cls(day.year, 1 if day.month <= 6 else 2)

    @classmethod
    def last_ended(cls, today: date) -> Period:
        """The last half year that has ended on `today`: the one to deliver."""
        return cls(today.year, 1) if today.month > 6 else cls(today.year - 1, 2)


def _day(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value is not None else ""


def row_of(record: CareRecord, period: Period, *, correction: bool = False) -> dict[str, str]:
    """The record's row in the delivery, every value in the protocol's codes; a value with
    no code is left empty (and `record_problems` names it)."""
    ended = record.ended_between(period.first, period.last)
    outcome = record.outcome if ended else None
    return {
        "aanbieder": record.organisation,
        "periode": str(period),
        "correctie": "J" if correction else "N",
        "jeugdhulptraject": record.trajectory_id,
        "bsn": record.bsn,
        "geboortedatum": _day(record.date_of_birth),
        "geslacht": codes.SEX.code(record.sex) or "",
        "gemeentecode": record.municipality,
        "verwijzer": codes.REFERRER.code(record.referrer or "") or "",
        "hulpvorm": codes.CARE_FORM.code(record.care_form or "") or "",
        "gestart_met_crisis": "J" if record.started_in_crisis else "N",
        "datum_aanvang": _day(record.start),
        "datum_einde": _day(record.end) if ended else "",
        "reden_beeindiging": codes.END_REASON.code(record.end_reason or "") or ""
        if ended else "",
        "tevredenheid": codes.ANSWER.code(outcome.satisfied) or "" if outcome else "",
        "zonder_hulp_verder": codes.ANSWER.code(outcome.without_help) or "" if outcome else "",
        "type_informant": codes.INFORMANT.code(outcome.informant) or "" if outcome else "",
    }


def _parsed(value: str) -> date | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) == 8 \
            else None
    except ValueError:
        return None


def record_problems(row: dict[str, str], period: Period,
                    municipalities: Container[str] = codes.MUNICIPALITIES.keys()) -> list[str]:
    """What is wrong with a row before it may be delivered, as stable codes (empty: none).
    Pure: the rules of the protocol's items, checked on the values as they would be
    written."""
    problems: list[str] = []
    if not row["bsn"]:
        problems.append("bsn-missing")
    elif not bsn_valid(row["bsn"]):
        problems.append("bsn-invalid")
    born, start = _parsed(row["geboortedatum"]), _parsed(row["datum_aanvang"])
    end = _parsed(row["datum_einde"]) if row["datum_einde"] else None
    if born is None or start is None or (row["datum_einde"] and end is None):
        problems.append("date-invalid")
    if born is not None and start is not None and born > start:
        problems.append("birth-after-start")
    if start is not None and start > period.last:
        problems.append("start-after-period")
    if start is not None and end is not None and end < start:
        problems.append("end-before-start")
    if end is not None and not period.first <= end <= period.last:
        problems.append("end-outside-period")
    for column, code_list in (("geslacht", codes.SEX), ("verwijzer", codes.REFERRER),
                              ("hulpvorm", codes.CARE_FORM)):
        if not row[column]:
            problems.append(f"{column}-missing")
        elif not code_list.known(row[column]):
            problems.append(f"{column}-unknown-code")
    if not row["gemeentecode"]:
        problems.append("gemeentecode-missing")
    elif row["gemeentecode"] not in municipalities:
        problems.append("gemeentecode-unknown-code")
    if row["gestart_met_crisis"] not in ("J", "N"):
        problems.append("gestart_met_crisis-unknown-code")
    if end is not None:
        if not row["reden_beeindiging"]:
            problems.append("reden_beeindiging-missing")
        elif not codes.END_REASON.known(row["reden_beeindiging"]):
            problems.append("reden_beeindiging-unknown-code")
        outcome = (row["tevredenheid"], row["zonder_hulp_verder"], row["type_informant"])
        if not all(outcome):
            problems.append("outcome-missing")
        else:
            if not (codes.ANSWER.known(outcome[0]) and codes.ANSWER.known(outcome[1])):
                problems.append("outcome-unknown-code")
            if not codes.INFORMANT.known(outcome[2]):
                problems.append("type_informant-unknown-code")
    elif any((row["reden_beeindiging"], row["tevredenheid"], row["zonder_hulp_verder"],
              row["type_informant"])):
        problems.append("ending-without-end-date")
    return problems


def missing_for_delivery(record: CareRecord, today: date,
                         municipalities: Container[str] = codes.MUNICIPALITIES.keys(),
                         ) -> list[str]:
    """What would leave her out of the delivery of the half year her care ended in (or of
    the present one, while it goes on): the same rules as the delivery's, without those
    about the period itself. For her coordinator, on her file, before anyone checks; for
    care that ended before the last half year that has ended, nothing (no delivery asks)."""
    if record.end is not None and record.end < Period.last_ended(today).first:
        return []  # a half year delivered long ago: nobody asks any more
    period = Period.holding(record.end or today)
    return [p for p in record_problems(row_of(record, period), period, municipalities)
            if p not in ("start-after-period", "end-outside-period")]


@dataclass(frozen=True)
class LeftOut:
    trajectory_id: str
    organisation: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Delivery:
    period: Period
    correction: bool
    rows: tuple[dict[str, str], ...]
    left_out: tuple[LeftOut, ...] = field(default=())

    def read(self) -> tuple[str, ...]:
        """Every trajectory the delivery read: delivered, then left out (for the log)."""
        return tuple(r["jeugdhulptraject"] for r in self.rows) + tuple(
            o.trajectory_id for o in self.left_out)

    def csv(self) -> str:
        """The file: semicolon-separated, a header row, one row per record (UTF-8)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def delivery(records: Iterable[CareRecord], period: Period, *, correction: bool = False,
             municipalities: Container[str] = codes.MUNICIPALITIES.keys()) -> Delivery:
    """The delivery for `period`: every record of care in the period, checked (against the
    installation's municipalities, `bij.municipalities`); those with a problem left out and
    named."""
    rows: list[dict[str, str]] = []
    left_out: list[LeftOut] = []
    for record in records:
        if not record.in_care_between(period.first, period.last):
            continue
        row = row_of(record, period, correction=correction)
        problems = record_problems(row, period, municipalities)
        if problems:
            left_out.append(LeftOut(record.trajectory_id, record.organisation, tuple(problems)))
        else:
            rows.append(row)
    return Delivery(period, correction, tuple(rows), tuple(left_out))


def write(delivery: Delivery, target: Path) -> None:
    """Write the file, readable by its owner only: it holds citizen service numbers."""
    import os

    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(delivery.csv())


def delivery_from(app: TrajectoryApplication, period: Period, *,
                  organisation: str | None = None, correction: bool = False) -> Delivery:
    """The delivery as the store holds it: every girl's care (of one organisation, or all),
    checked against the installation's municipalities. Not logged: the caller logs it, as
    the page or the command line it is (`produce`)."""
    return delivery(care_records(app, organisation), period, correction=correction,
                    municipalities=Municipalities(app.db).all().keys())


def produce(
    app: TrajectoryApplication,
    period: Period,
    actor: Acting,
    *,
    organisation: str | None = None,
    correction: bool = False,
    client: str | None = None,
) -> Delivery:
    """The delivery read from the store, access-logged: one entry, by `actor`, naming
    every trajectory read (those delivered and those left out). Logged before it is
    returned: nothing personal leaves unlogged."""
    made = delivery_from(app, period, organisation=organisation, correction=correction)
    entry = AccessEntry.by(actor, at=app.clock(), action="report-bij", outcome="ok",
                           client=client, request_id=f"bij:{period}")
    AccessLog(app.db).append(replace(entry, shown=made.read()))
    return made
