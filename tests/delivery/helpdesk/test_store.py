"""The hand-off tables in the store: a task's hand-off and its posts go with the task (retention, privacy erase),
on SQLite and PostgreSQL."""

from __future__ import annotations

from listener.clock import FakeClock
from listener.ops.retention import delete_mentions
from listener.store.models import HandoffPostRow, HandoffRow, TaskRow, WebhookDeliveryRow
from tests.alerting import migrated_store
from tests.delivery.helpdesk.support import CASES, complaint_by, helpdesk_settings


def test_a_deleted_task_takes_its_hand_off_and_posts_with_it(database_url: str, clock: FakeClock) -> None:
    settings = helpdesk_settings(CASES[0], "http://127.0.0.1:9", database_url)
    store = migrated_store(database_url)
    task_id = complaint_by(store, settings, clock, "anna", "Acme is broken")
    now = clock.now()
    with store.write() as session:
        row = HandoffRow(task_id=task_id, channel="desk", external_id=f"listener-task-{task_id}", ticket_id="7",
                         state="open", created_at=now)
        session.add(row)
        session.flush()
        session.add(HandoffPostRow(handoff_id=row.id, key="k", state="posted", created_at=now, posted_at=now))
        session.add(WebhookDeliveryRow(channel="desk", delivery_id="d-1", received_at=now))
    with store.write() as session:
        delete_mentions(session, [session.get_one(TaskRow, task_id).mention_id], clock.now())
    with store.read() as session:
        assert session.query(HandoffRow).count() == 0 and session.query(HandoffPostRow).count() == 0
        assert session.query(WebhookDeliveryRow).count() == 1  # about the channel, not the task
    store.dispose()


def test_the_privacy_export_lists_the_tickets_an_erase_cannot_reach(tmp_path: object, clock: FakeClock) -> None:
    from listener.delivery.helpdesk.handoff import HelpdeskChannel  # noqa: F401 - loads the helpdesk's export section
    from listener.ops.privacy import Selector, export

    url = f"sqlite:///{tmp_path}/l.db"
    settings = helpdesk_settings(CASES[0], "http://127.0.0.1:9", url)
    store = migrated_store(url)
    task_id = complaint_by(store, settings, clock, "anna", "Acme is broken")
    with store.write() as session:
        session.add(HandoffRow(task_id=task_id, channel="desk", external_id=f"listener-task-{task_id}",
                               ticket_id="7", ticket_url="https://acme.zendesk.com/agent/tickets/7",
                               requester_ref="42", state="open", created_at=clock.now()))
    data = export(store, Selector(author="anna"), None, "dpo", clock.now())
    assert data["helpdesk"] == [{"task": task_id, "channel": "desk", "ticket_id": "7",
                                         "ticket_url": "https://acme.zendesk.com/agent/tickets/7",
                                         "our_key": f"listener-task-{task_id}", "requester_id": "42",
                                         "state": "open"}]
    store.dispose()
