"""Freshdesk: the exact requests (developers.freshdesk.com) — requester by unique_external_id and name, HTML
description with the mention escaped, private notes, one list call by updated_since for the read-back, the token
webhook."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from listener.clock import FakeClock
from listener.config import Settings
from listener.delivery.helpdesk.driver import parse_time
from listener.delivery.helpdesk.status import read_back
from listener.delivery.helpdesk.webhooks import handle
from listener.store.engine import Store
from tests.delivery.helpdesk.fake_freshdesk import FakeFreshdesk
from tests.delivery.helpdesk.support import (
    CASES,
    HOOK_KEY,
    channel_of,
    complaint_by,
    deliver,
)

CASE = CASES[1]
assert CASE.kind == "freshdesk"


def test_opening_a_ticket_sends_what_freshdesk_documents(fake: FakeFreshdesk, settings: Settings, store: Store,
                                                         clock: FakeClock) -> None:
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme <script>alert(1)</script> & co charged twice")
    deliver(store, settings, clock)
    assert fake.violations == []
    (create_method, create_path, ticket), (note_method, note_path, note) = [
        (r.method, r.path, json.loads(r.body)) for r in fake.requests]
    assert (create_method, create_path) == ("POST", "/api/v2/tickets")
    assert {k: ticket[k] for k in ("name", "unique_external_id", "status", "priority", "source", "tags")} == {
        "name": "kundin_77", "unique_external_id": "listener-contact-1", "status": 2, "priority": 3,
        "source": 2, "tags": ["listener", "billing", f"listener-task-{task_id}"]}
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in ticket["description"]  # HTML, escaped
    assert "<script>" not in ticket["description"] and "email" not in ticket
    [ticket_id] = fake.tickets
    assert (note_method, note_path, note["private"]) == ("POST", f"/api/v2/tickets/{ticket_id}/notes", True)
    assert "Flagged by listener" in note["body"]


def test_the_read_back_is_one_list_of_changed_tickets_with_their_stats(fake: FakeFreshdesk, settings: Settings,
                                                                       store: Store, clock: FakeClock) -> None:
    tasks = [complaint_by(store, settings, clock, f"user{i}", f"Acme problem {i}") for i in range(3)]
    deliver(store, settings, clock)
    ids = sorted(fake.tickets)
    clock.advance(timedelta(minutes=2))
    answered = fake.agent_reply(ids[2])
    before = len(fake.requests)
    clock.advance(timedelta(minutes=5))
    report = read_back(channel_of(settings, store, clock))
    [call] = fake.requests[before:]
    assert (call.method, call.path) == ("GET", "/api/v2/tickets")
    assert {k: v[0] for k, v in call.params.items()} == {
        "updated_since": "2026-01-05T08:58:00Z", "include": "stats", "order_by": "updated_at", "order_type": "asc",
        "per_page": "100", "page": "1"}  # since the hand-offs were last read (09:00), minus the overlap
    assert report.responded == [tasks[2]] and report.checked == 3
    assert parse_time(fake.tickets[ids[2]]["stats"]["first_responded_at"]) == answered


@pytest.mark.parametrize("payload", [
    {"freshdesk_webhook": {"ticket_id": "{id}", "ticket_status": "Resolved"}},  # the automation's default shape
    {"ticket_id": "{id}"},  # a JSON body written in the rule
])
def test_the_webhook_needs_the_token_and_rereads_the_ticket(payload: dict[str, object], fake: FakeFreshdesk,
                                                            settings: Settings, store: Store,
                                                            clock: FakeClock) -> None:
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    deliver(store, settings, clock)
    [ticket] = fake.tickets
    body = json.dumps(payload).replace("{id}", str(ticket)).encode()
    channel = channel_of(settings, store, clock)
    assert handle(channel, {"x-listener-token": "guess"}, body)[0] == 401
    assert handle(channel, {}, body)[0] == 401
    assert handle(channel, {"x-listener-token": HOOK_KEY}, body)[1]["resolved"] == []  # not solved yet: nothing
    fake.solve(ticket)
    assert handle(channel, {"x-listener-token": HOOK_KEY}, body)[1]["resolved"] == [task_id]
