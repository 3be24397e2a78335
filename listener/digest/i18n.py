"""German and English words of the digest, numbers and dates formatted by Babel, and the one-line verdict.

Rounding adds up: a share is shown as a whole percentage (`shown_percent`), and the change of a share or of the
net sentiment is the difference of the two *shown* whole numbers, so "50 %" and "17 %" read as "−33 Pkt.",
never "−32 Pkt."; star averages likewise to two decimals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

LOCALES = {"de": "de_DE", "en": "en_GB"}
COMPACT_FROM = 1_000_000  # larger figures as "1,2 Mio." / "1.2m", so they fit a phone's column

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly digest", "week": "Week {week}, {year}", "period": "{first} – {last}",
        "compared": "compared with {first} – {last}", "mentions": "Mentions", "net_sentiment": "Net sentiment",
        "negative_share": "Negative share", "negative_service": "Negative service experiences",
        "potential_reach": "Potential reach", "engagement": "Interactions",
        "previous_week": "Previous week", "previous_period": "Previous period", "change": "Change",
        "previous_week_inline": "previous week", "previous_period_inline": "previous period", "before": "before",
        "volume_chart": "Mentions per day by sentiment", "sov_chart": "Share of voice",
        "trend_chart": "Sentiment over the last 8 weeks", "negative": "negative", "neutral": "neutral",
        "positive": "positive", "unscored": "not scored", "Negative": "Negative", "Neutral": "Neutral",
        "Positive": "Positive", "Unscored": "Not scored", "day": "Day", "week_column": "Week",
        "sources": "By source", "source": "Source", "languages": "By language", "language": "Language",
        "categories": "Negative service experiences by area", "category": "Area",
        "themes": "Themes of the week", "themes_none": "No theme stood out against the weeks before.",
        "theme_line": "{n} mentions, {neg} negative; {share} of mentions (before {before})",
        "examples": "e.g.", "notable": "Notable posts", "most_reached_negative": "Most-reached negative posts",
        "most_reached_positive": "Most-reached positive posts", "none": "none", "reviews": "Review sites",
        "stars": "Average stars", "reviews_count": "Reviews", "stars_trend": "Stars per week",
        "care": "Care team",
        "tasks_created": "Follow-up tasks created", "first_response_median": "First response (median)",
        "first_response_p90": "First response (90th percentile)", "within_deadline": "Answered within the deadline",
        "open_backlog": "Waiting for an answer at the end of the period", "dismissed": "Dismissed as false alarms",
        "open_post": "Open the post", "reach_short": "reach", "share": "Share", "brand": "Brand",
        "sample_note": "Themes from a sample of {n} mentions (every {k}th).",
        "sample_all": "Themes from all {n} mentions.", "quote": "“{text}”",
        "no_mentions": "No mentions this period.",
        "week_short": "W{week}", "footer": "Sent by listener. The figures: {command}", "now": "This period",
        "lang_unknown": "unknown",
        "support": "support", "delivery": "delivery", "billing": "billing", "digital": "digital",
        "product": "product", "staff": "staff", "competitors": "against {names}",
        "points": "{value} pts",
        # satisfaction (listener/digest/satisfaction.py)
        "survey_answers": "Survey answers", "response_rate": "Survey response rate", "csat": "CSAT (satisfied)",
        "ces": "CES (1 very difficult … 7 very easy)", "nps": "NPS", "recovered_share": "Posted again, not negative",
        "negative_again_share": "Posted negative again",
        "moved": "What moved", "moved_none": "No day stood out against the usual day, and no spike alert fired.",
        "day_line": "{day}: {n} mentions ({neg} negative)",
        "usual_line": "usually {usual} a day ({ratio} the usual)",
        "reason_volume": "far more mentions than usual", "reason_negative": "far more negative mentions than usual",
        "spike_volume": "Spike alert {start}–{end}: {observed} mentions, {expected} expected ({ratio})",
        "spike_negative": "Spike alert {start}–{end}: {observed} of {mentions} mentions negative ({share}, "
                          "usually {baseline})",
        "spike_themes": "alert themes: {themes}", "day_themes": "Themes of the day",
        "movers": "Biggest changes against the {previous}",
        "mover_source": "Source {source}: {value} mentions ({before} {previous}, {change})",
        "mover_category": "Complaints about {area}: {value} ({before} {previous}, {change})",
        "mover_theme": "Theme “{term}”: {share} of mentions (before {before})",
        "reach_title": "Reach and interactions",
        "reach_note": "Potential reach adds up the followers, views and reads the platforms gave for each post: "
                      "people who could have seen it, not people who did.",
        "top_share": "The largest single post is {share} of it.", "top_contributors": "Largest contributors",
        "likes": "Likes", "reposts": "Reposts", "replies": "Replies", "votes": "Votes and points",
        "total": "All interactions", "interactions": "Interactions",
        "likes_n": "{n} likes", "reposts_n": "{n} reposts", "replies_n": "{n} replies", "votes_n": "{n} votes",
        "likes_1": "1 like", "reposts_1": "1 repost", "replies_1": "1 reply", "votes_1": "1 vote",
        "competition": "Competitors", "competitor_themes": "Themes", "top_post": "Most-reached post",
        "competitor_days": "Days that stood out",
    },
    "de": {
        "title": "Wochenbericht", "week": "KW {week}/{year}", "period": "{first} – {last}",
        "compared": "verglichen mit {first} – {last}", "mentions": "Erwähnungen", "net_sentiment": "Netto-Stimmung",
        "negative_share": "Anteil negativ", "negative_service": "Negative Serviceerlebnisse",
        "potential_reach": "Potenzielle Reichweite", "engagement": "Interaktionen",
        "previous_week": "Vorwoche", "previous_period": "Vorperiode", "change": "Veränderung",
        "previous_week_inline": "Vorwoche", "previous_period_inline": "Vorperiode", "before": "vorher",
        "volume_chart": "Erwähnungen pro Tag nach Stimmung", "sov_chart": "Share of Voice",
        "trend_chart": "Stimmung der letzten 8 Wochen", "negative": "negativ", "neutral": "neutral",
        "positive": "positiv", "unscored": "nicht bewertet", "Negative": "Negativ", "Neutral": "Neutral",
        "Positive": "Positiv", "Unscored": "Nicht bewertet", "day": "Tag", "week_column": "Woche",
        "sources": "Nach Quelle", "source": "Quelle", "languages": "Nach Sprache", "language": "Sprache",
        "categories": "Negative Serviceerlebnisse nach Bereich", "category": "Bereich",
        "themes": "Themen der Woche", "themes_none": "Kein Thema stach gegenüber den Wochen davor heraus.",
        "theme_line": "{n} Erwähnungen, {neg} negativ; {share} der Erwähnungen (vorher {before})",
        "examples": "z. B.", "notable": "Auffällige Beiträge",
        "most_reached_negative": "Reichweitenstärkste negative Beiträge",
        "most_reached_positive": "Reichweitenstärkste positive Beiträge", "none": "keine",
        "reviews": "Bewertungsportale", "stars": "Sterne (Ø)", "reviews_count": "Bewertungen",
        "stars_trend": "Sterne je Woche", "care": "Kundenservice",
        "tasks_created": "Angelegte Folgeaufgaben", "first_response_median": "Erste Antwort (Median)",
        "first_response_p90": "Erste Antwort (90. Perzentil)", "within_deadline": "Innerhalb der Frist beantwortet",
        "open_backlog": "Am Ende des Zeitraums unbeantwortet", "dismissed": "Als Fehlalarm verworfen",
        "open_post": "Beitrag öffnen", "reach_short": "Reichweite", "share": "Anteil", "brand": "Marke",
        "sample_note": "Themen aus einer Stichprobe von {n} Erwähnungen (jede {k}.).",
        "sample_all": "Themen aus allen {n} Erwähnungen.", "quote": "„{text}“",
        "no_mentions": "Keine Erwähnungen in diesem Zeitraum.",
        "week_short": "KW {week}", "footer": "Gesendet von listener. Die Zahlen: {command}", "now": "Zeitraum",
        "lang_unknown": "unbekannt",
        "support": "Kundendienst", "delivery": "Lieferung", "billing": "Abrechnung", "digital": "Digitales",
        "product": "Produkt", "staff": "Personal", "competitors": "gegenüber {names}",
        "points": "{value} Pkt.",
        # Zufriedenheit (listener/digest/satisfaction.py)
        "survey_answers": "Antworten auf Umfragen", "response_rate": "Antwortquote der Umfragen",
        "csat": "CSAT (zufrieden)", "ces": "CES (1 sehr schwierig … 7 sehr einfach)", "nps": "NPS",
        "recovered_share": "Wieder gepostet, nicht negativ", "negative_again_share": "Wieder negativ gepostet",
        "moved": "Was sich bewegt hat",
        "moved_none": "Kein Tag stach gegenüber einem üblichen Tag heraus, und kein Spike-Alarm wurde ausgelöst.",
        "day_line": "{day}: {n} Erwähnungen ({neg} negativ)",
        "usual_line": "sonst {usual} am Tag ({ratio} so viele)",
        "reason_volume": "weit mehr Erwähnungen als üblich",
        "reason_negative": "weit mehr negative Erwähnungen als üblich",
        "spike_volume": "Spike-Alarm {start}–{end} Uhr: {observed} Erwähnungen, {expected} erwartet ({ratio})",
        "spike_negative": "Spike-Alarm {start}–{end} Uhr: {observed} von {mentions} Erwähnungen negativ "
                          "({share}, sonst {baseline})",
        "spike_themes": "Themen des Alarms: {themes}", "day_themes": "Themen des Tages",
        "movers": "Größte Veränderungen zur {previous}",
        "mover_source": "Quelle {source}: {value} Erwähnungen ({before} {previous}, {change})",
        "mover_category": "Beschwerden über {area}: {value} ({before} {previous}, {change})",
        "mover_theme": "Thema „{term}“: {share} der Erwähnungen (vorher {before})",
        "reach_title": "Reichweite und Interaktionen",
        "reach_note": "Die potenzielle Reichweite summiert Follower, Aufrufe und Leser, die die Plattformen je "
                      "Beitrag angeben: Menschen, die ihn hätten sehen können, nicht die ihn gesehen haben.",
        "top_share": "Der größte Einzelbeitrag macht {share} davon aus.", "top_contributors": "Größte Beiträge",
        "likes": "Likes", "reposts": "Reposts", "replies": "Antworten", "votes": "Stimmen und Punkte",
        "total": "Alle Interaktionen", "interactions": "Interaktionen",
        "likes_n": "{n} Likes", "reposts_n": "{n} Reposts", "replies_n": "{n} Antworten", "votes_n": "{n} Stimmen",
        "likes_1": "1 Like", "reposts_1": "1 Repost", "replies_1": "1 Antwort", "votes_1": "1 Stimme",
        "competition": "Wettbewerber", "competitor_themes": "Themen", "top_post": "Reichweitenstärkster Beitrag",
        "competitor_days": "Auffällige Tage",
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
# Where long words of column headers may break on a narrow screen (soft hyphens, HTML only): a phone's column
# of figures is 60 pixels wide, narrower than "Erwähnungen" in bold.
_SOFT_HYPHENS = {w.replace("|", ""): w.replace("|", "\u00ad") for w in (
    "Erwäh|nungen", "Verän|derung", "Vor|woche", "Vor|periode", "Bewer|tungen", "Inter|aktionen", "Poten|zielle",
    "Reich|weite", "Service|erlebnisse", "Stim|mung", "Pre|vious", "Inter|actions", "Senti|ment", "senti|ment",
    "Zeit|raum", "bewer|tet")}


def soft_hyphens(text: str) -> str:
    return " ".join(_SOFT_HYPHENS.get(w, w) for w in text.split(" "))


STEADY_PCT = 0.05  # volume changes within ±5 % read as "steady"
STEADY_POINTS = 3  # net sentiment changes within ±3 (shown) points read as "steady"


def label(lang: str, name: str, **values: Any) -> str:
    text = LABELS[lang][name]
    return text.format(**values) if values else text


def language_name(code: str, lang: str) -> str:
    """"ro" → "Rumänisch" / "Romanian" (Babel's names of languages), "unknown" → "unbekannt"."""
    found = Locale.parse(LOCALES[lang]).languages.get(code)
    return str(found) if found else (label(lang, "lang_unknown") if code == "unknown" else code)


def number(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0" + ("." + "0" * digits if digits else ""),
                          locale=LOCALES[lang])


def big(value: float | None, lang: str) -> str:
    """A count that may be huge (reach): in full below COMPACT_FROM, else in millions with one decimal,
    "5,0 Mio." / "5.0m", so a column of them reads at one precision."""
    if value is None or abs(value) < COMPACT_FROM:
        return number(value, lang)
    return number(value / 1_000_000, lang, 1) + (" Mio." if lang == "de" else "m")


def _millions(value: float) -> float:
    return round(value / 1_000_000, 1)


def shown_percent(value: float) -> int:
    """A share as the whole percentage the digest shows: the one rounding every shown difference starts from."""
    return round(value * 100)


def percent(value: float | None, lang: str, signed: bool = False) -> str:
    if value is None:
        return "–"
    whole = shown_percent(value)
    text = number(abs(whole), lang) + (" %" if lang == "de" else "%")
    return ("+" if signed and whole > 0 else "−" if whole < 0 else "") + text


def points(value: float | None, lang: str) -> str:
    """A change of a share in percentage points (a fraction: 0.05 = 5 points), signed: +4 pts / −2 Pkt."""
    if value is None:
        return "–"
    return points_shown(shown_percent(value), lang)


def points_shown(whole: int, lang: str) -> str:
    return label(lang, "points", value=("+" if whole > 0 else "−" if whole < 0 else "±") + number(abs(whole), lang))


def points_between(figure: dict[str, Any], lang: str) -> str:
    """The change of a share or net sentiment as the difference of the two shown whole numbers."""
    if figure["value"] is None or figure["previous"] is None:
        return "–"
    return points_shown(shown_percent(figure["value"]) - shown_percent(figure["previous"]), lang)


def shown_points_change(figure: dict[str, Any]) -> int | None:
    if figure["value"] is None or figure["previous"] is None:
        return None
    return shown_percent(figure["value"]) - shown_percent(figure["previous"])


def signed(value: float | None, lang: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    text = number(abs(value), lang, digits)
    return ("+" if value > 0 and text.strip("0,.") else "−" if value < 0 and text.strip("0,.") else "±") + text


def count_change(figure: dict[str, Any], lang: str, huge: bool = False) -> str:
    """+6 (+150 %) — the change of a count, with its relative change when there was something before. A huge
    count shown in millions changes by the difference of the two shown figures (5,0 − 2,1 = +2,9 Mio.)."""
    if figure["change"] is None:
        return "–"
    value, previous = figure.get("value") or 0, figure.get("previous") or 0
    if huge and max(abs(value), abs(previous)) >= COMPACT_FROM:
        difference = round(_millions(value) - _millions(previous), 1)
        sign = "+" if difference > 0 else "−" if difference < 0 else "±"
        shown = sign + number(abs(difference), lang, 1) + (" Mio." if lang == "de" else "m")
    else:
        shown = signed(figure["change"], lang)
    if figure.get("change_pct") is not None:
        shown += f" ({percent(figure['change_pct'], lang, True)})"
    return shown


def stars_change(figure: dict[str, Any], lang: str) -> str:
    if figure["value"] is None or figure["previous"] is None:
        return "–"
    return signed(round(figure["value"], 2) - round(figure["previous"], 2), lang, 2)


def net(value: float | None, lang: str) -> str:
    """Net sentiment (positive share − negative share) on the usual −100…+100 scale."""
    return "–" if value is None else signed(shown_percent(value), lang)


def times(value: float | None, lang: str) -> str:
    return "–" if value is None else number(value, lang, 1) + "×"


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    return str(format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=LOCALES[lang]))


def day(value: str | date, lang: str, fmt: str = "EEE d.M.") -> str:
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(value, format=fmt if lang == "de" else fmt.replace("d.M.", "d MMM"), locale=LOCALES[lang]))


def long_date(value: str | date, lang: str) -> str:
    value = date.fromisoformat(value) if isinstance(value, str) else value
    return str(format_date(value, format="long", locale=LOCALES[lang]))


def when(value: str | None, lang: str, zone: str) -> str:
    """A post's local publication time: "Do. 26.11., 10:14" / "Thu 26 Nov, 10:14"."""
    if not value:
        return "–"
    fmt = "EEE d.M., HH:mm" if lang == "de" else "EEE d MMM, HH:mm"
    return str(format_datetime(datetime.fromisoformat(value), fmt, tzinfo=ZoneInfo(zone), locale=LOCALES[lang]))


def clock(value: str, lang: str, zone: str) -> str:
    return str(format_datetime(datetime.fromisoformat(value), "HH:mm", tzinfo=ZoneInfo(zone), locale=LOCALES[lang]))


def week_label(key: str, first_day: str, lang: str) -> str:
    """A week of the trend: "KW 42" / "W42" for an ISO week, else its first day."""
    if "-W" in key:
        return label(lang, "week_short", week=int(key.split("-W")[1]))
    return day(first_day, lang, "d.M.")


def tone(figure: dict[str, Any], meaning: str, shown: int | float | None = None) -> str:
    """What a change means for the brand: "good", "bad" or "flat" (no judgement, or no change). `meaning` is
    "up_good" (net sentiment, stars, answered in time), "up_bad" (negative share, complaints, backlog) or
    "neutral" (volume, reach: more is not better in a crisis). `shown` is the change as shown, when rounded."""
    change = figure.get("change") if shown is None else shown
    if not change or meaning == "neutral":
        return "flat"
    return "good" if (change > 0) == (meaning == "up_good") else "bad"


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
    net_change = shown_points_change(headline["net_sentiment"])
    if net_change is not None:
        mood = "same" if abs(net_change) < STEADY_POINTS else ("better" if net_change > 0 else "worse")
        text += ", " + words[mood].format(pts=points_shown(net_change, lang))
    rising = [c for c in section["categories"] if c["change"] > 0]
    if rising:
        top = max(rising, key=lambda c: (c["change"], c["mentions"]))
        text += words["driver"].format(category=top.get("name") or label(lang, top["category"]), n=top["change"])
    return text + words["end"]
