"""The reply section of the task page without a browser (every step works without JavaScript): a template put
into the composer by a link, the preview (escaped), a reply too long for the platform refused with its text kept,
roles and CSRF, the copy-and-open flow where the platform has no write API or replies are off, a failed reply
shown with the platform's error and resent, an unknown outcome settled, the Replies page and the contact history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from listener.clock import FakeClock
from listener.config import Settings
from listener.replies.clients import ReplyClients
from listener.replies.outbox import deliver_replies
from listener.store.engine import Store, upgrade
from listener.store.models import ReplyRow, ReplyTemplate
from tests.replies.fakes import DiscourseFake
from tests.replies.helpers import discourse_source, seed_task, settings_with
from tests.web_support import SECRET_ENV, add_users, csrf_of, serving, sign_in

HOSTILE = 'Acme lost my parcel <script>alert("x")</script> again'


@pytest.fixture
def forum(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscourseFake]:
    monkeypatch.setenv(SECRET_ENV, "reply-web-test")
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with DiscourseFake() as server:
        yield server


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    upgrade(s)
    yield s
    s.dispose()


def settings_for(store: Store, forum: DiscourseFake, **web: Any) -> Settings:
    from listener.demo.servers import free_port

    return settings_with(discourse_source(forum.base_url),
                         discourse_source(forum.base_url, name="quiet-forum", reply=False),
                         {"name": "news", "kind": "feed", "url": "https://example.org/feed.xml"},
                         db_url=store.engine.url.render_as_string(hide_password=False),
                         web={"listen": f"127.0.0.1:{free_port()}", **web})


def form_of(page: str, action: str) -> dict[str, str]:
    import re

    match = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert match, f"no form posting to {action}"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)))
    return fields


def test_compose_preview_send_and_the_limits_without_javascript(store: Store, forum: DiscourseFake,
                                                                 clock: FakeClock) -> None:
    settings = settings_for(store, forum)
    add_users(store, clock, anna="agent", vic="viewer")
    task_id = seed_task(store, clock, "forum", "discourse", "555", thread_id="101", reply_ref={"post_number": "2"},
                        author="jenny_k", text=HOSTILE)
    with store.write() as session:
        session.add(ReplyTemplate(name="Parcel", category="", language="en", updated_at=clock.now(),
                                  body="Hi {author}, {brand} is on it: {link} {unknown}"))
        session.flush()
        template_id = session.scalars(select(ReplyTemplate.id)).one()
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "anna")
        page = client.get(f"/tasks/{task_id}", params={"template": template_id}).text
        assert '<textarea id="reply-text" name="text"' in page
        assert "Hi jenny_k, Acme is on it:  {unknown}</textarea>" in page  # filled; unknown placeholders stay
        assert 'data-limit="32000"' in page and "Markdown is formatted on this platform." in page
        assert '<script>alert("x")</script>' not in page and "&lt;script&gt;" in page
        fields = form_of(page, f"/tasks/{task_id}/reply")
        text = "We are sorry! **Order 4711** is on its way."
        preview = client.post(f"/tasks/{task_id}/reply", data={**fields, "text": text, "do": "preview"})
        assert preview.status_code == 200 and 'class="pre preview-text">We are sorry! **Order 4711**' in preview.text
        assert f">{len(text)} / 32000</output>" in preview.text  # the count, without the script
        with store.read() as session:
            assert session.scalars(select(ReplyRow)).all() == []  # a preview stores nothing
        too_long = client.post(f"/tasks/{task_id}/reply", data={**fields, "text": "x" * 32001, "do": "send"})
        assert too_long.status_code == 409 and "allows 32000: shorten it by 1" in too_long.text
        assert "x" * 32001 + "</textarea>" in too_long.text  # the agent's text is kept
        sent = client.post(f"/tasks/{task_id}/reply", data={**fields, "text": text, "do": "send"})
        again = client.post(f"/tasks/{task_id}/reply", data={**fields, "text": text, "do": "send"})  # double click
        assert sent.status_code == again.status_code == 303
        with store.read() as session:
            assert [(r.status, r.author) for r in session.scalars(select(ReplyRow))] == [("queued", "anna")]
        no_csrf = client.post(f"/tasks/{task_id}/reply", data={"text": text, "do": "send"})
        assert no_csrf.status_code == 403
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as viewer:
        sign_in(viewer, "vic")
        page = viewer.get(f"/tasks/{task_id}").text
        assert 'id="reply-text"' not in page
        token = csrf_of(page)
        refused = viewer.post(f"/tasks/{task_id}/reply", data={"csrf": token, "text": "hi there", "do": "send"})
        assert refused.status_code == 403


def test_copy_and_open_where_nothing_can_be_posted(store: Store, forum: DiscourseFake, clock: FakeClock) -> None:
    settings = settings_for(store, forum)
    add_users(store, clock, anna="agent")
    feed_task = seed_task(store, clock, "news", "feed", "n1")
    quiet_task = seed_task(store, clock, "quiet-forum", "discourse", "77", thread_id="101")
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "anna")
        page = client.get(f"/tasks/{feed_task}").text
        assert "This platform has no write API" in page and 'id="reply-text"' not in page
        assert "Mark responded" in page  # the agent's own answer still counts
        page = client.get(f"/tasks/{quiet_task}").text
        assert "switched off in the configuration (reply = false)" in page and 'id="reply-text"' not in page
        token = csrf_of(page)
        refused = client.post(f"/tasks/{feed_task}/reply", data={"csrf": token, "text": "Hello there", "do": "send"})
        assert refused.status_code == 409 and "has no write API" in refused.text


def test_a_failed_reply_shows_the_platforms_error_and_is_resent(store: Store, forum: DiscourseFake,
                                                                  clock: FakeClock) -> None:
    settings = settings_for(store, forum, reply_approval=["agent"])
    add_users(store, clock, anna="agent", lea="lead")
    task_id = seed_task(store, clock, "forum", "discourse", "555", thread_id="101", reply_ref={"post_number": "2"},
                        author="jenny_k")
    earlier = seed_task(store, clock, "forum", "discourse", "554", thread_id="101", author="jenny_k",
                        text="Acme, where is my parcel?")
    forum.closed.add(101)
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as agent, \
            httpx.Client(base_url=base) as lead:
        sign_in(agent, "anna")
        sign_in(lead, "lea")
        page = agent.get(f"/tasks/{task_id}").text
        assert "Your replies wait for a lead&#39;s approval" in page
        agent.post(f"/tasks/{task_id}/reply", data={**form_of(page, f"/tasks/{task_id}/reply"),
                                                     "text": "Sorry, we are on it today.", "do": "send"})
        waiting = lead.get("/replies").text
        assert f'href="/tasks/{task_id}#replies"' in waiting and "pending approval" in waiting
        with store.read() as session:
            reply_id = session.scalars(select(ReplyRow.id)).one()
        page = lead.get(f"/tasks/{task_id}").text
        lead.post(f"/replies/{reply_id}/act", data={"csrf": csrf_of(page), "action": "approve",
                                                     "text": "Sorry, we are on it today. — Lea"})
        assert deliver_replies(store, settings, ReplyClients(settings, clock), clock).failed == 1
        page = agent.get(f"/tasks/{task_id}").text
        assert "The platform said" in page and "This topic is closed" in page
        assert "Edit and send again" in page
        forum.closed.clear()
        agent.post(f"/replies/{reply_id}/act", data={"csrf": csrf_of(page), "action": "resend",
                                                      "text": "Sorry for the wait, we are on it today. — Lea"})
        with store.read() as session:
            assert session.get_one(ReplyRow, reply_id).status == "pending_approval"  # approval again
        page = lead.get(f"/tasks/{task_id}").text
        lead.post(f"/replies/{reply_id}/act", data={"csrf": csrf_of(page), "action": "approve", "text": ""})
        assert deliver_replies(store, settings, ReplyClients(settings, clock), clock).posted == 1
        page = agent.get(f"/tasks/{task_id}").text
        assert "Open the reply on the platform" in page and f'href="{forum.base_url}/t/parcel-lost/101/4"' in page
        assert [p["raw"] for p in forum.posts] == ["Sorry for the wait, we are on it today. — Lea"]
        # the customer's other task shows our answer in its contact history
        history = agent.get(f"/tasks/{earlier}").text
        assert f'<a href="{forum.base_url}/t/parcel-lost/101/4" rel="noopener noreferrer">our reply</a> (anna)' \
            in history


def test_an_unknown_outcome_is_settled_by_a_person(store: Store, forum: DiscourseFake, clock: FakeClock) -> None:
    settings = settings_for(store, forum)
    add_users(store, clock, anna="agent")
    task_id = seed_task(store, clock, "forum", "discourse", "555", thread_id="101")
    with store.write() as session:
        from listener.replies.service import submit

        reply = submit(session, settings, task_id, "Sorry! We are on it.", "anna", "agent", clock.now())
        reply.status, reply.last_error = "outcome_unknown", "an earlier attempt may have been posted"
        reply_id = reply.id
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "anna")
        page = client.get(f"/tasks/{task_id}").text
        assert "Look on the platform whether this reply was posted." in page
        bad = client.post(f"/replies/{reply_id}/act", data={"csrf": csrf_of(page), "action": "posted",
                                                             "url": "javascript:alert(1)"})
        assert bad.status_code == 409 and "http(s) URL" in bad.text
        client.post(f"/replies/{reply_id}/act", data={"csrf": csrf_of(page), "action": "posted",
                                                       "url": "https://forum.example/t/x/101/9"})
        page = client.get(f"/tasks/{task_id}").text
        assert 'href="https://forum.example/t/x/101/9"' in page and '<span class="status">responded</span>' in page
