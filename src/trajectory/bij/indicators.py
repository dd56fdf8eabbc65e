"""The national outcome indicators of youth care, per period: dropout, satisfaction, can
go on without help, no new start within six months, and goals attained.

The harmonised set agreed by the VNG, the sector associations and the Netherlands Youth
Institute (NJi, *Outcome in zicht*): uitval, cliënttevredenheid and doelrealisatie (zonder
hulp verder; geen nieuwe start jeugdhulp; doelen behaald). Counted over the care that ended
in the period (its closure's day), for the organisation and per organisation, per form of
care and per municipality of residence.

- dropout: care ended one-sidedly before the plan's end (`codes.DROPOUT`) / care ended;
- satisfied, without help: answered yes / answered yes or no (unknown is not counted);
- no new start: no new intake of the same girl in the installation (any organisation)
  within six months after the end / ended care whose six months have passed, with a
  citizen service number. The same girl is recognised by a keyed hash of her number
  (`NewStarts`), computed in memory from her encrypted identity and never stored;
- goals attained: goals attained (yes) / goals assessed, over the ended care's outcomes.

Small cells are suppressed as the national figures suppress them
(`projections.victims.SMALL_CELL`): a count below it and above zero is not shown, nor a
share whose numerator or denominator is not shown.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import msgspec

from trajectory.application import TrajectoryApplication
from trajectory.bij.care import CareRecord, care_records
from trajectory.bij.codes import DROPOUT
from trajectory.clock import amsterdam_date
from trajectory.crypto import MasterKey
from trajectory.projections.victims import SMALL_CELL

INDICATORS: tuple[str, ...] = (
    "dropout", "satisfied", "without_help", "no_new_start", "goals_attained",
)
NEW_START_DAYS = 183
"""Six months, in days: a new intake within this many days of the end is a new start."""

_PURPOSE = b"trajectory-bsn-new-start:"
_UNENCRYPTED = b"trajectory-bsn-new-start-unencrypted-store"


def new_start_key(master: MasterKey | None) -> bytes:
    """The HMAC key for the keyed hash of a citizen service number, derived from the
    master key for this purpose only (as `duplicates.fingerprint_key` does for names)."""
    if master is None:
        return hashlib.sha256(_UNENCRYPTED).digest()
    return hmac.new(master.key, _PURPOSE + b"v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class NewStarts:
    """Intakes by the keyed hash of the girl's number: a plain hash of a nine-digit
    number is reversed by trying them all, a keyed one is not."""

    key: bytes

    def of(self, bsn: str) -> str:
        return hmac.new(self.key, bsn.encode(), hashlib.sha256).hexdigest()

    def index(self, records: Iterable[CareRecord]) -> dict[str, list[tuple[date, str]]]:
        starts: dict[str, list[tuple[date, str]]] = defaultdict(list)
        for r in records:
            if r.bsn:
                starts[self.of(r.bsn)].append((r.start, r.trajectory_id))
        return starts


class IndicatorOut(msgspec.Struct, kw_only=True):
    """One indicator of one group: numerator, denominator and share (percent, one
    decimal); None where suppressed."""

    indicator: str
    numerator: int | None
    denominator: int | None
    percent: float | None


class GroupOut(msgspec.Struct, kw_only=True):
    """One group (the whole, an organisation, a form of care, a municipality)."""

    by: str
    """`all`, `organisation`, `care_form` or `municipality`."""
    value: str
    ended: int | None
    indicators: list[IndicatorOut]


class OutcomesOut(msgspec.Struct, kw_only=True):
    first: date
    last: date
    as_of: date
    small_cell_threshold: int
    groups: list[GroupOut]


@dataclass(frozen=True)
class Counts:
    """The raw counts of one group, before suppression."""

    ended: int
    counts: dict[str, tuple[int, int]]


def _count(records: list[CareRecord], new_start: Callable[[CareRecord], bool | None]) -> Counts:
    ended = len(records)
    dropout = sum(1 for r in records if r.end_reason in DROPOUT)
    satisfied = [r.outcome.satisfied for r in records
                 if r.outcome and r.outcome.satisfied != "unknown"]
    without = [r.outcome.without_help for r in records
               if r.outcome and r.outcome.without_help != "unknown"]
    judged = [x for x in (new_start(r) for r in records) if x is not None]
    goals = [g.attained for r in records if r.outcome for g in r.outcome.goals]
    return Counts(ended, {
        "dropout": (dropout, ended),
        "satisfied": (satisfied.count("yes"), len(satisfied)),
        "without_help": (without.count("yes"), len(without)),
        "no_new_start": (judged.count(True), len(judged)),
        "goals_attained": (goals.count("yes"), len(goals)),
    })


def count_groups(
    records: Iterable[CareRecord],
    first: date,
    last: date,
    today: date,
    starts: NewStarts,
    *,
    everyone: Iterable[CareRecord] | None = None,
) -> dict[tuple[str, str], Counts]:
    """The raw counts per group of the care ended between `first` and `last`; `everyone`
    (default: `records`) is where a new start is looked for: the whole installation."""
    mine = list(records)
    index = starts.index(mine if everyone is None else everyone)

    def new_start(r: CareRecord) -> bool | None:
        """No new start (True), a new start (False), or not yet known (None)."""
        if r.end is None or not r.bsn or r.end + timedelta(days=NEW_START_DAYS) > today:
            return None
        window_end = r.end + timedelta(days=NEW_START_DAYS)
        return not any(r.end < start <= window_end and tid != r.trajectory_id
                       for start, tid in index.get(starts.of(r.bsn), ()))

    ended = [r for r in mine if r.ended_between(first, last)]
    groups: dict[tuple[str, str], list[CareRecord]] = defaultdict(list)
    groups[("all", "")] = ended
    for r in ended:
        groups[("organisation", r.organisation)].append(r)
        groups[("care_form", r.care_form or "unknown")].append(r)
        groups[("municipality", r.municipality or "unknown")].append(r)
    return {key: _count(rs, new_start) for key, rs in groups.items()}


def _shown(n: int) -> int | None:
    return None if 0 < n < SMALL_CELL else n


def suppress(key: tuple[str, str], counts: Counts) -> GroupOut:
    """The group as published: small cells suppressed."""
    indicators: list[IndicatorOut] = []
    for name in INDICATORS:
        num, den = counts.counts[name]
        shown_num, shown_den = _shown(num), _shown(den)
        percent = (round(100 * num / den, 1)
                   if den and shown_num is not None and shown_den is not None else None)
        indicators.append(IndicatorOut(indicator=name, numerator=shown_num,
                                       denominator=shown_den, percent=percent))
    return GroupOut(by=key[0], value=key[1], ended=_shown(counts.ended), indicators=indicators)


def outcomes(
    records: Iterable[CareRecord],
    first: date,
    last: date,
    today: date,
    starts: NewStarts,
    *,
    everyone: Iterable[CareRecord] | None = None,
) -> OutcomesOut:
    counted = count_groups(records, first, last, today, starts, everyone=everyone)
    order = {"all": 0, "organisation": 1, "care_form": 2, "municipality": 3}
    groups = [suppress(k, c) for k, c in sorted(counted.items(),
                                                 key=lambda kc: (order[kc[0][0]], kc[0][1]))]
    return OutcomesOut(first=first, last=last, as_of=today, small_cell_threshold=SMALL_CELL,
                       groups=groups)


def month_range(start: str, end: str) -> tuple[date, date]:
    """The first day of `start` (YYYY-MM) and the last day of `end` (YYYY-MM)."""
    y1, m1 = (int(x) for x in start.split("-"))
    y2, m2 = (int(x) for x in end.split("-"))
    first = date(y1, m1, 1)
    after = date(y2 + (m2 == 12), m2 % 12 + 1, 1)
    return first, after - timedelta(days=1)


def csv_of(out: OutcomesOut) -> str:
    """The indicators as CSV, one row per group and indicator; suppressed cells empty."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["first", "last", "by", "value", "indicator", "numerator",
                     "denominator", "percent"])
    for g in out.groups:
        for i in g.indicators:
            writer.writerow([out.first.isoformat(), out.last.isoformat(), g.by, g.value,
                             i.indicator, "" if i.numerator is None else i.numerator,
                             "" if i.denominator is None else i.denominator,
                             "" if i.percent is None else i.percent])
    return buffer.getvalue()


def organisation_outcomes(
    app: TrajectoryApplication, organisation: str, first: date, last: date
) -> OutcomesOut:
    """The indicators of one organisation's care ended between `first` and `last`; a new
    start is looked for in the whole installation."""
    everyone = list(care_records(app))
    keys = app.keys
    starts = NewStarts(new_start_key(keys.master if keys is not None else None))
    mine = [r for r in everyone if r.organisation == organisation]
    return outcomes(mine, first, last, amsterdam_date(app.clock()), starts, everyone=everyone)
