"""The task page's contact actions over real HTTP: link a suggested contact, undo it, merge tasks; POSTs need the
session's CSRF token and an agent's role; the queue counts follow-ups; handles are escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from listener.clock import FakeClock
from listener.contacts.models import ContactLink
from listener.store.engine import Store, upgrade
from listener.store.models import TaskRow
from tests.contacts.support import complaint, platform, settings
from tests.web_support import SECRET_ENV, add_users, csrf_of, serving, sign_in, web_settings


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, str]]:
    monkeypatch.setenv(SECRET_ENV, "contacts-web-secret")
    store = Store(database_url)
    upgrade(store)
    yield store, database_url
    store.dispose()


def test_agent_links_undoes_and_merges_on_the_task_page(db: tuple[Store, str], clock: FakeClock) -> None:
    store, url = db
    cfg = settings()
    forum, mastodon = platform("discourse", "forum", clock), platform("mastodon", "mastodon", clock)
    _, task = complaint(store, cfg, clock, forum, "kundin_77", text="Acme hat mein Paket verloren")
    clock.advance(timedelta(minutes=30))
    _, joined = complaint(store, cfg, clock, forum, "kundin_77", text="Acme, ich warte immer noch!")
    assert joined == task
    _, other = complaint(store, cfg, clock, mastodon, "Kundin77", url="https://mastodon.social/@k/1",
                         text="Acme bucht doppelt ab", author_name="<img src=x onerror=alert(1)>")
    add_users(store, clock, alice="agent", vera="viewer")
    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "alice")
        page = client.get(f"/tasks/{task}").text
        assert "Follow-ups" in page and "Acme, ich warte immer noch!" in page
        assert "May be the same person" in page and "mastodon Kundin77" in page
        assert "Acme bucht doppelt ab" not in page  # not linked: not in the history
        queue = client.get("/queue/fragment").text
        assert re.search(rf'data-task="{task}".*?\+1 follow-up<', queue, re.S)
        token = csrf_of(page)
        other_contact = re.search(r'name="contact" value="(\d+)"', page)
        assert other_contact
        act = f"/tasks/{task}/act"
        assert client.post(act, data={"action": "link", "contact": other_contact.group(1)}).status_code == 403
        answer = client.post(act, data={"csrf": token, "action": "link", "contact": other_contact.group(1),
                                        "reason": "same name"})
        assert answer.status_code == 303
        page = client.get(f"/tasks/{task}").text
        assert "Acme bucht doppelt ab" in page and "contacts linked" in page
        assert "“&lt;img src=x onerror=alert(1)&gt;”" in page and "<img src=x" not in page
        assert "May be the same person" not in page
        # Linked, the Mastodon task is this contact's other open task: merge it in.
        assert f'<option value="{other}">' in page
        bad = client.post(act, data={"csrf": token, "action": "merge", "into": "abc"})
        assert bad.status_code == 409 and "give the number of the task to merge into" in bad.text
        assert client.post(f"/tasks/{other}/act", data={"csrf": token, "action": "merge", "into": str(task)}
                           ).status_code == 303
        merged_page = client.get(f"/tasks/{other}").text
        assert "This task was merged into" in merged_page and f'href="/tasks/{task}"' in merged_page
        with store.read() as session:
            assert session.get_one(TaskRow, other).status == "merged"
            link_id = session.scalars(select(ContactLink.id)).one()
        assert client.post(act, data={"csrf": token, "action": "unlink", "link": str(link_id)}).status_code == 303
        page = client.get(f"/tasks/{task}").text
        assert "link undone" in page and "Undo link" not in page
        again = client.post(act, data={"csrf": token, "action": "unlink", "link": str(link_id)})
        assert again.status_code == 409 and "was already undone by alice" in again.text

    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "vera")
        page = client.get(f"/tasks/{task}").text
        assert "Same person: link" not in page and "Merge" not in page
        refused = client.post(f"/tasks/{task}/act", data={"csrf": csrf_of(page), "action": "link", "contact": "1"})
        assert refused.status_code == 403
