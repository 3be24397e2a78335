"""`[alerts]`: the language and time zone of e-mail and chat alerts, for the team that reads them.

`lang` is "de" or "en", or a full locale such as "en-GB" or "de-AT" (how dates look); `timezone` an IANA name
(`AlertsSettings` in listener/delivery/settings.py).
Left out, `lang` is `[digest] lang` and `timezone` the first `[[hours]]` calendar's time zone (the care team's
working hours), else `[digest] timezone`. Texts of the templates (listener/delivery/channels/templates) and of
chat messages go through `AlertLocale.t`; the reasons a task was flagged through `reasons.translate_reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

from listener.delivery.reasons import CATEGORIES_DE, SENTIMENTS_DE, translate_reason

if TYPE_CHECKING:
    from listener.config import Settings

GERMAN = {
    "follow-up task": "Folgeaufgabe", "for": "für", "your brand": "Ihre Marke",
    "First response due": "Erste Antwort fällig",
    "Why it was flagged": "Warum markiert", "Source": "Quelle", "Author": "Autor", "unknown": "unbekannt",
    "Posted": "Veröffentlicht", "Sentiment": "Stimmung", "Service": "Service", "language": "Sprache",
    "Open the post": "Beitrag öffnen", "open the post": "Beitrag öffnen", "Open the task": "Aufgabe öffnen",
    "open the task": "Aufgabe öffnen", "assigned to": "zugewiesen an", "Assigned to": "Zugewiesen an",
    "Acknowledge task": "Aufgabe annehmen", "(you confirm on the page)": "(Sie bestätigen auf der Seite)",
    "Acknowledge with": "Annehmen mit", "acknowledge": "annehmen", "Acknowledge": "Annehmen",
    "Escalation": "Eskalation", "ESCALATION": "ESKALATION", "Link": "Link", "none": "keiner", "Task": "Aufgabe",
    "task": "Aufgabe", "Assigned": "Zugewiesen", "on": "auf", "respond by": "antworten bis", "mention": "Erwähnung",
    "Most urgent first; each is a follow-up task of its own.":
        "Die dringendsten zuerst; jede ist eine eigene Folgeaufgabe.",
    "Priority": "Priorität", "Due": "Fällig", "Post": "Beitrag", "post": "Beitrag",
    "{n} new complaint about {labels}": "{n} neue Beschwerde zu {labels}",
    "{n} new complaints about {labels}": "{n} neue Beschwerden zu {labels}",
    "not acknowledged outside business hours ({due})": "außerhalb der Geschäftszeiten nicht angenommen ({due})",
    "escalation step {step}: not acknowledged ({due})": "Eskalationsstufe {step}: nicht angenommen ({due})",
    "due {when}": "fällig {when}", "no deadline": "keine Frist",
}


@dataclass(frozen=True)
class AlertLocale:
    lang: str = "en"  # "de", "en", or a locale such as "en-GB"
    timezone: str = "UTC"

    @property
    def language(self) -> str:
        return self.lang.replace("-", "_").split("_")[0]

    @property
    def babel(self) -> str:
        return self.lang.replace("-", "_")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def t(self, text: str, **params: Any) -> str:
        translated = GERMAN.get(text, text) if self.language == "de" else text
        return translated.format(**params) if params else translated

    def when(self, value: datetime | None) -> str:
        """A date and time in the team's zone, with the zone: "2026-12-07 08:30 CET" (plain "en", unambiguous
        for an international team), "07.12.2026, 08:30 MEZ" (de), "7 Dec 2026, 08:30 CET" (en-GB)."""
        if value is None:
            return self.t("unknown")
        local = value.astimezone(self.zone)
        if self.lang == "en":
            return f"{local:%Y-%m-%d} {self.time(value)}"
        return f"{format_date(local, 'medium', locale=self.babel)}, {self.time(value)}"

    def time(self, value: datetime) -> str:
        """The time of day with the zone: "08:30 CET", "08:30 MEZ", "8:30 AM EST"."""
        local = value.astimezone(self.zone)
        if self.lang == "en":
            return f"{local:%H:%M} {self.zone_name(value)}"
        return f"{format_time(local, 'short', locale=self.babel)} {self.zone_name(value)}"

    def zone_name(self, value: datetime) -> str:
        name = "" if self.lang == "en" else format_datetime(value, "z", tzinfo=self.zone, locale=self.babel)
        if not name or name[0] in "+-" or name.startswith("GMT"):  # Babel knows no short name here
            name = value.astimezone(self.zone).tzname() or self.timezone
        return name

    def reason(self, text: str) -> str:
        return translate_reason(text, self.language)

    def category(self, name: str) -> str:
        return CATEGORIES_DE.get(name, name) if self.language == "de" else name

    def categories(self, names: list[str]) -> str:
        return ", ".join(self.category(name) for name in names)

    def sentiment(self, name: str) -> str:
        return SENTIMENTS_DE.get(name, name) if self.language == "de" else name

    def percent(self, share: float) -> str:
        return f"{share * 100:.0f} %" if self.language == "de" else f"{share * 100:.0f}%"


ENGLISH_UTC = AlertLocale()


def alert_locale(settings: Settings) -> AlertLocale:
    """`[alerts]`, with its defaults filled in from `[digest]` and the `[[hours]]` calendars."""
    own = settings.alerts
    lang = own.lang or settings.digest.lang
    timezone = own.timezone or (settings.hours[0].timezone if settings.hours else settings.digest.timezone)
    return AlertLocale(lang, timezone)
