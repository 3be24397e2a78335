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

from listener.web.german import GERMAN

LANGUAGES = ("en", "de")


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header, by quality; English otherwise."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip()))
    tags = [tag for _, _, tag in sorted(ranked) if tag]
    try:
        found = Locale.negotiate(tags, list(LANGUAGES), sep="-")
    except (UnknownLocaleError, ValueError):
        found = None
    return str(found) if found else "en"


class Formatter:
    """What templates use to speak the user's language: `_`, `when`, `relative`, `number`."""

    def __init__(self, language: str, timezone: str):
        self.language = language if language in LANGUAGES else "en"
        self.tz = ZoneInfo(timezone)
        self.messages = GERMAN if self.language == "de" else {}

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, "medium", tzinfo=self.tz, locale=self.language)

    def relative(self, seconds: float) -> str:
        """'in 12 minutes' / 'vor 3 Stunden' (threshold high enough that 50 minutes stays minutes)."""
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, add_direction=True, locale=self.language)

    def duration(self, seconds: float) -> str:
        """'12 minutes' / '3 Stunden', without a direction."""
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=self.language)

    def number(self, value: float, digits: int = 0) -> str:
        return format_decimal(round(value, digits), locale=self.language)

    def tjoin(self, values: list[str]) -> str:
        return ", ".join(self.gettext(v) for v in values)

    def context(self) -> dict[str, Callable[..., str] | str]:
        return {"_": self.gettext, "when": self.when, "relative": self.relative, "number": self.number,
                "duration": self.duration, "tjoin": self.tjoin, "lang": self.language}
