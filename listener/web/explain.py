"""The errors of the task actions, in the reader's language.

The actions are shared with the CLI (listener/acting/activity.py, tasks.py, labels.py), whose errors are English
sentences with a task number, a state or a name in them; the care inbox translates them by their shape. A message
of an unknown shape is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from listener.web.german import GERMAN

ACTIONS_DE = {"ack": "annehmen", "respond": "als beantwortet markieren", "resolve": "erledigen",
              "dismiss": "als Fehlalarm verwerfen", "reopen": "wieder öffnen"}


def _state(name: str) -> str:
    return GERMAN.get(name, name)


PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"task #(\d+) is (\w+); cannot (\w+) it"),
     lambda m: f"Aufgabe #{m[1]} ist {_state(m[2])}; sie lässt sich nicht {ACTIONS_DE.get(m[3], m[3])}."),
    (re.compile(r"no task #(\d+)"), lambda m: f"Es gibt keine Aufgabe #{m[1]}."),
    (re.compile(r"no mention #(\d+)"), lambda m: f"Es gibt keine Erwähnung #{m[1]}."),
    (re.compile(r"mention #(\d+) has task #(\d+) already"),
     lambda m: f"Zur Erwähnung #{m[1]} gibt es schon Aufgabe #{m[2]}."),
    (re.compile(r"the note is empty"), lambda m: "Die Notiz ist leer."),
    (re.compile(r"(.+) cannot take tasks"), lambda m: f"{m[1]} kann keine Aufgaben übernehmen."),
    (re.compile(r"sentiment (.+) is not one of .+"), lambda m: f"Die Stimmung {m[1]} ist unbekannt."),
    (re.compile(r"unknown service category (.+?); one of .+"), lambda m: f"Unbekannte Service-Kategorie {m[1]}."),
    (re.compile(r"a negative service experience is negative: give sentiment 'negative' or no category"),
     lambda m: "Eine negative Serviceerfahrung ist negativ: Stimmung „negativ“ wählen oder keine Kategorie."),
    (re.compile(r"a silence needs at least one of --brand, --category, --rule \(it would mute everything\)"),
     lambda m: "Eine Stummschaltung braucht eine Marke, Kategorie oder Regel (sonst wäre alles stumm)."),
    (re.compile(r"a silence needs a positive duration.*"), lambda m: "Eine Stummschaltung braucht eine Dauer."),
    (re.compile(r"a silence lasts at most a year"), lambda m: "Eine Stummschaltung dauert höchstens ein Jahr."),
    (re.compile(r"no silence #(\d+)"), lambda m: f"Es gibt keine Stummschaltung #{m[1]}."),
    (re.compile(r"expected a duration like .+, got (.+)"),
     lambda m: f"Erwartet wird eine Dauer wie 30m, 2h oder 1d, nicht {m[1]}."),
]


def explain(message: str, language: str) -> str:
    if language != "de":
        return message
    for pattern, german in PATTERNS:
        match = pattern.fullmatch(message.strip())
        if match:
            return german(match)
    return GERMAN.get(message, message)
