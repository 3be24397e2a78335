"""Alerts in the team's language and time zone ([alerts], listener/delivery/locale.py): a German team gets German
e-mails and chat messages with Berlin times, through a real SMTP server, and the e-mail is looked at in a browser."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from listener.app import App
from listener.config import ConfigError, load_settings, parse_settings
from listener.delivery.locale import AlertLocale, alert_locale
from listener.delivery.reasons import translate_reason
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.store.models import TaskRow
from tests.browser import screenshot
from tests.flow import write_config

BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_TEAM = '''
[digest]
lang = "de"

[[hours]]
name = "care-de"
timezone = "Europe/Berlin"
week = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-18:00" }
'''


def test_a_german_team_gets_german_alerts_with_berlin_times(tmp_path: Path, feed_server: FeedServer,
                                                             smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                             negative_model: Path) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model, extra=BERLIN_TEAM)
    app = App(load_settings(config))
    try:
        app.migrate()
        app.poll(["verbraucherforum"])
        assert app.score().tasks >= 1
        assert app.deliver().sent >= 2
        with app.store.read() as session:
            task = session.query(TaskRow).order_by(TaskRow.id).first()
            assert task is not None and task.due_at is not None
            due, task_id = task.due_at, task.id
    finally:
        app.close()
    berlin = format_datetime(due, "dd.MM.yyyy, HH:mm", tzinfo=BERLIN, locale="de")
    zone = "MESZ" if due.astimezone(BERLIN).dst() else "MEZ"
    email = next(m for m in smtp_sink.messages if f"#{task_id}" in m.get_body(("plain",)).get_content())
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert f"Erste Antwort fällig: {berlin} {zone}" in text, text
    assert "Warum markiert:" in text and "Regel negative" in text and "negative Stimmung (" in text
    assert "Quelle:    verbraucherforum" in text and "Stimmung:  negativ (" in text
    assert "UTC" not in text and "First response" not in text
    assert str(email["Subject"]).strip().startswith("[P") and " auf verbraucherforum: " in str(email["Subject"])
    assert '<html lang="de">' in html and f"{berlin} {zone}" in html and "Beitrag öffnen" in html
    chat = next(w["text"] for w in webhook.received if f"Aufgabe #{task_id}" in w["text"])
    assert f"antworten bis {berlin[-5:]} {zone}" in chat and "• Regel negative" in chat
    shot = screenshot(html, tmp_path, "alert-de-berlin.png", width=760, height=700)
    assert shot.stat().st_size > 10_000


def test_the_language_and_zone_default_to_the_digest_and_the_hours() -> None:
    base = {"brand": [{"name": "Acme", "terms": ["Acme"]}]}
    assert alert_locale(parse_settings(base)) == AlertLocale("en", "UTC")
    digest = parse_settings({**base, "digest": {"lang": "de", "timezone": "Europe/Vienna"}})
    assert alert_locale(digest) == AlertLocale("de", "Europe/Vienna")
    hours = parse_settings({**base, "digest": {"lang": "de", "timezone": "Europe/Vienna"},
                            "hours": [{"name": "care", "timezone": "Europe/Berlin", "week": {"mon": "08:00-18:00"}}]})
    assert alert_locale(hours) == AlertLocale("de", "Europe/Berlin")  # the care team's hours over marketing's
    own = parse_settings({**base, "alerts": {"lang": "en-GB", "timezone": "Europe/London"}, "digest": {"lang": "de"}})
    assert alert_locale(own) == AlertLocale("en-GB", "Europe/London")
    for bad, key in (({"lang": "fr"}, "alerts.lang"), ({"timezone": "Mars/Olympus"}, "alerts.timezone"),
                     ({"language": "de"}, "alerts.language")):
        with pytest.raises(ConfigError) as info:
            parse_settings({**base, "alerts": bad})
        assert key in str(info.value)


def test_dates_and_reasons_in_each_locale() -> None:
    due = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
    assert AlertLocale("de", "Europe/Berlin").when(due) == "07.12.2026, 08:30 MEZ"
    assert AlertLocale("en-GB", "Europe/Berlin").when(due) == "7 Dec 2026, 08:30 CET"
    assert AlertLocale("en-US", "America/New_York").when(due) == "Dec 7, 2026, 2:30\u202fAM EST"  # CLDR: a narrow space
    assert AlertLocale("en", "UTC").when(due) == "2026-12-07 07:30 UTC"  # as before: plain English, ISO dates
    german = [translate_reason(r, "de") for r in (
        "negative sentiment (93% confident)", "negative service experience: delivery, billing", "1-star review",
        "escalation: threatens legal action (“Anwalt”)", "wide reach: 1,200 likes, 40 replies",
        "recent: posted 12 min ago", "old: posted 9 days ago", "rule negative, urgent", "something new")]
    assert german == ["negative Stimmung (93 % sicher)", "negatives Serviceerlebnis: Lieferung, Abrechnung",
                      "1-Sterne-Bewertung", "Eskalation: droht mit rechtlichen Schritten (“Anwalt”)",
                      "große Reichweite: 1.200 Likes, 40 Antworten", "neu: vor 12 Min. veröffentlicht",
                      "alt: vor 9 Tagen veröffentlicht", "Regel negative, urgent", "something new"]
