"""The web pages' words, dates and numbers: Dutch by default, English on request.

The words live in gettext catalogues beside this module (`locale/<lang>/LC_MESSAGES/
messages.po`); English is the source language, so a msgid is the English sentence itself
(`t("Not found.")`, `{{ _("Signed in as %(name)s", name=user.name) }}`). A code (a
vocabulary value, a field, a criterion, a rule, an event, a core element) is looked up
under a message context (`pgettext("value", "in_care")`): both catalogues carry a word for
it, and a test fails when one lacks it (`tests/test_web_words.py`). How to add a word:
docs/words.md.

The .po files are compiled in memory on first use (`babel.messages.mofile.write_mo` into a
buffer), not shipped as .mo files: a compiled file is a second copy that a fresh checkout
or an edited .po can leave stale, while the .po is what people edit and review, and
compiling 600 entries takes a few milliseconds once per process.

The language is chosen by `?lang=`, then the `trj_lang` cookie, then Accept-Language, then
Dutch. Codes are the stored contract; the words may change freely.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

Lang = Literal["nl", "en"]
LANGS: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANG: Lang = "nl"
LANG_COOKIE = "trj_lang"

LOCALES: dict[Lang, str] = {"nl": "nl_NL", "en": "en_GB"}
"""The Babel locale of each language: Dutch as written in the Netherlands, British English."""
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_Day = date  # `date` the type, where the method `date` shadows it in the class body

DAY_PATTERN: dict[Lang, str] = {"nl": "d-M-yyyy", "en": "d MMM y"}
"""How a calendar day reads: 2-3-2026 (as people here write it) / 2 Mar 2026 (Babel's
medium British form; no 3/2/2026 puzzle). Without leading zeros, on purpose: the Dutch
language advice (Taaladvies) gives 2-3-2026 as the usual way to write a day in running
text, and the pages' days mostly stand in sentences ("Weggelopen sinds 2-3-2026"); a
leading zero (02-03-2026) is the form of fixed-width fields, which reads as a code here."""
MONTH_PATTERN: dict[Lang, str] = {"nl": "M-yyyy", "en": "MMM yyyy"}


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for a marker
    """Marks an English msgid for `pybabel extract` where the word is looked up later,
    by whoever shows it (a menu entry, an error page's sentence)."""
    return message


def po_path(lang: Lang) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass(frozen=True)
class Catalogue:
    """One language's words, compiled, and which (context, msgid) pairs it holds."""

    translations: Translations
    keys: frozenset[tuple[str | None, str]]


@functools.cache
def catalogue(lang: Lang) -> Catalogue:
    """The catalogue of a language, read from its .po file and compiled on first use."""
    with po_path(lang).open("rb") as f:
        messages = read_po(f, locale=LOCALES[lang], domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, messages)  # fuzzy entries are left out, as gettext does
    compiled.seek(0)
    keys = frozenset(
        (m.context, str(m.id)) for m in messages if m.id and m.string and not m.fuzzy
    )
    return Catalogue(Translations(compiled, domain=DOMAIN), keys)


MissListener = Callable[[str, str], None]
_listeners: list[MissListener] = []


@contextmanager
def listening_for_misses(listener: MissListener) -> Iterator[None]:
    """Tell `listener` (context, code) of every code a page asked a word for and the
    catalogue lacks: the page then shows the code itself. The words tests walk every page
    with a listener and fail on any miss; no code is logged (a miss may be free text that
    a page wrongly took for a code, and free text never goes to a log)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class Translator:
    """The words of one language, for the templates and the handlers.

    `t("English text", name=...)` gives the sentence in this language, filled in (python
    format, `%(name)s`); `value`, `field`, `event`, `criterion`, `element`, `protocol` and
    `rule` give the word for a code. A code without a word reads as the code itself: never
    another language's word; it is a miss (`listening_for_misses`), and the catalogue test
    names every such gap before it ships."""

    def __init__(self, lang: Lang):
        self.lang = lang
        self.locale = LOCALES[lang]
        self._catalogue = catalogue(lang)

    def gettext(self, message: str) -> str:
        if not message:
            return ""  # gettext("") is the catalogue's header
        return self._catalogue.translations.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        if not message:
            return ""
        if _listeners and (context, message) not in self._catalogue.keys:
            for listener in _listeners:
                listener(context, message)
        return str(self._catalogue.translations.pgettext(context, message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.translations.ngettext(singular, plural, n)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self._catalogue.translations.npgettext(context, singular, plural, n)

    def has(self, context: str | None, message: str) -> bool:
        return (context, message) in self._catalogue.keys

    def __call__(self, message: str, **values: Any) -> str:
        text = self.gettext(message)
        return text % values if values else text

    def value(self, code: object) -> str:
        """A vocabulary value: a level, a kind, a status."""
        text = "" if code is None else str(code)
        return self.pgettext("value", text)

    def values(self, codes: object) -> str:
        if isinstance(codes, (list, tuple)):
            return ", ".join(self.value(c) for c in codes) or self(N_("none"))
        return self.value(codes)

    def criterion(self, code: str) -> str:
        return self.pgettext("criterion", code)

    def field(self, name: str, form: str = "") -> str:
        """A field's label; a form may name a field more precisely ("permission/kind")."""
        specific = f"{form}/{name}"
        if form and self.has("field", specific):
            return self.pgettext("field", specific)
        return self.pgettext("field", name)

    def event(self, name: str) -> str:
        return self.pgettext("event", name)

    def protocol(self, name: str, version: str = "") -> str:
        """A protocol by its name in this language ("het standaardprotocol 2026.1"): its
        file names it with a code (`default`), the pages never show that."""
        word = self.pgettext("protocol", name)
        return f"{word} {version}" if version else word

    def element(self, number: int) -> str:
        return self.pgettext("element", str(number))

    def rule(self, code: str, **values: Any) -> str:
        """A protocol refusal as a sentence, filled in from the refused command."""
        text = self.pgettext("rule", code)
        return text % values if values else text

    def date(self, value: object) -> str:
        """A calendar day the way people here write it: 2-3-2026 / 2 Mar 2026. An ISO day
        as text (a manifest's) is read first: "2026-03-02" reads as a US-or-ISO puzzle."""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(text := value)
            except ValueError:
                return text
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            return "" if value is None else str(value)
        return format_date(value, DAY_PATTERN[self.lang], locale=self.locale)

    def span(self, start: object, end: object | None) -> str:
        """From one day up to and including another: "15-4-2026 t/m 25-5-2026" (a hyphen
        between two hyphenated days reads as one long number); an open end reads "…"."""
        if end is None:
            return self(N_("%(start)s to …"), start=self.date(start))
        return self(N_("%(start)s to %(end)s"), start=self.date(start), end=self.date(end))

    def month(self, value: datetime | _Day) -> str:
        """A month, as a timeline's tick reads it: 3-2026 / Mar 2026."""
        return format_date(value, MONTH_PATTERN[self.lang], locale=self.locale)

    def month_short(self, value: datetime | _Day) -> str:
        """A month as an axis reads it, in the language's own month name: "mei '26" /
        "May '26" (a number "5-2026" reads as a day; Babel's "mrt." loses its dot, as a
        tick has no room for it)."""
        name = format_date(value, "MMM", locale=self.locale).rstrip(".")
        return f"{name} '{format_date(value, 'yy', locale=self.locale)}"

    def moment(self, value: object, *, seconds: bool = True) -> str:
        """A stored moment (UTC, as RFC 3339 text or a datetime) on the clock of the care
        home: 3-3-2026 10:00:30. An administrator compares log entries with what people
        tell her, in their own time, not in UTC."""
        from trajectory.clock import AMSTERDAM

        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(text := value)
            except ValueError:
                return text
        if not isinstance(value, datetime):
            return "" if value is None else str(value)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        clock = "HH:mm:ss" if seconds else "HH:mm"
        return format_datetime(aware, f"{DAY_PATTERN[self.lang]} {clock}", tzinfo=AMSTERDAM,
                               locale=self.locale)

    def number(self, value: object) -> str:
        """A count or a figure with the language's separators (12.345 / 12,345)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_decimal(value, locale=self.locale)
        return "" if value is None else str(value)

    def yes_no(self, value: bool) -> str:
        return self(N_("yes")) if value else self(N_("no"))


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> Lang:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGS:
            return tag
    return DEFAULT_LANG


# -- the templates ---------------------------------------------------------------------------
# One Jinja environment serves both languages: the gettext callables read the page's own
# Translator (`t`, in every page's context), so `{{ _("Back") }}` and `{% trans %}` speak
# the language of the request. Jinja's newstyle gettext escapes the values filled in.


def _translator(context: Context) -> Translator:
    t = context.get("t")
    return t if isinstance(t, Translator) else Translator(DEFAULT_LANG)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translator(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translator(context).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, message: str) -> str:
    return _translator(context).pgettext(message_context, message)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str,
               n: int) -> str:
    return _translator(context).npgettext(message_context, singular, plural, n)


def install(environment: Environment) -> None:
    """Give the templates `_`, `gettext`, `pgettext` and `{% trans %}` in the page's
    language (the environment needs the `jinja2.ext.i18n` extension)."""
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )

