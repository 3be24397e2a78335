"""Zendesk: the exact requests (developer.zendesk.com) — requester by external_id, ticket with external_id,
internal notes, the customer's later posts as their public comments, show_many with metric_sets, webhook shapes."""

from __future__ import annotations

import json
from datetime import timedelta

from listener.clock import FakeClock
from listener.config import Settings
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.status import read_back
from listener.delivery.helpdesk.webhooks import handle
from listener.store.engine import Store
from tests.delivery.helpdesk.fake_zendesk import AGENT_ID, FakeZendesk
from tests.delivery.helpdesk.support import (
    CASES,
    HOOK_KEY,
    channel_of,
    complaint_by,
    deliver,
    helpdesk_settings,
    later_mention,
    zendesk_sign,
)

CASE = CASES[0]
assert CASE.kind == "zendesk"


def test_opening_a_ticket_sends_what_zendesk_documents(fake: FakeZendesk, settings: Settings, store: Store,
                                                       clock: FakeClock) -> None:
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme app <script>x</script> double charge",
                           kind="reddit", url="https://www.reddit.com/r/acme/comments/abc/")
    deliver(store, settings, clock)
    assert fake.violations == []
    user, ticket, note = [(r.method, r.path, json.loads(r.body)) for r in fake.requests]
    assert user == ("POST", "/api/v2/users/create_or_update", {"user": {
        "name": "kundin_77", "external_id": "listener-contact-1", "role": "end-user",  # the contact (contacts)
        "details": "reddit profile: https://reddit.com/user/kundin_77"}})  # as contacts keep it
    requester = fake.users[max(fake.users)]["id"]
    method, path, body = ticket
    assert (method, path) == ("POST", "/api/v2/tickets")
    t = body["ticket"]
    assert (t["external_id"], t["requester_id"], t["priority"], t["tags"]) == (
        f"listener-task-{task_id}", requester, "high", ["listener", "billing"])
    assert t["subject"].startswith("[P2] Acme on reddit-src: Acme app")
    assert t["comment"]["public"] is True and t["comment"]["author_id"] == requester  # the customer's words
    assert "Acme app <script>x</script> double charge" in t["comment"]["body"]  # plain text: shown as written
    assert "https://www.reddit.com/r/acme/comments/abc/" in t["comment"]["body"]
    assert note[0] == "PUT" and note[2]["ticket"]["comment"]["public"] is False  # listener's reasons: internal
    assert "Flagged by listener" in note[2]["ticket"]["comment"]["body"]


def test_a_second_task_of_the_same_customer_has_the_same_requester(fake: FakeZendesk, store: Store,
                                                                   clock: FakeClock) -> None:
    settings = helpdesk_settings(CASE, fake.base_url, store.url, join="off")  # every complaint opens a task
    complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    complaint_by(store, settings, clock, "kundin_77", "Acme still broken", url="https://forum.example.com/t/2")
    deliver(store, settings, clock)
    requesters = {t["requester_id"] for t in fake.tickets.values()}
    assert len(fake.tickets) == 2 and len(requesters) == 1  # matched on external_id by create_or_update


def test_the_read_back_is_one_show_many_call_and_reads_comments_only_once_answered(
        fake: FakeZendesk, settings: Settings, store: Store, clock: FakeClock) -> None:
    tasks = [complaint_by(store, settings, clock, f"user{i}", f"Acme problem {i}") for i in range(3)]
    deliver(store, settings, clock)
    ids = sorted(fake.tickets)
    fake.agent_reply(ids[1])
    before = len(fake.requests)
    clock.advance(timedelta(minutes=5))
    report = read_back(channel_of(settings, store, clock))
    calls = [(r.path, r.params) for r in fake.requests[before:]]
    assert calls[0] == ("/api/v2/tickets/show_many", {"ids": [",".join(map(str, ids))], "include": ["metric_sets"]})
    assert calls[1:] == [(f"/api/v2/tickets/{ids[1]}/comments", {"include": ["users"], "per_page": ["100"]})]
    assert report.responded == [tasks[1]] and report.checked == 3


def test_the_customers_next_post_is_their_public_comment(fake: FakeZendesk, settings: Settings, store: Store,
                                                          clock: FakeClock) -> None:
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    deliver(store, settings, clock)
    later_mention(store, clock, task_id, "Acme, hello? Still double charged.")
    deliver(store, settings, clock)
    [ticket] = fake.tickets
    last = fake.comments[ticket][-1]
    assert last["public"] is True and last["author_id"] == fake.tickets[ticket]["requester_id"] != AGENT_ID
    assert "Still double charged" in last["body"]


def test_a_trigger_webhook_with_a_ticket_id_body_is_understood(fake: FakeZendesk, settings: Settings, store: Store,
                                                               clock: FakeClock) -> None:
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    deliver(store, settings, clock)
    [ticket] = fake.tickets
    fake.solve(ticket)
    body = json.dumps({"ticket_id": str(ticket), "status": "Solved"}).encode()  # a trigger's own JSON body
    headers = {k.lower(): v for k, v in zendesk_sign(HOOK_KEY, body, clock.now()).items()}
    headers["x-zendesk-webhook-invocation-id"] = "8350205582"
    channel = channel_of(settings, store, clock)
    assert isinstance(channel, HelpdeskChannel)
    assert handle(channel, headers, body) == (200, {"ok": True, "tickets": 1, "responded": [],
                                                    "resolved": [task_id]})
    assert handle(channel, headers, body)[0] == 409  # the same invocation again
