"""Escalation: steps fire once when a task is still unacknowledged, stop on ack/respond/resolve/dismiss, count
business time, page the out-of-hours route, and keep the outbox's guarantees. Injected clock, real SMTP + HTTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from listener.acting.escalation import run_escalations
from listener.acting.silences import add_silence, expire_silence
from listener.acting.tasks import transition
from listener.clock import FakeClock
from listener.config import Settings
from listener.delivery.outbox import _claim
from listener.demo.servers import SmtpSink, WebhookReceiver
from listener.store.engine import Store
from listener.store.models import AlertRow, TaskRow
from tests.alerting import alert_settings, complaint, deliver, migrated_store, move_to
from tests.alerting import berlin as at
from tests.browser import screenshot

RULES = """
[[rule]]
name = "urgent"
when = { urgency = "P1" }
task = { priority = "P1", first_response = "15m", hours = "care-de" }
notify = ["chat"]
escalate = [{ after = "due", notify = ["mail"] }]
outside_hours = { notify = ["mail"], priorities = ["P1"] }

[[rule]]
name = "complaints"
when = { sentiment = "negative" }
task = { priority = "P2", first_response = "30m", hours = "care-de" }
notify = ["chat"]
escalate = [{ after = "due", notify = ["mail"] }, { after = "due+1h", notify = ["mail", "chat"] }]
"""




@pytest.fixture
def settings(smtp_sink: SmtpSink, webhook: WebhookReceiver) -> Settings:
    return alert_settings(smtp_sink.port, webhook.url, RULES)


def escalations(store: Store) -> list[tuple[int | None, str | None, str]]:
    with store.read() as session:
        rows = session.query(AlertRow).filter_by(kind="escalation").order_by(AlertRow.id).all()
        return [(r.task_id, r.step, r.channel) for r in rows]


def test_steps_fire_once_each_and_stop_when_the_task_is_acknowledged(store: Store, settings: Settings,
                                                                      smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                                      tmp_path: Path) -> None:
    clock = FakeClock(at(2026, 12, 1, 9, 0))  # a Tuesday
    first = complaint(store, settings, clock)
    second = complaint(store, settings, clock)
    assert first and second
    clock.advance(timedelta(minutes=29))
    assert run_escalations(store, settings.rule, clock).escalations == 0
    clock.advance(timedelta(minutes=1))  # 09:30: both are due
    assert run_escalations(store, settings.rule, clock).escalations == 2
    assert run_escalations(store, settings.rule, clock).escalations == 0  # a step fires once
    with store.write() as session:
        transition(session, first, "ack", clock.now())
    clock.advance(timedelta(hours=1))  # 10:30: step 2 for the one nobody acknowledged
    assert run_escalations(store, settings.rule, clock).escalations == 2
    assert escalations(store) == [(first, "1", "mail"), (second, "1", "mail"), (second, "2", "mail"),
                                  (second, "2", "chat")]
    with store.write() as session:
        transition(session, second, "dismiss", clock.now())
    clock.advance(timedelta(days=3))
    assert run_escalations(store, settings.rule, clock).escalations == 0

    assert deliver(store, settings, clock).sent == 2 + 4  # the two first alerts on chat, four escalations
    subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
    assert subjects[0].startswith(f"[P2] ESCALATION task #{first} · Acme on forum")
    body = smtp_sink.messages[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "ESCALATION: escalation step 1: not acknowledged (due 2026-12-01 08:30 UTC)" in body
    assert f"https://care.example.com/tasks/{first}" in body
    html = smtp_sink.messages[0].get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "<strong>Escalation:</strong> escalation step 1: not acknowledged" in html
    screenshot(html, tmp_path, "escalation-email.png")
    chat = [r["text"] for r in webhook.received if "Escalation" in r["text"]]
    assert len(chat) == 1 and "escalation step 2" in chat[0]


def test_steps_count_business_time_across_the_evening(store: Store, settings: Settings) -> None:
    clock = FakeClock(at(2026, 12, 1, 17, 40))  # Tuesday 17:40, 20 minutes before closing
    task_id = complaint(store, settings, clock)
    with store.read() as session:
        assert session.get_one(TaskRow, task_id).due_at == at(2026, 12, 2, 8, 10)  # 20 min + 10 min next morning
    clock.advance(timedelta(hours=5))  # 22:40: past the calendar-time deadline, but nobody is at work
    assert run_escalations(store, settings.rule, clock).escalations == 0
    move_to(clock, at(2026, 12, 2, 8, 10))
    assert run_escalations(store, settings.rule, clock).escalations == 1
    move_to(clock, at(2026, 12, 2, 9, 9))
    assert run_escalations(store, settings.rule, clock).escalations == 0
    move_to(clock, at(2026, 12, 2, 9, 10))
    assert run_escalations(store, settings.rule, clock).escalations == 2  # step 2: mail and chat


def test_outside_hours_pages_the_on_call_route_for_p1_only(store: Store, settings: Settings) -> None:
    clock = FakeClock(at(2026, 12, 5, 3, 0))  # Saturday night
    urgent = complaint(store, settings, clock, urgency="P1")
    normal = complaint(store, settings, clock, urgency="P2")
    with store.read() as session:
        assert session.get_one(TaskRow, urgent).due_at == at(2026, 12, 7, 8, 15)  # Monday
    clock.advance(timedelta(minutes=14))
    assert run_escalations(store, settings.rule, clock).escalations == 0
    clock.advance(timedelta(minutes=1))  # 15 minutes (calendar time) unacknowledged, hours still closed
    assert run_escalations(store, settings.rule, clock).escalations == 1
    assert escalations(store) == [(urgent, "outside-hours", "mail")]
    move_to(clock, at(2026, 12, 7, 8, 15))
    run_escalations(store, settings.rule, clock)
    assert escalations(store)[1:] == [(urgent, "1", "mail")]  # the P2 one is due at 08:30
    with store.write() as session:
        transition(session, normal, "respond", clock.now())
    clock.advance(timedelta(hours=3))
    assert run_escalations(store, settings.rule, clock).escalations == 0  # responded: no further steps


def test_a_silence_holds_escalations_back_until_it_ends(store: Store, settings: Settings) -> None:
    """A silence matching the task's brand and category mutes its escalations; one that matches another category
    does not; once the silence ends, a task still open escalates."""
    clock = FakeClock(at(2026, 12, 1, 9, 0))  # a Tuesday
    with store.write() as session:
        silence = add_silence(session, clock.now(), timedelta(hours=1), brand="Acme", category="digital")
        add_silence(session, clock.now(), timedelta(hours=3), category="billing")
        silence_id = silence.id
    muted = complaint(store, settings, clock)
    other = complaint(store, settings, clock, category="delivery")
    clock.advance(timedelta(minutes=30))  # 09:30: both due
    assert run_escalations(store, settings.rule, clock).escalations == 1
    assert escalations(store) == [(other, "1", "mail")]
    with store.write() as session:
        expire_silence(session, silence_id, clock.now())
    assert run_escalations(store, settings.rule, clock).escalations == 1
    assert escalations(store)[1:] == [(muted, "1", "mail")]


def test_outside_hours_does_not_page_once_the_hours_have_opened(store: Store, settings: Settings) -> None:
    clock = FakeClock(at(2026, 12, 7, 7, 50))  # Monday, 10 minutes before opening
    complaint(store, settings, clock, urgency="P1")
    clock.advance(timedelta(minutes=20))  # 08:10: 15 minutes passed, but the team is in now
    assert run_escalations(store, settings.rule, clock).escalations == 0


def test_a_crash_mid_send_neither_loses_nor_repeats_an_escalation(tmp_path: object, database_url: str,
                                                                  smtp_sink: SmtpSink,
                                                                  webhook: WebhookReceiver) -> None:
    settings = alert_settings(smtp_sink.port, webhook.url, RULES, db_url=database_url)
    store = migrated_store(database_url)
    clock = FakeClock(at(2026, 12, 1, 9, 0))
    task_id = complaint(store, settings, clock)
    deliver(store, settings, clock)  # the first alert (chat)
    clock.advance(timedelta(minutes=30))
    assert run_escalations(store, settings.rule, clock).escalations == 1
    claimed = _claim(store, settings.delivery, clock.now())  # a deliverer claims it and dies before sending
    assert len(claimed) == 1
    assert deliver(store, settings, clock).sent == 0
    assert run_escalations(store, settings.rule, clock).escalations == 0  # no second row for the same step
    clock.advance(settings.delivery.claim_timeout + timedelta(seconds=1))
    assert deliver(store, settings, clock).sent == 1
    clock.advance(timedelta(minutes=10))
    assert deliver(store, settings, clock).sent == 0
    assert len(smtp_sink.messages) == 1
    assert smtp_sink.messages[0]["X-Listener-Idempotency-Key"] == f"task-{task_id}-escalation-1-mail"
    store.dispose()


def test_the_daemons_delivery_job_raises_due_escalations_first(tmp_path: Path, smtp_sink: SmtpSink,
                                                               webhook: WebhookReceiver) -> None:
    from listener.app import App
    from listener.jobs import Work

    settings = alert_settings(smtp_sink.port, webhook.url, RULES, db_url=f"sqlite:///{tmp_path / 'listener.db'}")
    clock = FakeClock(at(2026, 12, 1, 9, 0))
    app = App(settings, clock=clock)
    app.migrate()
    task_id = complaint(app.store, settings, clock)
    clock.advance(timedelta(minutes=30))
    Work(app).deliver()  # the delivery job of both runners
    assert [str(m["Subject"]).split(" · ")[0] for m in smtp_sink.messages] == [f"[P2] ESCALATION task #{task_id}"]
    assert len(webhook.received) == 1  # the task's own alert
    app.close()
