"""Why a task was flagged, in German: the reasons triage and the rules write in English (listener/nlp/triage.py,
listener/acting/tasks.py) are stored with the task as text, so they are translated where they are shown — on
the task page and in alerts — by their shape. A reason of an unknown shape stays as it is."""

from __future__ import annotations

import re
from collections.abc import Callable

CATEGORIES_DE = {"support": "Kundenservice", "delivery": "Lieferung", "billing": "Abrechnung", "digital": "Digitales",
                 "product": "Produkt", "staff": "Personal", "unspecified": "nicht näher bestimmt"}
SENTIMENTS_DE = {"negative": "negativ", "neutral": "neutral", "positive": "positiv", "unknown": "unbekannt"}
REACH_DE = {"likes": "Likes", "replies": "Antworten", "comments": "Kommentare", "followers": "Follower",
            "subscribers": "Abonnenten", "score": "Punkte", "upvotes": "Upvotes", "favourites": "Favoriten",
            "reblogs": "Reblogs", "shares": "Geteilt", "reposts": "Reposts", "votes": "Stimmen", "reads": "Aufrufe",
            "quotes": "Zitate", "audience": "Publikum"}
CUES_DE = {"threatens legal action": "droht mit rechtlichen Schritten",
           "reports a safety problem": "meldet ein Sicherheitsproblem", "wants to cancel": "will kündigen",
           "disputes a payment": "widerspricht einer Zahlung", "says never again": "sagt „nie wieder“"}


def _number(text: str) -> str:
    return text.replace(",", ".")  # 1,234 → 1.234


def _age(text: str) -> str:
    match = re.fullmatch(r"(\d+) (min|h|days) ago", text)
    if not match:
        return text
    n, unit = match.groups()
    return {"min": f"vor {n} Min.", "h": f"vor {n} Std.", "days": f"vor {n} Tagen"}[unit]


def _reach(text: str) -> str:
    return re.sub(r"(\d[\d,]*) (\w+)", lambda m: f"{_number(m.group(1))} {REACH_DE.get(m.group(2), m.group(2))}", text)


def _categories(text: str) -> str:
    return ", ".join(CATEGORIES_DE.get(c.strip(), c.strip()) for c in text.split(","))


GERMAN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"negative sentiment \((\d+)% confident\)"), lambda m: f"negative Stimmung ({m[1]} % sicher)"),
    (re.compile(r"negative service experience: (.+)"), lambda m: f"negatives Serviceerlebnis: {_categories(m[1])}"),
    (re.compile(r"([\d.]+)-star review"), lambda m: f"{m[1].replace('.', ',')}-Sterne-Bewertung"),
    (re.compile(r"escalation: (.+?) \((.*)\)"), lambda m: f"Eskalation: {CUES_DE.get(m[1], m[1])} ({m[2]})"),
    (re.compile(r"wide reach: (.*)"), lambda m: f"große Reichweite: {_reach(m[1])}"),
    (re.compile(r"reach: (.*)"), lambda m: f"Reichweite: {_reach(m[1])}"),
    (re.compile(r"recent: posted (.*)"), lambda m: f"neu: {_age(m[1])} veröffentlicht"),
    (re.compile(r"old: posted (.*)"), lambda m: f"alt: {_age(m[1])} veröffentlicht"),
    (re.compile(r"language (\S+): the model was not evaluated on it, check the text yourself"),
     lambda m: f"Sprache {m[1]}: Das Modell wurde dafür nicht geprüft, bitte den Text selbst lesen"),
    (re.compile(r"rule (.+)"), lambda m: f"Regel {m[1]}"),
    (re.compile(r"created by (.+) from the Mentions page"), lambda m: f"von {m[1]} auf der Seite Erwähnungen angelegt"),
    (re.compile(r"deadline from rule (.+)"), lambda m: f"Frist nach Regel {m[1]}"),
]


def translate_reason(reason: str, lang: str) -> str:
    if not lang.startswith("de"):
        return reason
    for pattern, german in GERMAN:
        match = pattern.fullmatch(reason)
        if match:
            return german(match)
    return reason
