"""Chatwoot: the exact requests (its swagger) — contact by identifier with a contact inbox, a conversation carrying
our key in custom_attributes, priority and labels, the customer's words as an incoming message (Markdown-escaped),
listener's notes as private ones, one page of the inbox's conversations for the read-back."""

from __future__ import annotations

import json
from datetime import timedelta

from listener.clock import FakeClock
from listener.config import Settings
from listener.delivery.helpdesk.status import read_back
from listener.store.engine import Store
from tests.delivery.helpdesk.fake_chatwoot import ACCOUNT, INBOX, FakeChatwoot
from tests.delivery.helpdesk.support import CASES, channel_of, complaint_by, deliver, helpdesk_settings

CASE = CASES[3]
assert CASE.kind == "chatwoot"
A = f"/api/v1/accounts/{ACCOUNT}"


def test_opening_a_conversation_sends_what_chatwoot_documents(fake: FakeChatwoot, store: Store,
                                                              clock: FakeClock) -> None:
    settings = helpdesk_settings(CASE, fake.base_url, store.url, join="off")  # two complaints, two conversations
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme [click](javascript:x) <b>x</b> @everyone",
                           kind="hackernews", url="https://news.ycombinator.com/item?id=1")
    complaint_by(store, settings, clock, "kundin_77", "Acme again", kind="hackernews",
                 url="https://news.ycombinator.com/item?id=2")
    deliver(store, settings, clock)
    assert fake.violations == []
    calls = [(r.method, r.path.removeprefix(A)) for r in fake.requests]
    first = calls[:7]
    [cid] = [c["id"] for c in fake.conversations.values()
             if c["custom_attributes"]["listener_ticket"] == f"listener-task-{task_id}"]
    assert first == [("GET", "/contacts/search"), ("POST", "/contacts"), ("POST", "/conversations"),
                     ("POST", f"/conversations/{cid}/toggle_priority"), ("POST", f"/conversations/{cid}/labels"),
                     ("POST", f"/conversations/{cid}/messages"), ("POST", f"/conversations/{cid}/messages")]
    assert calls.count(("POST", "/contacts")) == 1  # the second task found the contact by identifier
    contact, conversation, priority, labels, opening, context = (json.loads(fake.requests[i].body)
                                                                 for i in range(1, 7))
    assert contact == {"inbox_id": INBOX, "name": "kundin_77", "identifier": "listener-contact-1",
                       "additional_attributes": {"platform": "hackernews",
                                                 "profile_url": "https://news.ycombinator.com/user?id=kundin_77"}}
    assert conversation["inbox_id"] == INBOX and conversation["status"] == "open"
    assert conversation["custom_attributes"] == {"listener_ticket": f"listener-task-{task_id}"}
    assert (priority, labels) == ({"priority": "high"}, {"labels": ["listener", "billing"]})
    assert (opening["message_type"], opening["private"]) == ("incoming", False)  # the customer's words
    assert "\\[click\\]" in opening["content"] and "\\<b\\>" in opening["content"]  # Markdown-escaped, no link
    assert "@\u200beveryone" in opening["content"]  # and it pings nobody
    assert (context["message_type"], context["private"]) == ("outgoing", True)


def test_the_read_back_is_one_page_of_the_inbox(fake: FakeChatwoot, settings: Settings, store: Store,
                                                clock: FakeClock) -> None:
    tasks = [complaint_by(store, settings, clock, f"user{i}", f"Acme problem {i}") for i in range(3)]
    deliver(store, settings, clock)
    ids = sorted(fake.conversations)
    fake.agent_reply(ids[1])
    fake.solve(ids[2])
    before = len(fake.requests)
    clock.advance(timedelta(minutes=5))
    report = read_back(channel_of(settings, store, clock))
    [call] = fake.requests[before:]
    assert (call.path, {k: v[0] for k, v in call.params.items()}) == (
        f"{A}/conversations", {"inbox_id": str(INBOX), "status": "all", "page": "1"})
    assert report.responded == [tasks[1]] and report.resolved == [tasks[2]]
