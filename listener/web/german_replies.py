"""German texts of the reply composer and reply states (listener/web/templates/_reply.html, web/replies.py)."""

from __future__ import annotations

REPLY_GERMAN: dict[str, str] = {
    "Reply on the platform": "Auf der Plattform antworten", "Reply": "Antwort",
    "approved by": "freigegeben von", "returned by": "zurückgegeben von",
    "Open the reply on the platform": "Antwort auf der Plattform öffnen", "The platform said": "Die Plattform meldet",
    "Note from the lead": "Hinweis der Leitung",
    "Edit before approving (optional)": "Vor der Freigabe bearbeiten (optional)",
    "Approve and send": "Freigeben und senden", "Note for the author": "Hinweis für die Verfasserin / den Verfasser",
    "Send back": "Zurückgeben", "Waiting for a lead's approval.": "Wartet auf die Freigabe durch die Leitung.",
    "Edit and send again": "Bearbeiten und erneut senden", "Edit and send": "Bearbeiten und senden",
    "Send for approval": "Zur Freigabe senden", "Send": "Senden",
    "Look on the platform whether this reply was posted.":
        "Bitte auf der Plattform nachsehen, ob diese Antwort veröffentlicht wurde.",
    "Link to the reply (if it is there)": "Link zur Antwort (falls vorhanden)", "It is there": "Sie ist da",
    "It is not there": "Sie ist nicht da", "Your reply to": "Ihre Antwort an", "the author": "den Autor",
    "characters": "Zeichen",
    "Markdown is formatted on this platform.": "Markdown wird auf dieser Plattform formatiert.",
    "Plain text: the platform shows it as written.": "Reiner Text: die Plattform zeigt ihn wie geschrieben.",
    "Your replies wait for a lead's approval before they are posted.":
        "Ihre Antworten warten vor dem Veröffentlichen auf die Freigabe durch die Leitung.",
    "Preview": "Vorschau", "Save draft": "Entwurf speichern", "Send reply": "Antwort senden",
    "Use in the reply": "In die Antwort übernehmen", "our reply": "unsere Antwort",
    # reply states
    "draft": "Entwurf", "pending approval": "wartet auf Freigabe", "queued": "in der Warteschlange",
    "sending": "wird gesendet", "posted": "veröffentlicht", "failed": "fehlgeschlagen",
    "outcome unknown": "Ergebnis unbekannt", "returned": "zurückgegeben",
    # the activity log
    "reply queued": "Antwort eingereiht", "reply waits for approval": "Antwort wartet auf Freigabe",
    "reply draft saved": "Antwortentwurf gespeichert", "reply approved": "Antwort freigegeben",
    "reply sent back": "Antwort zurückgegeben", "replied on the platform": "auf der Plattform geantwortet",
    "reply failed": "Antwort fehlgeschlagen", "reply outcome unknown": "Ergebnis der Antwort unbekannt",
    "There is no such reply.": "Diese Antwort gibt es nicht.",
    "Replies": "Antworten", "Replies that need someone": "Antworten, die jemanden brauchen",
    "Nothing waits.": "Nichts wartet.", "Recently posted": "Zuletzt veröffentlicht",
    "Updated": "Aktualisiert", "Nothing posted yet.": "Noch nichts veröffentlicht.",
    "Copy one, answer on the platform, then mark the task responded.":
        "Vorlage kopieren, auf der Plattform antworten, dann die Aufgabe als beantwortet markieren.",
    "Placeholders: {author}, {brand}, {link}, filled in on the task page, where agents put a template into their "
    "reply (or copy it, where the platform has no write API).":
        "Platzhalter: {author}, {brand}, {link}, auf der Aufgabenseite ausgefüllt, wo das Team eine Vorlage in die "
        "Antwort übernimmt (oder kopiert, wo die Plattform keine Schreib-API hat).",
    "First response: when the platform accepted our reply, or when the task was marked responded (or resolved "
    "without a separate response). Business time counts the rule's business hours only.":
        "Erste Antwort: wenn die Plattform unsere Antwort angenommen hat, oder wenn die Aufgabe als beantwortet "
        "markiert (oder ohne eigene Antwort erledigt) wurde. Geschäftszeit zählt nur die Geschäftszeiten der Regel.",
    "This platform has no write API listener can post through (feeds, review pages, Hacker News): copy a template, "
    "answer on the platform, then mark the task responded.":
        "Diese Plattform hat keine Schreib-API, über die listener antworten kann (Feeds, Bewertungsseiten, Hacker "
        "News): Vorlage kopieren, auf der Plattform antworten, dann die Aufgabe als beantwortet markieren.",
    "Replies through this source are switched off in the configuration (reply = false): answer on the platform, "
    "then mark the task responded.":
        "Antworten über diese Quelle sind in der Konfiguration abgeschaltet (reply = false): auf der Plattform "
        "antworten, dann die Aufgabe als beantwortet markieren.",
    "The source of this mention is no longer configured: answer on the platform, then mark the task responded.":
        "Die Quelle dieser Erwähnung ist nicht mehr eingerichtet: auf der Plattform antworten, dann die Aufgabe als "
        "beantwortet markieren.",
}
