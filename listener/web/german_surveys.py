"""German texts of the survey parts of the care inbox (templates/_survey_answer.html, _satisfaction.html)."""

from __future__ import annotations

SURVEY_GERMAN: dict[str, str] = {
    "The customer's answer": "Antwort der Kundin / des Kunden", "survey": "Umfrage", "Answered": "Beantwortet",
    "changed": "geändert", "last": "zuletzt",
    "No answer yet. A reply with {survey_url} carries the link to this survey:":
        "Noch keine Antwort. Eine Antwort mit {survey_url} enthält den Link zu dieser Umfrage:",
    "satisfied": "zufrieden", "dissatisfied": "unzufrieden", "easy": "einfach", "difficult": "schwierig",
    "neither easy nor difficult": "weder einfach noch schwierig", "promoter": "Promoter", "passive": "Passiv",
    "detractor": "Kritiker",
    "Did we help?": "Haben wir geholfen?",
    "CSAT: share of answers 4 or 5 of 5. CES: average of 1 (very difficult) to 7 (very easy). NPS: promoters (9–10) "
    "minus detractors (0–6), in points. Recovery: what the customer posted next after our first response, within":
        "CSAT: Anteil der Antworten 4 oder 5 von 5. CES: Durchschnitt von 1 (sehr schwierig) bis 7 (sehr einfach). "
        "NPS: Promoter (9–10) minus Kritiker (0–6), in Punkten. Erholung: was die Kundin / der Kunde nach unserer "
        "ersten Antwort als Nächstes schrieb, innerhalb von",
    "Survey sent": "Umfrage gesendet", "Answers": "Antworten", "Response rate": "Antwortquote",
    "Promoters / passives / detractors": "Promoter / Passive / Kritiker", "Posted nothing": "Nichts mehr gepostet",
    "Posted again, not negative": "Wieder gepostet, nicht negativ", "Negative again": "Wieder negativ",
    "Window still open": "Zeitfenster noch offen", "week": "Woche",
}
