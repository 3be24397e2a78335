"""German texts of the care inbox, keyed by the English text the templates and handlers write."""

from __future__ import annotations

GERMAN: dict[str, str] = {
    # navigation and frame
    "Skip to content": "Zum Inhalt springen", "Main": "Hauptmenü", "Queue": "Warteschlange",
    "Mentions": "Erwähnungen", "Sources": "Quellen", "Response times": "Antwortzeiten",
    "Reply templates": "Antwortvorlagen", "Language": "Sprache", "Browser": "Browser", "Save": "Speichern",
    "Sign out": "Abmelden", "Sign in": "Anmelden", "Sign in to the care inbox": "Anmelden im Care-Postfach",
    "Name": "Name", "Password": "Passwort", "Not possible": "Nicht möglich",
    "Back to the queue": "Zurück zur Warteschlange",
    # roles, states, sentiments, categories, facets
    "agent": "Agent", "lead": "Leitung", "viewer": "Lesend",
    "open": "offen", "acknowledged": "angenommen", "responded": "beantwortet", "resolved": "erledigt",
    "dismissed": "Fehlalarm",
    "negative": "negativ", "neutral": "neutral", "positive": "positiv",
    "support": "Kundenservice", "delivery": "Lieferung", "billing": "Abrechnung", "digital": "Digitales",
    "product": "Produkt", "staff": "Personal",
    "status": "Status", "priority": "Priorität", "brand": "Marke", "category": "Kategorie", "source": "Quelle",
    "language": "Sprache", "assignee": "Zuständig", "all": "alle",
    "score": "Punkte", "likes": "Likes", "replies": "Antworten", "reposts": "Reposts", "votes": "Stimmen",
    "reads": "Aufrufe", "quotes": "Zitate", "favourites": "Favoriten",
    # queue
    "Open tasks": "Offene Aufgaben", "Overdue": "Überfällig", "overdue": "überfällig", "Shown": "Angezeigt",
    "Filters": "Filter", "Clear filters": "Filter zurücksetzen", "Open tasks, overdue first":
        "Offene Aufgaben, überfällige zuerst", "Task": "Aufgabe", "Priority": "Priorität", "Due": "Fällig",
    "Status": "Status", "Mention": "Erwähnung", "Source": "Quelle", "Assignee": "Zuständig",
    "No open tasks match.": "Keine offenen Aufgaben passen.", "Next page": "Nächste Seite",
    # task page
    "Author": "Autor", "Platform": "Plattform", "Brands": "Marken", "Posted": "Veröffentlicht", "Rating": "Bewertung",
    "Reach": "Reichweite", "Original": "Original", "Open the post": "Beitrag öffnen", "unknown": "unbekannt",
    "Why it was flagged": "Warum markiert", "Model": "Modell", "service": "Service",
    "Care team's verdict": "Urteil des Care-Teams", "Deadline": "Frist",
    "First response due": "Erste Antwort fällig", "Near-duplicate copies": "Beinahe-Duplikate",
    "Contact history": "Kontaktverlauf", "other platform": "andere Plattform", "no task": "keine Aufgabe",
    "labelled": "bewertet", "Outcome": "Ergebnis", "No other mentions by this author.":
        "Keine weiteren Erwähnungen dieses Autors.", "Activity": "Verlauf", "created by rule": "erstellt durch Regel",
    "assigned": "zugewiesen", "note": "Notiz", "verdict corrected": "Urteil korrigiert",
    "handed to the helpdesk": "an den Helpdesk übergeben",
    "Actions": "Aktionen", "Acknowledge": "Annehmen", "Resolve": "Erledigen",
    "Dismiss as false alarm": "Als Fehlalarm verwerfen", "Reply text or link": "Antworttext oder Link",
    "Mark responded": "Als beantwortet markieren", "Assign to": "Zuweisen an", "me": "mich", "nobody": "niemanden",
    "Assign": "Zuweisen", "Note": "Notiz", "Add note": "Notiz hinzufügen", "Correct the verdict": "Urteil korrigieren",
    "Sentiment": "Stimmung", "Negative service experience about": "Negative Serviceerfahrung zu",
    "Save verdict": "Urteil speichern", "Copy": "Kopieren", "any category": "jede Kategorie",
    "listener does not post replies: copy one, answer on the platform, then mark the task responded.":
        "listener veröffentlicht keine Antworten: Vorlage kopieren, auf der Plattform antworten, dann die Aufgabe "
        "als beantwortet markieren.",
    "No template for this category and language yet.": "Noch keine Vorlage für diese Kategorie und Sprache.",
    # acknowledge link
    "Acknowledge task": "Aufgabe annehmen", "This task is no longer open.": "Diese Aufgabe ist nicht mehr offen.",
    "Open the task": "Aufgabe öffnen", "This task is closed.": "Diese Aufgabe ist abgeschlossen.",
    "unassigned": "niemandem zugewiesen",
    # mentions, sources, report, templates
    "Text": "Text", "Brand": "Marke", "From": "Von", "To": "Bis", "Search": "Suchen", "unscored": "unbewertet",
    "Nothing found.": "Nichts gefunden.", "Older": "Ältere", "Kind": "Art", "Every": "Intervall",
    "Last success": "Letzter Erfolg", "Failures in a row": "Fehler in Folge", "Next attempt": "Nächster Versuch",
    "Last error": "Letzter Fehler", "disabled": "deaktiviert", "never polled": "noch nie abgefragt",
    "Tasks created in the last days": "Aufgaben der letzten Tage", "Show": "Anzeigen", "Tasks": "Aufgaben",
    "Acknowledged": "Angenommen", "Responded": "Beantwortet", "Dismissed": "Fehlalarme", "Still open": "Noch offen",
    "Median time to acknowledge": "Median bis zur Annahme", "Median time to respond": "Median bis zur Antwort",
    "90th percentile to respond": "90. Perzentil bis zur Antwort", "Responded in time": "Rechtzeitig beantwortet",
    "Category": "Kategorie", "Changed": "Geändert", "Edit": "Bearbeiten", "Delete": "Löschen",
    "No templates yet.": "Noch keine Vorlagen.", "Edit template": "Vorlage bearbeiten", "New template": "Neue Vorlage",
    "Placeholders: {author}, {brand}, {link}. listener does not post replies; agents copy them from the task page.":
        "Platzhalter: {author}, {brand}, {link}. listener veröffentlicht keine Antworten; das Team kopiert sie von "
        "der Aufgabenseite.",
    # messages from the handlers
    "Wrong name or password.": "Name oder Passwort falsch.",
    "Too many failed sign-ins. Try again in {wait}.":
        "Zu viele fehlgeschlagene Anmeldungen. Bitte in {wait} erneut versuchen.",
    "The sign-in is busy. Try again in a moment.": "Die Anmeldung ist ausgelastet. Bitte gleich erneut versuchen.",
    "This form has expired. Reload the page and try again.":
        "Dieses Formular ist abgelaufen. Bitte die Seite neu laden und erneut versuchen.",
    "Your role may not do this.": "Ihre Rolle darf das nicht.", "Unknown action.": "Unbekannte Aktion.",
    "Sign-in happens at the proxy.": "Die Anmeldung erfolgt am Proxy.",
    "Sign-in is accepted only through the configured proxy.": "Anmeldung nur über den eingerichteten Proxy.",
    "The proxy named no known, enabled user.": "Der Proxy nannte keinen bekannten, aktiven Benutzer.",
    "This acknowledge link has expired.": "Dieser Annahme-Link ist abgelaufen.",
    "This acknowledge link is not valid.": "Dieser Annahme-Link ist ungültig.",
    "A template needs a name, a text, a known category and language.":
        "Eine Vorlage braucht Namen, Text, eine bekannte Kategorie und Sprache.",
    "P1": "P1", "P2": "P2", "P3": "P3",
    "business hours left": "verbleibende Geschäftszeit",
    "Silences": "Stummschaltungen", "Digest": "Wochenbericht",
    "Rule": "Regel", "Until": "Bis", "By": "Von", "End now": "Jetzt beenden",
    "No silence is running.": "Keine Stummschaltung aktiv.", "New silence": "Neue Stummschaltung", "any": "alle",
    "For how long (e.g. 2h, 1d)": "Wie lange (z. B. 2h, 1d)", "Add silence": "Stummschaltung anlegen",
    "While a silence runs, matching tasks are still created and shown in the queue, but raise no alerts.":
        "Während einer Stummschaltung entstehen passende Aufgaben weiter und stehen in der Warteschlange, lösen aber "
        "keine Benachrichtigungen aus.",
    "First response: marked responded (or resolved without a separate response). Business time counts the rule's "
    "business hours only.": "Erste Antwort: als beantwortet markiert (oder ohne eigene Antwort erledigt). "
    "Geschäftszeit zählt nur die Geschäftszeiten der Regel.",
    "Median, business time": "Median, Geschäftszeit", "90th percentile, business time": "90. Perzentil, Geschäftszeit",
    "Median, calendar time": "Median, Kalenderzeit", "90th percentile, calendar time": "90. Perzentil, Kalenderzeit",
    "Waiting for a first response, by age": "Warten auf eine erste Antwort, nach Alter",
    "all tasks": "alle Aufgaben", "rule": "Regel",
    # contacts (listener/web/contacts.py)
    "merged": "zusammengeführt", "follow-up": "Nachtrag", "follow-ups": "Nachträge",
    "follow-ups from the same contact": "Nachträge desselben Kontakts", "Follow-ups": "Nachträge",
    "from task": "aus Aufgabe", "This task was merged into": "Diese Aufgabe wurde zusammengeführt mit",
    "task": "Aufgabe",
    "Contact": "Kontakt", "contact": "Kontakt", "profile": "Profil", "Links": "Verknüpfungen", "Undo link":
        "Verknüpfung aufheben", "May be the same person": "Vielleicht dieselbe Person", "Same person: link":
        "Dieselbe Person: verknüpfen", "Link with contact number": "Verknüpfen mit Kontakt Nummer",
    "because": "weil", "Link": "Verknüpfen", "The mention names no author, so there is no contact.":
        "Die Erwähnung nennt keinen Autor, daher gibt es keinen Kontakt.", "this task": "diese Aufgabe",
    "Nothing else from this contact.": "Sonst nichts von diesem Kontakt.",
    "Merge this task into task number": "Diese Aufgabe zusammenführen mit Aufgabe Nummer", "Merge": "Zusammenführen",
    "Open tasks of this contact": "Offene Aufgaben dieses Kontakts", "task merged in": "Aufgabe hineingeführt",
    "contacts linked": "Kontakte verknüpft", "link undone": "Verknüpfung aufgehoben",
}


# the reply composer keeps its texts beside it
from listener.web.german_replies import REPLY_GERMAN  # noqa: E402

GERMAN.update(REPLY_GERMAN)

# the survey parts keep their texts beside them too
from listener.web.german_surveys import SURVEY_GERMAN  # noqa: E402

GERMAN.update(SURVEY_GERMAN)

# the inbox for a whole shift (sign-in under attack, request values, bulk work, changes by others) keeps its texts
# beside it too
from listener.web.german_shift import SHIFT_GERMAN  # noqa: E402

GERMAN.update(SHIFT_GERMAN)
