"""The survey page's own words in German and English (the question itself comes from `[[survey]] question`)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your feedback", "send": "Send", "change": "Change my answer",
        "comment": "Anything you would like to tell us? (optional)",
        "saved": "Thank you! Your answer has been saved.",
        "your_answer": "Your answer", "can_change": "You can change it for another {left}.",
        "final": "Thank you for your answer.",
        "privacy": "We use your answer only to improve our service. This page sets no cookies and loads nothing "
                   "from other sites.",
        "low_csat": "very dissatisfied", "high_csat": "very satisfied",
        "low_ces": "very difficult", "high_ces": "very easy",
        "low_nps": "not at all likely", "high_nps": "extremely likely",
        "invalid": "This link is not valid. Please use the link exactly as you received it.",
        "expired": "This link has expired. Thank you for your interest.",
        "gone": "This survey is no longer available.",
        "closed": "This answer can no longer be changed. Thank you!",
        "limited": "Too many answers were sent from here. Please try again later.",
        "origin": "Please send your answer from the survey page itself.",
        "score": "Please choose a score.", "too_long": "Your comment is too long (at most {limit} characters).",
    },
    "de": {
        "title": "Ihre Rückmeldung", "send": "Senden", "change": "Antwort ändern",
        "comment": "Möchten Sie uns noch etwas mitteilen? (freiwillig)",
        "saved": "Vielen Dank! Ihre Antwort wurde gespeichert.",
        "your_answer": "Ihre Antwort", "can_change": "Sie können sie noch {left} lang ändern.",
        "final": "Vielen Dank für Ihre Antwort.",
        "privacy": "Wir nutzen Ihre Antwort nur, um unseren Service zu verbessern. Diese Seite setzt keine Cookies "
                   "und lädt nichts von anderen Websites.",
        "low_csat": "sehr unzufrieden", "high_csat": "sehr zufrieden",
        "low_ces": "sehr schwierig", "high_ces": "sehr einfach",
        "low_nps": "sehr unwahrscheinlich", "high_nps": "äußerst wahrscheinlich",
        "invalid": "Dieser Link ist ungültig. Bitte verwenden Sie den Link genau so, wie Sie ihn erhalten haben.",
        "expired": "Dieser Link ist abgelaufen. Vielen Dank für Ihr Interesse.",
        "gone": "Diese Umfrage ist nicht mehr verfügbar.",
        "closed": "Diese Antwort kann nicht mehr geändert werden. Vielen Dank!",
        "limited": "Von hier wurden zu viele Antworten gesendet. Bitte versuchen Sie es später noch einmal.",
        "origin": "Bitte senden Sie Ihre Antwort von der Umfrageseite aus.",
        "score": "Bitte wählen Sie eine Bewertung.",
        "too_long": "Ihr Kommentar ist zu lang (höchstens {limit} Zeichen).",
    },
}
