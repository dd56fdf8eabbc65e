"""The care pages over real HTTP: the girl's page with a long history, her history page
and the caseload, each next to the API's JSON of the same work, on the same server, in the
same run.

    .venv/bin/python -m bench.pages [--events 1000] [--loads 100] [--girls 50] [--postgres]

One girl's history is built through the write path (the API, fact by fact, every command
checked by the rules: safety and care analyses, permissions, contacts, therapy sessions,
signals, runaways and returns, corrections, a phase advanced), a coordinator signs in
through the sign-in pages (password, then a TOTP code) and the pages are asked in turn with
the API's reads, so that drift on a loaded machine hits all of them alike. Prints the
table (figure, baseline, ratio, target, PASS/GAP), appends the run to
bench/results/pages.jsonl and exits non-zero when a target is missed.

Like with like: the girl's page reads her whole stream, folds it, and renders her summary
and every entry of her history; the API's `GET /trajectories/{id}/events` reads and
decodes the same stream and serialises every entry as JSON. What the ratio shows is what
the page adds (the fold for the summary, the timeline, the HTML of every entry).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pyotp

from bench import http
from bench.common import POSTGRES_URL, record, summary
from bench.run_all import Row, Store, say, scratch, table
from trajectory import commands as c
from trajectory.aggregates.vocabulary import ContactRisk, SignalKind
from trajectory.crypto import MasterKey
from trajectory.facts import FACTS
from trajectory.logs import configure_logging

PAGE_TARGET = 3.0
"""The girl's page p50 at most this times the API's JSON of her whole history (p50)."""
CASELOAD_TARGET = 2.0
"""The caseload page p50 at most this times the API's caseload (p50)."""
_CSRF = 'name="csrf_token" value="'
SKIPPED = ("her history page: skipped, /app/trajectories/{id}/history does not answer 200"
           " at this commit")


# -- her history, through the write path ---------------------------------------------------


def _phase_2_facts() -> list[c.Command]:
    """What the default protocol asks before phase 2 (but the days in phase 1)."""
    return [
        _safety_analysis(),
        c.AssessMedicalCare(needs=["sti_test"], provider="Centrum Seksueel Geweld"),
        c.RecordCareAnalysis(disciplines=["psycholoog", "maatschappelijk werker"]),
        c.SetTreatmentPlan(goals=["stabiliseren"]),
        c.DecidePlacement(kind="homogeneous_group", region="Utrecht"),
        c.ArrangeEducation(school="De Brug", level="vmbo"),
    ]


def _safety_analysis() -> c.RecordSafetyAnalysis:
    return c.RecordSafetyAnalysis(
        instrument="gestructureerd",
        physical_safety="concerns",
        experienced_safety="unsafe",
        risks=["internet_social_media", "runaway"],
        runaway_risk="high",
        measures=["police_involved"],
        police_involved=True,
    )


SIGNALS: tuple[SignalKind, ...] = ("loverboy", "boundary_crossing", "runaway", "sexual_abuse")
"""A quality signal of each kind in turn."""


@dataclass
class Step:
    """One fact of her history: the command, the day it happened, where the API takes it."""

    command: c.Command
    day: date
    path: str
    method: str


class History:
    """An endless, legal history of one girl in care, told fact by fact.

    Every fact stays within the caps of phase 1 (permissions none or supervised; leave
    accompanied), so a regression after a runaway refuses nothing; a correction points at
    the signal recorded just before it. `contacts` and `last` are filled in from the API's
    answers (a contact's id, the position of the entry a correction corrects)."""

    def __init__(self, intake: date, today: date, events: int):
        self.intake = intake
        # The facts of a cycle happen over its days: spread them up to yesterday.
        self.span = max(1, (today - intake).days - 40)
        self.expected = max(1, events)
        self.contacts: list[str] = []
        self.last_signal = 0

    def _on(self, index: int) -> date:
        return self.intake + timedelta(days=36 + (index * self.span) // self.expected)

    def opening(self) -> Iterator[tuple[c.Command, int]]:
        """The first weeks: what phase 2 asks, her network, then the advance."""
        for command in _phase_2_facts():
            yield command, 1
        network: tuple[tuple[str, ContactRisk], ...] = (
            ("moeder", "safe"), ("vriend", "risky"), ("mentor", "safe"))
        for role, risk in network:
            yield c.RegisterNetworkContact(role=role, risk=risk), 2
        yield c.RecordFamilyInvolvement(form="family_meeting", participants=["moeder"]), 3
        yield c.TransitionPhase(to_phase=2, reason="stabiel, doelen gehaald"), 30
        yield c.StartTraumaTherapy(method="emdr", provider="jeugd-ggz"), 31

    def cycle(self, n: int) -> list[c.Command]:
        """One cycle of ordinary weeks in care (the nth)."""
        out: list[c.Command] = [
            c.HoldTraumaTherapySession(note="sessie volgens plan"),
            c.RecordSignal(kind=SIGNALS[n % len(SIGNALS)], note="besproken in het team"),
            c.ChangePermission(kind="internet", level="none" if n % 2 else "supervised",
                               reason="afspraak met de groepsleiding"),
            c.RecordEducationProgress(attending=n % 7 != 0, note="gesprek met de mentor"),
        ]
        if n % 5 == 4:
            out.append(c.ReportRunaway(from_where="de groep", how="niet teruggekomen na school",
                                       police_forces_informed=["Midden-Nederland"]))
            out.append(c.EndRunaway(ending="returned", note="zelf teruggekomen"))
        if n % 6 == 3:
            out.append(c.CorrectEntry(
                position=1, action="mark_in_error" if n % 12 == 9 else "correct",
                reason="verkeerd signaal gekozen"))
        if n % 4 == 3 and self.contacts:
            out.append(c.RestrictNetworkContact(level="none", reason="zorgen over contact",
                                                contact_id=self.contacts[0]))
        if n % 4 == 1 and self.contacts:
            out.append(c.RestoreNetworkContact(level="supervised", reason="weer vertrouwd",
                                               contact_id=self.contacts[0]))
        if n % 8 == 2:
            out.append(c.DeliverIntervention(kind="resilience_training", provider="De Waag"))
            out.append(c.HoldCaseConference(partners=["politie", "school"]))
        if n % 15 == 7:
            out.append(_safety_analysis())
            out.append(c.RecordCareAnalysis(disciplines=["psycholoog", "gedragswetenschapper"]))
        return out

    def steps(self) -> Iterator[Step]:
        for command, days in self.opening():
            yield self.step(command, self.intake + timedelta(days=days))
        index, n = 0, 0
        while True:
            for command in self.cycle(n):
                yield self.step(command, self._on(index))
                index += 1
            n += 1

    def step(self, command: c.Command, day: date) -> Step:
        """The fact as the API takes it, dated `day`."""
        if isinstance(command, c.CorrectEntry):  # the signal recorded just before it
            command = msgspec.structs.replace(command, position=self.last_signal)
        fact = FACTS.of(type(command))
        path = fact.path.format(
            kind=getattr(command, "kind", ""), contact_id=getattr(command, "contact_id", "")
        )
        dated = msgspec.structs.replace(command, occurred_on=day.isoformat())
        return Step(dated, day, path, fact.method)


def build_history(client: httpx.Client, events: int, today: date) -> tuple[str, int]:
    """Open one girl and record facts through the API until her history holds `events`
    events; (her id, her version)."""
    intake = today - timedelta(days=max(60, 40 + (events * 2) // 3))
    (tid,) = http.open_trajectories(client, 1, intake_date=intake, name="Bench Geschiedenis")
    history = History(intake, today, events)
    version = 1
    headers = {"Content-Type": "application/json"}
    for step in history.steps():
        if version >= events:
            break
        if version >= events - 2:  # the last ones: one event each, to land on `events`
            step = history.step(c.RecordSignal(kind="loverboy"), step.day)
        answer = http.ok(client.request(
            step.method, f"/trajectories/{tid}/{step.path}", headers=headers,
            content=msgspec.json.encode(step.command)))
        got = answer.json()
        version = int(got["version"])
        if got.get("contact_id") and step.path == "network-contacts":
            history.contacts.append(str(got["contact_id"]))
        if isinstance(step.command, c.RecordSignal):
            history.last_signal = version
        if version % 100 == 0:
            say(f"her history: {version:,} of {events:,} events")
    return tid, version


# -- signing in through the pages ------------------------------------------------------------


def _csrf(html: str) -> str:
    start = html.index(_CSRF) + len(_CSRF)
    return html[start : html.index('"', start)]


def sign_in(base_url: str, who: http.Coordinator) -> httpx.Client:
    """A browser's client, signed in through /app/login and /app/login/code."""
    client = httpx.Client(base_url=base_url, timeout=60, follow_redirects=False)
    page = http.ok(client.get("/app/login"))
    first = client.post("/app/login", data={
        "csrf_token": _csrf(page.text), "username": who.name, "password": who.password,
        "next": "/app/"})
    if first.status_code != 303 or not first.headers["location"].startswith("/app/login/code"):
        raise RuntimeError(f"the password step answered {first.status_code}")
    code_page = http.ok(client.get(first.headers["location"]))
    done = client.post("/app/login/code", data={
        "csrf_token": _csrf(code_page.text), "code": pyotp.TOTP(who.totp_secret).now(),
        "next": "/app/"})
    if done.status_code != 303:
        raise RuntimeError(f"the code step answered {done.status_code}")
    return client


# -- the run ------------------------------------------------------------------------------


def memory_mb(pid: int) -> dict[str, float]:
    """The process's peak (VmHWM, as the export's benchmark reads it) and current (VmRSS)
    resident memory."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            for field, name in (("VmHWM:", "peak"), ("VmRSS:", "now")):
                if line.startswith(field):
                    out[name] = round(int(line.split()[1]) / 1024, 1)
    return out


def measure(url: str, events: int, loads: int, girls: int, log: Path) -> dict[str, Any]:
    """Every figure of one run on the store at `url` (empty): raw samples summarised."""
    key = MasterKey.generate().to_text()
    who = http.prepare_coordinator(url, key)
    out: dict[str, Any] = {"events_asked": events, "loads": loads, "girls": girls + 1}
    with http.server(url, key, log) as server, server.client(who.token) as api:
        say(f"{girls} other girls for the caseload")
        http.open_trajectories(api, girls)
        say(f"her history of {events:,} events, fact by fact through the API")
        started = time.perf_counter()
        tid, version = build_history(api, events, date.today())
        out["events"] = version
        out["build_seconds"] = round(time.perf_counter() - started, 1)
        http.settle(api)
        kinds = Counter(e["type"] for e in http.ok(api.get(f"/trajectories/{tid}/events")).json())
        out["kinds"] = dict(sorted(kinds.items()))
        out["memory_after_build_mb"] = memory_mb(server.process.pid)
        say("signing in through the pages")
        with contextlib.closing(sign_in(server.base_url, who)) as browser:
            # (the password's check, argon2id at 64 MiB, sets the peak before any page)
            out["memory_after_sign_in_mb"] = memory_mb(server.process.pid)
            history = f"/app/trajectories/{tid}/history"
            has_history = browser.get(history).status_code == 200
            paths = {
                "page": (browser, f"/app/trajectories/{tid}"),
                "events_json": (api, f"/trajectories/{tid}/events"),
                "summary_json": (api, f"/trajectories/{tid}"),
                "caseload_page": (browser, "/app/caseload"),
                "caseload_json": (api, "/trajectories?limit=50"),
                **({"history_page": (browser, history)} if has_history else {}),
            }
            say(f"{loads} loads of each of {len(paths)} addresses, in turn")
            got = http.pages(api, [p for _, p in paths.values()], loads,
                             via={p: client for client, p in paths.values()})
            out["has_history_page"] = has_history
            for name, (_, path) in paths.items():
                out[name] = summary(got[path])
                out[name]["path"] = path.replace(tid, "{id}")
            sizes = {name: len(http.ok(client.get(path)).content)
                     for name, (client, path) in paths.items()}
            out["bytes"] = sizes
        out["memory_at_end_mb"] = memory_mb(server.process.pid)
    return out


def rows(store: str, raw: dict[str, Any]) -> list[Row]:
    n = f"{raw['events']:,}"
    page, events, caseload = raw["page"], raw["events_json"], raw["caseload_json"]
    out = [
        Row(store, f"girl's page ({n} events), p50", page["p50_ms"], events["p50_ms"], "ms",
            f"<= {PAGE_TARGET:g}x", "lower", PAGE_TARGET,
            "baseline: the API's JSON of her whole history (GET /trajectories/{id}/events),"
            f" same server, in turn; her summary alone {raw['summary_json']['p50_ms']:.2f} ms"),
        Row(store, f"girl's page ({n} events), p95", page["p95_ms"], events["p95_ms"], "ms",
            "(info)", "info", PAGE_TARGET),
    ]
    if "history_page" in raw:
        hp = raw["history_page"]
        out += [
            Row(store, f"her history page ({n} events), p50", hp["p50_ms"], events["p50_ms"],
                "ms", f"<= {PAGE_TARGET:g}x", "lower", PAGE_TARGET,
                "baseline: the API's JSON of her whole history"),
            Row(store, f"her history page ({n} events), p95", hp["p95_ms"], events["p95_ms"],
                "ms", "(info)", "info", PAGE_TARGET),
        ]
    out += [
        Row(store, f"caseload page ({raw['girls']} girls), p50", raw["caseload_page"]["p50_ms"],
            caseload["p50_ms"], "ms", f"<= {CASELOAD_TARGET:g}x", "lower", CASELOAD_TARGET,
            "baseline: the API's caseload (GET /trajectories?limit=50), same server, in turn"),
        Row(store, f"caseload page ({raw['girls']} girls), p95", raw["caseload_page"]["p95_ms"],
            caseload["p95_ms"], "ms", "(info)", "info", CASELOAD_TARGET),
        Row(store, "server peak memory (VmHWM)", raw["memory_at_end_mb"].get("peak"),
            raw["memory_after_sign_in_mb"].get("peak"), "MB", "(info)", "info", 0,
            "baseline: its peak once signed in, before any page (the password's check,"
            " argon2id at 64 MiB, sets it); after building her history"
            f" {raw['memory_after_build_mb'].get('peak')} MB; resident at the end"
            f" {raw['memory_at_end_mb'].get('now')} MB"),
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000, help="events in her history")
    parser.add_argument("--loads", type=int, default=100, help="loads of each address")
    parser.add_argument("--girls", type=int, default=50, help="other girls in the caseload")
    parser.add_argument("--postgres", action="store_true", help=f"PostgreSQL ({POSTGRES_URL})")
    parser.add_argument("--no-record", action="store_true", help="do not append the result")
    args = parser.parse_args(argv)
    configure_logging("warning")
    store: Store = "postgres" if args.postgres else "sqlite"
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    say(f"load average at start: {load_at_start}")
    with scratch(store, "pages") as url, tempfile.TemporaryDirectory() as logs:
        log = Path(logs) / "server.log"
        try:
            raw = measure(url, args.events, args.loads, args.girls, log)
        except Exception:
            with contextlib.suppress(OSError):
                print(log.read_text()[-3000:], file=sys.stderr)
            raise
    found = rows(store, raw)
    print(table(found))
    if not raw["has_history_page"]:
        print(f"\n{SKIPPED}")
    if not args.no_record:
        path = record("pages", {"store": store, "load_average_at_start": load_at_start,
                                "rows": [r.as_dict() for r in found], "raw": raw,
                                **({} if raw["has_history_page"] else {"skipped": [SKIPPED]})})
        print(f"\nrecorded in bench/results/{path.name}")
    return exit_code(found)


def exit_code(found: Sequence[Row]) -> int:
    """Non-zero when a figure misses its target, so that a run can gate a change."""
    return 1 if any(r.verdict == "GAP" for r in found) else 0


if __name__ == "__main__":
    sys.exit(main())
