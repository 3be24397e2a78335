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
    # malformed requests (listener/web/params.py, errors.py)
    "There is no task #{id}.": "Es gibt keine Aufgabe #{id}.",
    "There is no template #{id}.": "Es gibt keine Vorlage #{id}.",
    "There is no silence #{id}.": "Es gibt keine Stummschaltung #{id}.",
    "{name}: expected a whole number from {low} to {high}.":
        "{name}: erwartet wird eine ganze Zahl von {low} bis {high}.",
    "{name}: expected a date such as 2026-01-31.": "{name}: erwartet wird ein Datum wie 2026-01-31.",
    "{name}: expected one of {allowed}.": "{name}: erwartet wird einer der Werte {allowed}.",
    "There is no such page.": "Diese Seite gibt es nicht.",
    "This page does not answer that kind of request.": "Diese Seite beantwortet diese Art von Anfrage nicht.",
    "The request could not be read.": "Die Anfrage konnte nicht gelesen werden.",
    "This form was sent from another site and was refused. Reload the page here and try again.":
        "Dieses Formular kam von einer anderen Website und wurde abgewiesen. Bitte die Seite hier neu laden und "
        "erneut versuchen.",
    # shift work: views, search, bulk actions, shortcuts, changes by others, reopening, tasks by hand
    "Views": "Ansichten", "All open": "Alle offenen",
    "Mine": "Meine", "Unassigned": "Niemandem zugewiesen", "Search and sort": "Suchen und sortieren",
    "Sort by": "Sortieren nach", "deadline (overdue first)": "Frist (überfällige zuerst)",
    "newest first": "neueste zuerst", "oldest first": "älteste zuerst",
    "With the ticked tasks": "Mit den angehakten Aufgaben", "Tick": "Anhaken",
    "Tick task": "Aufgabe anhaken", "Keyboard shortcuts": "Tastenkürzel",
    "next / previous task": "nächste / vorige Aufgabe", "open the task": "Aufgabe öffnen",
    "tick the task": "Aufgabe anhaken", "acknowledge the task": "Aufgabe annehmen", "search": "suchen",
    "show or hide this help": "diese Hilfe zeigen oder verbergen",
    "Press ? for keyboard shortcuts.": "Mit ? erscheinen die Tastenkürzel.",
    "Someone else acted on this task": "Jemand anderes hat diese Aufgabe bearbeitet",
    "Reload to see it": "Neu laden, um es zu sehen",
    "You are signed out: this page no longer updates.":
        "Sie sind abgemeldet: Diese Seite aktualisiert sich nicht mehr.",
    "Sign in again": "Erneut anmelden", "Reopen": "Wieder öffnen", "reopened": "wieder geöffnet",
    "created": "angelegt", "Create task": "Aufgabe anlegen", "Deadline as in rule": "Frist wie in Regel",
    "15 minutes": "15 Minuten",
    "{n} tasks acknowledged.": "{n} Aufgaben angenommen.", "{n} tasks resolved.": "{n} Aufgaben erledigt.",
    "{n} tasks dismissed.": "{n} Aufgaben als Fehlalarm verworfen.", "{n} tasks assigned.": "{n} Aufgaben zugewiesen.",
    "Not changed: {tasks}.": "Nicht geändert: {tasks}.",
    "Tick at least one task, then choose what to do with them.":
        "Bitte mindestens eine Aufgabe anhaken und dann eine Aktion wählen.",
    "acknowledged it": "hat sie angenommen", "marked it responded": "hat sie als beantwortet markiert",
    "resolved it": "hat sie erledigt", "dismissed it as a false alarm": "hat sie als Fehlalarm verworfen",
    "assigned it to {detail}": "hat sie {detail} zugewiesen", "assigned it to nobody": "hat die Zuweisung aufgehoben",
    "added a note": "hat eine Notiz hinzugefügt", "corrected the verdict": "hat das Urteil korrigiert",
    "reopened it": "hat sie wieder geöffnet", "created it": "hat sie angelegt",
    "Since you opened this task: {changes}. Nothing was changed; check the task and try again.":
        "Seit Sie diese Aufgabe geöffnet haben: {changes}. Nichts wurde geändert; bitte die Aufgabe prüfen und "
        "erneut versuchen.",
    "There is no mention #{id}.": "Es gibt keine Erwähnung #{id}.",
    "deadline_rule: no rule named {name}.": "deadline_rule: Es gibt keine Regel {name}.",
    "task: expected task numbers.": "task: erwartet werden Aufgabennummern.",
}
