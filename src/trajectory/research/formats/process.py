"""Event logs for process mining: OCEL 2.0 (JSON) and XES (IEEE 1849-2016).

Both are written from the rows of events.csv as the export derives them, one girl at a
time (memory holds one girl's rows and the list of pseudonyms), so they hold the same
events as events.csv, with these choices for a tool that has no notion of a flag:

- an entry marked in error is left out (it did not happen), and so are the correcting
  facts themselves (`EntryCorrected`, `EntryMarkedInError`: record keeping, not care);
  a corrected day is applied (as in events.csv);
- an event's time is synthetic: every girl's day 0 (intake) is 1 January 2000, an event
  on day d is d days later, and its time of day is its position in her trajectory in
  seconds, so that the events of one day keep their order. No real date or time leaves;
- one case (XES trace, OCEL object of type `girl`) per girl, named by her pseudonym;
  activities are the event codes of events.csv; an event's other attributes are its
  filled columns of events.csv (codes as strings, numbers and flags as integers).

OCEL 2.0: `objectTypes`, `eventTypes` (with the attributes each may carry), `events`
(each related to its girl with the qualifier `girl`), then `objects`. XES: the Concept,
Time and Lifecycle extensions, global defaults and the Activity classifier.
"""

from __future__ import annotations

from datetime import date, timedelta
from operator import itemgetter
from pathlib import Path
from xml.sax.saxutils import escape

import msgspec

from trajectory.research.coding import Value, coders, event_classes
from trajectory.research.formats.sink import Sink
from trajectory.research.tables import Table

OCEL_FILE, XES_FILE = "events.jsonocel", "events.xes"
BASE_DAY = date(2000, 1, 1)
"""The synthetic day 0 of every girl (see the module's docstring)."""
GIRL = "girl"
_MADE_AT_MOST = 50_000
LEFT_OUT = frozenset({"EntryCorrected", "EntryMarkedInError"})
_ATTRIBUTE_TYPES = {"text": "string", "code": "string", "set": "string", "int": "integer",
                    "flag": "integer"}
_XES_TAGS = {"string": "string", "integer": "int"}


def _escape(text: str) -> str:
    return escape(text, {'"': "&quot;"})


class ProcessLogs:
    """Writes events.jsonocel and/or events.xes (or, without a directory, only hashes
    them, for the verifier) from the events table's rows, one girl at a time."""

    def __init__(self, events: Table, out: Path | None, *, ocel: bool, xes: bool):
        names = [c.name for c in events.columns]
        self._seq, self._day = names.index("seq"), names.index("day")
        self._error = names.index("in_error")
        base = [(self._day, "day", "integer"), (self._seq, "seq", "integer")]
        tail = [(names.index("corrected"), "corrected", "integer"),
                (names.index("day_recorded"), "day_recorded", "integer")]
        kinds = {c.name: _ATTRIBUTE_TYPES[c.kind] for c in events.columns}
        self._attributes: dict[str, list[tuple[int, str, str]]] = {}
        for cls in event_classes():
            if cls.__name__ in LEFT_OUT:
                continue
            own = [(names.index(c.column.name), c.column.name, kinds[c.column.name])
                   for c in coders(cls)]
            self._attributes[cls.__name__] = base + own + tail
        self._days: dict[int, str] = {}
        self._clocks: dict[int, str] = {}
        self._texts: dict[str, tuple[str, str]] = {}
        # (column, '{"name":"<column>","value":', '<int key="<column>" value="') per
        # attribute of each activity: the fixed text around every value, made once
        # (`day` and `seq` are written around them: they differ in nearly every event)
        self._pieces = {
            activity: [(i, f'{{"name":"{name}","value":', f'<{_XES_TAGS[kind]} key="{name}"'
                        ' value="') for i, name, kind in attributes[2:]]
            for activity, attributes in self._attributes.items()
        }
        self._values = {
            activity: itemgetter(*(i for i, _, _ in pieces))
            for activity, pieces in self._pieces.items()
        }
        self._made: dict[tuple[str, tuple[Value, ...]], tuple[str, str]] = {}
        self._ocel = Sink(out / OCEL_FILE if out is not None else None) if ocel else None
        self._xes = Sink(out / XES_FILE if out is not None else None) if xes else None
        self._girls: list[str] = []
        self.rows = 0
        self._first_event = True
        self._encode = msgspec.json.Encoder().encode
        if self._ocel is not None:
            self._ocel.write(self._ocel_head())
        if self._xes is not None:
            self._xes.write(_XES_HEAD.encode())

    def _ocel_head(self) -> bytes:
        event_types = [
            {"name": name, "attributes": [{"name": n, "type": t} for _, n, t in attributes]}
            for name, attributes in self._attributes.items()
        ]
        head = {"objectTypes": [{"name": GIRL, "attributes": []}], "eventTypes": event_types}
        return self._encode(head)[:-1] + b',\n"events":['

    def _date(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (BASE_DAY + timedelta(days=day)).isoformat()
        return text

    def _text(self, value: str) -> tuple[str, str]:
        """A text value as JSON and as an XML attribute, made once per distinct value (the
        values are codes: few, and repeated in nearly every event)."""
        made = self._texts.get(value)
        if made is None:
            made = self._texts[value] = (self._encode(value).decode(), _escape(value))
        return made

    def _fragments(self, activity: str, values: tuple[Value, ...]) -> tuple[str, str]:
        """The attributes after `day` and `seq` of an event, as OCEL JSON and as XES."""
        json_parts: list[str] = []
        xml_parts: list[str] = []
        for (_, json_key, xml_key), v in zip(self._pieces[activity], values, strict=True):
            if v is None:
                continue
            if isinstance(v, str):
                as_json, as_xml = self._text(v)
            else:
                as_json = as_xml = str(v)
            json_parts.append("," + json_key + as_json + "}")
            xml_parts.append(xml_key + as_xml + '"/>')
        return "".join(json_parts), "".join(xml_parts)

    def add(self, pseudonym: str, rows: list[list[Value]]) -> None:
        """One girl's rows of events.csv. (Written with prepared pieces of text, not a
        structure per event: these logs are as long as the log itself. An event's coded
        values repeat across the log, so their text is made once per distinct values.)"""
        self._girls.append(pseudonym)
        seq, day, error = self._seq, self._day, self._error
        kept = [r for r in rows if not r[error] and r[2] in self._attributes]
        kept.sort(key=lambda r: (r[day], r[seq]))
        self.rows += len(kept)
        ocel, xes = self._ocel is not None, self._xes is not None
        out_ocel: list[str] = []
        out_xes: list[str] = []
        relation = f'],"relationships":[{{"objectId":"{pseudonym}","qualifier":"{GIRL}"}}]}}'
        if xes:
            out_xes.append(f'<trace><string key="concept:name" value="{_escape(pseudonym)}"/>\n')
        made = self._made
        for row in kept:
            n = int(row[seq])  # type: ignore[arg-type]
            d = int(row[day])  # type: ignore[arg-type]
            clock = self._clocks.get(n)
            if clock is None:
                clock = self._clocks[n] = f"{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}"
            when = f"{self._date(d + n // 86400)}T{clock}"
            activity = str(row[2])
            values = self._values[activity](row)
            key = (activity, values)
            fragments = made.get(key)
            if fragments is None:
                if len(made) >= _MADE_AT_MOST:  # (days in a few coded columns: bounded)
                    made.clear()
                fragments = made[key] = self._fragments(activity, values)
            if ocel:
                out_ocel.append(
                    f'{"" if self._first_event else ","}\n{{"id":"{pseudonym}-{n}",'
                    f'"type":"{activity}","time":"{when}Z","attributes":['
                    f'{{"name":"day","value":{d}}},{{"name":"seq","value":{n}}}'
                    + fragments[0] + relation
                )
                self._first_event = False
            if xes:
                out_xes.append(f'<event><string key="concept:name" value="{activity}"/>'
                               f'<date key="time:timestamp" value="{when}.000+00:00"/>'
                               '<string key="lifecycle:transition" value="complete"/>'
                               f'<int key="day" value="{d}"/><int key="seq" value="{n}"/>'
                               + fragments[1] + "</event>\n")
        if self._ocel is not None and out_ocel:
            self._ocel.write("".join(out_ocel).encode())
        if self._xes is not None:
            out_xes.append("</trace>\n")
            self._xes.write("".join(out_xes).encode())

    def close(self) -> dict[str, tuple[int, int, str]]:
        """file name -> (events, bytes, SHA-256) of each log written."""
        done: dict[str, tuple[int, int, str]] = {}
        if self._ocel is not None:
            objects = [{"id": g, "type": GIRL, "attributes": [], "relationships": []}
                       for g in self._girls]
            self._ocel.write(b'\n],\n"objects":' + self._encode(objects) + b"}\n")
            sha = self._ocel.close()
            done[OCEL_FILE] = (self.rows, self._ocel.size, sha)
        if self._xes is not None:
            self._xes.write(b"</log>\n")
            sha = self._xes.close()
            done[XES_FILE] = (self.rows, self._xes.size, sha)
        return done

    def discard(self) -> None:
        for sink in (self._ocel, self._xes):
            if sink is not None:
                sink.discard()


_XES_HEAD = "\n".join((
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">',
    *(f'<extension name="{name}" prefix="{name.lower()}"'
      f' uri="http://www.xes-standard.org/{name.lower()}.xesext"/>'
      for name in ("Concept", "Time", "Lifecycle")),
    '<global scope="trace"><string key="concept:name" value="__INVALID__"/></global>',
    '<global scope="event"><string key="concept:name" value="__INVALID__"/>'
    '<date key="time:timestamp" value="2000-01-01T00:00:00.000+00:00"/>'
    '<string key="lifecycle:transition" value="complete"/></global>',
    '<classifier name="Activity" keys="concept:name"/>',
    '<string key="concept:name" value="trajectory research export"/>',
    "",
))
