"""German and English: the browser's preference (Accept-Language) unless the user chose one; Babel formats
dates, durations and numbers. Templates write English and call `_()`; GERMAN holds the translations
(test_every_template_string_has_a_german_translation, in tests/test_web_inbox.py, checks that every string
in the templates has one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal

from listener.delivery.reasons import translate_reason
from listener.web.explain import explain
from listener.web.german import GERMAN

LANGUAGES = ("en", "de")


def _ranked(accept_language: str | None) -> list[str]:
    """The tags of an Accept-Language header, best first."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip()[:35]))
    return [tag for _, _, tag in sorted(ranked) if tag]


def regional(accept_language: str | None, language: str) -> str:
    """The browser's own variant of `language` for dates and numbers ("en_GB" for en-GB: 7 Jan 2026, not Jan 7),
    or the language itself."""
    for tag in _ranked(accept_language):
        try:
            locale = Locale.parse(tag, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        if locale.language == language and locale.territory:
            return f"{locale.language}_{locale.territory}"
    return language


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header, by quality; English otherwise."""
    tags = _ranked(accept_language)
    try:
        found = Locale.negotiate(tags, list(LANGUAGES), sep="-")
    except (UnknownLocaleError, ValueError):
        found = None
    return str(found) if found else "en"


class Formatter:
    """What templates use to speak the user's language: `_`, `when`, `relative`, `number`."""

    def __init__(
        self,
        language: str,
        timezone: str,
        locale: str | None = None,
        category_names: dict[str, str] | None = None,
    ):
        self.language = language if language in LANGUAGES else "en"
        self.tz = ZoneInfo(timezone)
        self.messages = GERMAN if self.language == "de" else {}
        self.locale = locale if locale and locale.split("_")[0] == self.language else self.language  # dates, numbers
        # the deployment's names of the service categories ([digest] category_names), in every language
        self.category_names = category_names or {}

    def gettext(self, message: str) -> str:
        if message in self.category_names:
            return self.category_names[message]
        if self.language != "de":
            return message
        return self.messages.get(message) or explain(message, self.language)

    def reason(self, text: str) -> str:
        """Why a task was flagged, as triage wrote it, in the reader's language."""
        return translate_reason(text, self.language)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, "medium", tzinfo=self.tz, locale=self.locale)

    def relative(self, seconds: float) -> str:
        """'in 12 minutes' / 'vor 3 Stunden' (threshold high enough that 50 minutes stays minutes)."""
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, add_direction=True, locale=self.locale)

    def duration(self, seconds: float) -> str:
        """'12 minutes' / '3 Stunden', without a direction."""
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=self.locale)

    def number(self, value: float, digits: int = 0) -> str:
        return format_decimal(round(value, digits), locale=self.locale)

    def language_name(self, code: str | None) -> str:
        """"ro" → "Rumänisch" / "Romanian" (Babel's names, as in the digest); an unknown code as it is."""
        if not code:
            return "—"
        return str(Locale.parse(self.language).languages.get(code) or code)

    def tjoin(self, values: list[str]) -> str:
        return ", ".join(self.gettext(v) for v in values)

    def context(self) -> dict[str, Callable[..., str] | str]:
        return {"_": self.gettext, "when": self.when, "relative": self.relative, "number": self.number,
                "duration": self.duration, "tjoin": self.tjoin, "lang": self.language, "reason": self.reason,
                "language_name": self.language_name}
