"""Zammad: the exact requests (docs.zammad.org) — customer found by login or created without e-mail, ticket with
group, priority, tags and the customer's first article, internal notes, one search by ids for the read-back, the
X-Hub-Signature webhook with its delivery id."""

from __future__ import annotations

import json
from datetime import timedelta

from listener.clock import FakeClock
from listener.config import Settings
from listener.delivery.helpdesk.status import read_back
from listener.delivery.helpdesk.webhooks import handle
from listener.store.engine import Store
from tests.delivery.helpdesk.fake_zammad import GROUP, FakeZammad
from tests.delivery.helpdesk.support import (
    CASES,
    HOOK_KEY,
    channel_of,
    complaint_by,
    deliver,
    helpdesk_settings,
    zammad_hook,
    zammad_sign,
)

CASE = CASES[2]
assert CASE.kind == "zammad"


def test_opening_a_ticket_sends_what_zammad_documents(fake: FakeZammad, store: Store, clock: FakeClock) -> None:
    settings = helpdesk_settings(CASE, fake.base_url, store.url, join="off")  # two complaints, two tickets
    task_id = complaint_by(store, settings, clock, "Kundin_77@social.example", "Acme charged twice",
                           kind="mastodon", url="https://social.example/@Kundin_77/1")
    complaint_by(store, settings, clock, "Kundin_77@social.example", "Acme, still!", kind="mastodon",
                 url="https://social.example/@Kundin_77/2")
    deliver(store, settings, clock)
    assert fake.violations == []
    calls = [(r.method, r.path) for r in fake.requests]
    assert calls[:5] == [("GET", "/api/v1/users/search"), ("POST", "/api/v1/users"), ("POST", "/api/v1/tickets"),
                         ("POST", "/api/v1/ticket_articles"), ("GET", "/api/v1/users/search")]
    assert calls.count(("POST", "/api/v1/users")) == 1  # the second task found its customer by login
    search = fake.requests[0].param("query")
    assert search == 'login:"listener-contact-1"'  # the contact's id (listener/contacts)
    user, ticket, note = (json.loads(fake.requests[i].body) for i in (1, 2, 3))
    assert user == {"login": "listener-contact-1",
                    "firstname": "Kundin_77@social.example", "lastname": "",
                    "web": "https://social.example/@Kundin_77", "note": "mastodon account, handed over by listener"}
    assert (ticket["group"], ticket["priority"], ticket["tags"]) == (
        GROUP, "2 normal", f"listener,billing,listener-task-{task_id}")
    assert ticket["article"] == {**ticket["article"], "type": "note", "internal": False, "sender": "Customer",
                                 "origin_by_id": ticket["customer_id"], "content_type": "text/plain"}
    assert "Acme charged twice" in ticket["article"]["body"]
    assert note["internal"] is True and "Flagged by listener" in note["body"]


def test_the_read_back_is_one_search_by_ids(fake: FakeZammad, settings: Settings, store: Store,
                                            clock: FakeClock) -> None:
    tasks = [complaint_by(store, settings, clock, f"user{i}", f"Acme problem {i}") for i in range(3)]
    deliver(store, settings, clock)
    ids = sorted(fake.tickets)
    fake.solve(ids[0])
    before = len(fake.requests)
    clock.advance(timedelta(minutes=5))
    report = read_back(channel_of(settings, store, clock))
    [call] = fake.requests[before:]
    assert call.path == "/api/v1/tickets/search"
    assert call.param("query") == "id:(" + " OR ".join(map(str, ids)) + ")" and call.param("expand") == "true"
    assert report.resolved == [tasks[0]]


def test_a_webhook_without_its_delivery_id_is_refused(fake: FakeZammad, settings: Settings, store: Store,
                                                      clock: FakeClock) -> None:
    complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    deliver(store, settings, clock)
    body = zammad_hook(sorted(fake.tickets)[0], "")
    signed = {k.lower(): v for k, v in zammad_sign(HOOK_KEY, body, clock.now()).items()}
    assert handle(channel_of(settings, store, clock), signed, body)[0] == 401
    assert handle(channel_of(settings, store, clock), {**signed, "x-zammad-delivery": "job-1"}, body)[0] == 200


def test_the_customers_next_post_is_an_article_on_their_behalf(fake: FakeZammad, settings: Settings, store: Store,
                                                                clock: FakeClock) -> None:
    from tests.delivery.helpdesk.support import later_mention

    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme billing is broken")
    deliver(store, settings, clock)
    later_mention(store, clock, task_id, "Acme, hello? Still double charged.")
    deliver(store, settings, clock)
    [ticket] = fake.tickets
    last = fake.articles[ticket][-1]
    assert (last["sender"], last["internal"], last["origin_by_id"]) == (
        "Customer", False, fake.tickets[ticket]["customer_id"])
    assert "Still double charged" in last["body"] and fake.violations == []
