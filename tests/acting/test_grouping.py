"""Grouping and silences: a burst goes out as one message per group and window (escaped in every format), each
task still exists alone, silenced tasks raise no alert; the outbox's guarantees hold for grouped messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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
from tests.alerting import alert_settings, complaint, deliver, migrated_store
from tests.browser import screenshot

RULES = """
[[rule]]
name = "complaints"
when = { sentiment = "negative" }
task = { priority = "P2", first_response = "30m" }
notify = ["mail", "chat"]
group = { by = ["brand", "category"], wait = "2m", interval = "10m" }

[[rule]]
name = "urgent"
when = { urgency = "P1" }
task = { priority = "P1", first_response = "15m" }
notify = ["chat"]
"""
HOSTILE = "<script>alert(1)</script> <!channel> & <b>app</b> down"


@pytest.fixture
def settings(smtp_sink: SmtpSink, webhook: WebhookReceiver) -> Settings:
    return alert_settings(smtp_sink.port, webhook.url, RULES)


def queued(store: Store) -> list[tuple[str, str]]:
    with store.read() as session:
        return [(a.kind, a.channel) for a in session.query(AlertRow).order_by(AlertRow.id)]


def test_a_burst_goes_out_as_one_message_per_group_and_window(store: Store, settings: Settings,
                                                              smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                              tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    burst = [complaint(store, settings, clock, text=f"outage report {i}") for i in range(3)]
    clock.advance(timedelta(seconds=30))
    burst.append(complaint(store, settings, clock, urgency="P1", text=HOSTILE))  # the urgent one, arriving late
    burst += [complaint(store, settings, clock, text=f"outage report {i}") for i in range(3, 6)]
    billing = complaint(store, settings, clock, category="billing")
    globex = complaint(store, settings, clock, brand="Globex")
    with store.read() as session:
        assert session.query(TaskRow).count() == 9  # every task exists on its own
    assert queued(store) == [("task", "chat")]  # only the urgent rule (no grouping) announces at once

    clock.advance(timedelta(seconds=89))  # 1:59 after the first
    assert run_escalations(store, settings.rule, clock).grouped == 0
    clock.advance(timedelta(seconds=1))  # 2:00: the Acme · digital group flushes
    assert run_escalations(store, settings.rule, clock).grouped == 2  # mail, chat
    clock.advance(timedelta(seconds=30))  # 2:30: the groups that began at 0:30
    assert run_escalations(store, settings.rule, clock).grouped == 4  # Acme · billing, Globex · digital
    assert deliver(store, settings, clock).sent == 7
    subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
    assert subjects == ["[P1] 7 new complaints about Acme · digital", "[P2] 1 new complaint about Acme · billing",
                        "[P2] 1 new complaint about Globex · digital"]

    seven = next(m for m in smtp_sink.messages if "7 new" in str(m["Subject"]))
    text = seven.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = seven.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    links = [re.search(rf"https://care\.example\.com/tasks/{task_id}\b", text).start()  # type: ignore[union-attr]
             for task_id in burst]
    assert links[3] == min(links)  # the P1 one first, then by deadline
    assert links[:3] + links[4:] == sorted(links[:3] + links[4:])
    assert all(f"/tasks/{task_id}\"" in html for task_id in burst)
    assert billing and globex and f"/tasks/{billing}" not in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text stays as written: it is never interpreted
    group_chat = next(r["text"] for r in webhook.received if "7 new" in r["text"])
    assert "<!channel>" not in group_chat and "&lt;!channel&gt;" in group_chat and "<script>" not in group_chat
    assert group_chat.index(f"task #{burst[3]}") < group_chat.index(f"task #{burst[0]}")
    screenshot(html, tmp_path, "grouped-email.png")

    # A new complaint 1 minute later joins the next window: no sooner than `interval` after the last flush.
    clock.advance(timedelta(minutes=1))  # 3:30
    late = complaint(store, settings, clock, text="still down")
    clock.advance(timedelta(minutes=8, seconds=29))  # 11:59 after the burst began
    assert run_escalations(store, settings.rule, clock).grouped == 0
    clock.advance(timedelta(seconds=1))  # 12:00 = last flush (2:00) + 10 minutes
    assert run_escalations(store, settings.rule, clock).grouped == 2
    assert deliver(store, settings, clock).sent == 2
    last = smtp_sink.messages[-1]
    assert str(last["Subject"]) == "[P2] 1 new complaint about Acme · digital"
    assert f"/tasks/{late}" in last.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_task_closed_before_its_flush_is_left_out(store: Store, settings: Settings) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    dismissed = complaint(store, settings, clock)
    assert dismissed
    with store.write() as session:
        transition(session, dismissed, "dismiss", clock.now())
    clock.advance(timedelta(minutes=2))
    assert run_escalations(store, settings.rule, clock).grouped == 0  # nobody needs telling


def test_silences_mute_alerts_but_tasks_are_still_created(store: Store, smtp_sink: SmtpSink,
                                                          webhook: WebhookReceiver) -> None:
    settings = alert_settings(smtp_sink.port, webhook.url, """
[[rule]]
name = "complaints"
when = { sentiment = "negative" }
notify = ["chat"]
""")
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    with store.write() as session:
        silence = add_silence(session, clock.now(), timedelta(hours=2), brand="Acme", category="digital",
                              note="known outage")
        silence_id = silence.id
    muted = complaint(store, settings, clock)
    other_category = complaint(store, settings, clock, category="billing")
    other_brand = complaint(store, settings, clock, brand="Globex")
    with store.read() as session:
        assert session.get_one(TaskRow, muted).silenced_by == silence_id
        assert session.query(TaskRow).count() == 3
    assert len(queued(store)) == 2  # only the two the silence does not match
    clock.advance(timedelta(hours=2))  # the silence has run out
    assert complaint(store, settings, clock) and len(queued(store)) == 3
    with store.write() as session:
        add_silence(session, clock.now(), timedelta(hours=1), brand="Acme")
        expire_silence(session, silence_id, clock.now())
    complaint(store, settings, clock)
    assert len(queued(store)) == 3
    assert deliver(store, settings, clock).sent == 3
    assert len(webhook.received) == 3 and other_category and other_brand


def test_a_silence_added_during_the_wait_mutes_the_grouped_message(store: Store, settings: Settings) -> None:
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    complaint(store, settings, clock)
    with store.write() as session:
        add_silence(session, clock.now(), timedelta(hours=1), brand="Acme", note="known outage")
    clock.advance(timedelta(minutes=5))
    assert run_escalations(store, settings.rule, clock).grouped == 0


def test_a_crash_mid_send_neither_loses_nor_repeats_a_grouped_message(database_url: str, smtp_sink: SmtpSink,
                                                                      webhook: WebhookReceiver) -> None:
    settings = alert_settings(smtp_sink.port, webhook.url, RULES, db_url=database_url)
    store = migrated_store(database_url)
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    for _ in range(4):
        complaint(store, settings, clock)
    clock.advance(timedelta(minutes=2))
    assert run_escalations(store, settings.rule, clock).grouped == 2
    assert len(_claim(store, settings.delivery, clock.now())) == 2  # claimed, then the deliverer dies
    assert deliver(store, settings, clock).sent == 0
    assert run_escalations(store, settings.rule, clock).grouped == 0  # the flush is not queued twice
    clock.advance(settings.delivery.claim_timeout + timedelta(seconds=1))
    assert deliver(store, settings, clock).sent == 2
    clock.advance(timedelta(hours=1))
    assert deliver(store, settings, clock).sent == 0
    assert len(smtp_sink.messages) == 1 and len(webhook.received) == 1
    assert str(smtp_sink.messages[0]["Subject"]) == "[P2] 4 new complaints about Acme · digital"
    assert webhook.headers[0]["Idempotency-Key"].startswith("group-")
    store.dispose()


@pytest.mark.postgres
def test_two_scorers_creating_the_same_group_at_once_share_it(postgres_url: str, smtp_sink: SmtpSink,
                                                              webhook: WebhookReceiver) -> None:
    """The second insert of a new group waits for the first transaction, fails on the unique key, and joins it."""
    import threading

    from listener.acting.grouping import add_to_group

    settings = alert_settings(smtp_sink.port, webhook.url, RULES, db_url=postgres_url)
    store = migrated_store(postgres_url)
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    with store.write() as session:  # two tasks, not yet grouped (the silence keeps act from grouping them)
        add_silence(session, clock.now(), timedelta(minutes=1), brand="Acme")
    first, second = complaint(store, settings, clock), complaint(store, settings, clock)
    rule = settings.rule[0]
    labels = {"brand": "Acme", "category": "digital"}
    joined: list[int] = []
    with store.write() as session:
        group_a = add_to_group(session, rule, session.get_one(TaskRow, first), labels, clock.now())
        session.flush()

        def other_scorer() -> None:
            with store.write() as other:
                joined.append(add_to_group(other, rule, other.get_one(TaskRow, second), labels, clock.now()).id)

        thread = threading.Thread(target=other_scorer)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive()  # blocked on our uncommitted group row
        group_id = group_a.id
    thread.join(timeout=10)
    assert joined == [group_id]
    clock.advance(timedelta(minutes=2))
    assert run_escalations(store, settings.rule, clock).grouped == 2
    assert deliver(store, settings, clock).sent == 2
    assert str(smtp_sink.messages[0]["Subject"]) == "[P2] 2 new complaints about Acme · digital"
    store.dispose()
