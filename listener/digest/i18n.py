"""German and English words of the digest, numbers and dates formatted by Babel, and the one-line verdict."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal, format_percent

LOCALES = {"de": "de_DE", "en": "en_GB"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly digest", "week": "Week {week}, {year}", "period": "{first} – {last}",
        "compared": "compared with {first} – {last}", "mentions": "Mentions", "net_sentiment": "Net sentiment",
        "negative_share": "Negative share", "negative_service": "Negative service experiences",
        "reach": "Estimated reach", "previous": "previous", "change": "change",
        "volume_chart": "Mentions per day by sentiment", "sov_chart": "Share of voice",
        "trend_chart": "Sentiment over the last 8 weeks", "negative": "negative", "neutral": "neutral",
        "positive": "positive", "unscored": "not scored", "sources": "By source", "source": "Source",
        "languages": "By language", "language": "Language", "categories": "Negative service experiences by area",
        "category": "Area", "themes": "Rising themes", "themes_none": "No theme rose noticeably.",
        "examples": "e.g.", "notable": "Notable posts", "most_reached_negative": "Most-reached negative",
        "most_reached_positive": "Most-reached positive", "none": "none", "reviews": "Review sites",
        "stars": "Average stars", "reviews_count": "Reviews", "care": "Care team",
        "tasks_created": "Follow-up tasks created", "first_response_median": "First response (median)",
        "first_response_p90": "First response (90th percentile)", "within_deadline": "Answered within the deadline",
        "open_backlog": "Waiting for an answer at the end of the period", "dismissed": "Dismissed as false alarms",
        "open_post": "Open the post", "reach_short": "reach", "share": "share", "brand": "Brand",
        "sample_note": "Themes from a sample of {n} mentions (every {k}th).",
        "sample_all": "Themes from all {n} mentions.", "quote": "“{text}”",
        "no_mentions": "No mentions this period.",
        "week_short": "W{week}", "footer": "Sent by listener. The figures: {command}", "now": "this period",
        "lang_de": "German", "lang_en": "English", "lang_unknown": "unknown",
        "support": "support", "delivery": "delivery", "billing": "billing", "digital": "digital",
        "product": "product", "staff": "staff", "competitors": "against {names}", "unchanged": "unchanged",
        "points": "{value} pts",
        # satisfaction (listener/digest/satisfaction.py)
        "survey_answers": "Survey answers", "response_rate": "Survey response rate", "csat": "CSAT (satisfied)",
        "ces": "CES (1 very difficult … 7 very easy)", "nps": "NPS", "recovered_share": "Posted again, not negative",
        "negative_again_share": "Posted negative again",
    },
    "de": {
        "title": "Wochenbericht", "week": "KW {week}/{year}", "period": "{first} – {last}",
        "compared": "verglichen mit {first} – {last}", "mentions": "Erwähnungen", "net_sentiment": "Netto-Stimmung",
        "negative_share": "Anteil negativ", "negative_service": "Negative Serviceerlebnisse",
        "reach": "Geschätzte Reichweite", "previous": "Vorperiode", "change": "Veränderung",
        "volume_chart": "Erwähnungen pro Tag nach Stimmung", "sov_chart": "Share of Voice",
        "trend_chart": "Stimmung der letzten 8 Wochen", "negative": "negativ", "neutral": "neutral",
        "positive": "positiv", "unscored": "nicht bewertet", "sources": "Nach Quelle", "source": "Quelle",
        "languages": "Nach Sprache", "language": "Sprache", "categories": "Negative Serviceerlebnisse nach Bereich",
        "category": "Bereich", "themes": "Aufkommende Themen", "themes_none": "Kein Thema ist merklich gestiegen.",
        "examples": "z. B.", "notable": "Auffällige Beiträge", "most_reached_negative": "Reichweitenstärkste negative",
        "most_reached_positive": "Reichweitenstärkste positive", "none": "keine", "reviews": "Bewertungsportale",
        "stars": "Sterne (Ø)", "reviews_count": "Bewertungen", "care": "Kundenservice",
        "tasks_created": "Angelegte Folgeaufgaben", "first_response_median": "Erste Antwort (Median)",
        "first_response_p90": "Erste Antwort (90. Perzentil)", "within_deadline": "Innerhalb der Frist beantwortet",
        "open_backlog": "Am Ende des Zeitraums unbeantwortet", "dismissed": "Als Fehlalarm verworfen",
        "open_post": "Beitrag öffnen", "reach_short": "Reichweite", "share": "Anteil", "brand": "Marke",
        "sample_note": "Themen aus einer Stichprobe von {n} Erwähnungen (jede {k}.).",
        "sample_all": "Themen aus allen {n} Erwähnungen.", "quote": "„{text}“",
        "no_mentions": "Keine Erwähnungen in diesem Zeitraum.",
        "week_short": "KW {week}", "footer": "Gesendet von listener. Die Zahlen: {command}", "now": "Zeitraum",
        "lang_de": "Deutsch", "lang_en": "Englisch", "lang_unknown": "unbekannt",
        "support": "Kundendienst", "delivery": "Lieferung", "billing": "Abrechnung", "digital": "Digital",
        "product": "Produkt", "staff": "Personal", "competitors": "gegenüber {names}", "unchanged": "unverändert",
        "points": "{value} Pkt.",
        # Zufriedenheit (listener/digest/satisfaction.py)
        "survey_answers": "Antworten auf Umfragen", "response_rate": "Antwortquote der Umfragen",
        "csat": "CSAT (zufrieden)", "ces": "CES (1 sehr schwierig … 7 sehr einfach)", "nps": "NPS",
        "recovered_share": "Wieder gepostet, nicht negativ", "negative_again_share": "Wieder negativ gepostet",
    },
}

_VERDICT = {
    "en": {"empty": "{brand} was not mentioned this period.",
           "up": "Mentions of {brand} up {pct} to {n}", "down": "Mentions of {brand} down {pct} to {n}",
           "flat": "Mentions of {brand} steady at {n}", "new": "{n} mentions of {brand}",
           "better": "sentiment better ({pts})", "worse": "sentiment worse ({pts})", "same": "sentiment steady",
           "driver": "; more complaints about {category} ({n:+d})", "end": "."},
    "de": {"empty": "{brand} wurde in diesem Zeitraum nicht erwähnt.",
           "up": "{n} Erwähnungen von {brand}, {pct} mehr", "down": "{n} Erwähnungen von {brand}, {pct} weniger",
           "flat": "{n} Erwähnungen von {brand}, etwa gleich viele", "new": "{n} Erwähnungen von {brand}",
           "better": "Stimmung besser ({pts})", "worse": "Stimmung schlechter ({pts})", "same": "Stimmung stabil",
           "driver": "; mehr Beschwerden über {category} ({n:+d})", "end": "."},
}
STEADY_PCT = 0.05  # volume changes within ±5 % read as "steady"
STEADY_POINTS = 0.03  # net sentiment changes within ±3 points read as "steady"


def label(lang: str, name: str, **values: Any) -> str:
    text = LABELS[lang][name]
    return text.format(**values) if values else text


def number(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0" + ("." + "0" * digits if digits else ""),
                          locale=LOCALES[lang])


def percent(value: float | None, lang: str, signed: bool = False) -> str:
    if value is None:
        return "–"
    text = format_percent(value, format="#,##0 %" if lang == "de" else "#,##0%", locale=LOCALES[lang])
    return ("+" + text) if signed and value > 0 else text.replace("-", "−")


def points(value: float | None, lang: str) -> str:
    """A change of a share in percentage points, signed: +4 pts / −2 Pkt."""
    if value is None:
        return "–"
    shown = number(abs(value) * 100, lang)
    sign = "+" if value > 0 else ("−" if value < 0 and shown != "0" else "±")
    return label(lang, "points", value=sign + shown)


def signed(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    text = number(abs(value), lang, digits)
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def net(value: float | None, lang: str) -> str:
    """Net sentiment (positive share − negative share) on the usual −100…+100 scale."""
    return "–" if value is None else signed(value * 100, lang)


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    return str(format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=LOCALES[lang]))


def day(value: str | date, lang: str, fmt: str = "EEE d.M." ) -> str:
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(value, format=fmt if lang == "de" else fmt.replace("d.M.", "d MMM"), locale=LOCALES[lang]))


def long_date(value: str | date, lang: str) -> str:
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(value, format="long", locale=LOCALES[lang]))


def verdict(section: dict[str, Any], lang: str) -> str:
    """One line on top of a brand's section: volume, sentiment, and the service area that grew most."""
    words = _VERDICT[lang]
    headline = section["headline"]
    brand, n = section["brand"], headline["mentions"]["value"]
    if n == 0:
        return words["empty"].format(brand=brand)
    pct = headline["mentions"]["change_pct"]
    count = number(n, lang)
    if pct is None:
        text = words["new"].format(brand=brand, n=count)
    elif abs(pct) < STEADY_PCT:
        text = words["flat"].format(brand=brand, n=count)
    else:
        text = words["up" if pct > 0 else "down"].format(brand=brand, n=count, pct=percent(abs(pct), lang))
    net = headline["net_sentiment"]["change"]
    if net is not None:
        mood = "same" if abs(net) < STEADY_POINTS else ("better" if net > 0 else "worse")
        text += ", " + words[mood].format(pts=points(net, lang))
    rising = [c for c in section["categories"] if c["change"] > 0]
    if rising:
        top = max(rising, key=lambda c: (c["change"], c["mentions"]))
        text += words["driver"].format(category=label(lang, top["category"]), n=top["change"])
    return text + words["end"]
