"""German texts of the care inbox's shift work: malformed requests, refused cross-site forms, views, search, bulk
actions, keyboard shortcuts, changes by others, reopening and tasks by hand (merged into GERMAN, german.py)."""

from __future__ import annotations

SHIFT_GERMAN: dict[str, str] = {
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
