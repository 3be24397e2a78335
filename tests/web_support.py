"""Helpers for the care-inbox tests: the app served by uvicorn on a free loopback port, seeded tasks, sign-in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from listener.clock import Clock, FakeClock
from listener.config import Settings, parse_settings
from listener.contacts.ingest import link_row
from listener.demo.servers import free_port
from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow, TaskRow
from listener.web.server import BackgroundServer, make_server
from listener.web.users import add_user

SECRET_ENV = "LISTENER_WEB_SESSION_SECRET"
PASSWORD = "correct horse battery"


def web_settings(db_url: str, **web: Any) -> Settings:
    raw: dict[str, Any] = {"database": {"url": db_url},
                           "brand": [{"name": "Acme", "terms": ["Acme"]}],
                           "web": {"listen": f"127.0.0.1:{free_port()}", "refresh": "1s", **web}}
    return parse_settings(raw)


@contextmanager
def serving(settings: Settings, store: Store, clock: Clock) -> Iterator[str]:
    assert settings.web is not None
    server = BackgroundServer(make_server(settings, store, clock))
    server.start()
    try:
        yield f"http://{settings.web.listen}"
    finally:
        server.stop()


def add_users(store: Store, clock: Clock, **roles: str) -> None:
    with store.write() as session:
        for name, role in roles.items():
            add_user(session, name, role, PASSWORD, clock.now())


def seed_task(store: Store, clock: FakeClock, *, text: str = "Acme lost my parcel again", title: str | None = None,
              author: str | None = "anna", url: str | None = "https://forum.example/t/1", source: str = "forum",
              due_in: timedelta = timedelta(minutes=15), priority: str = "P2", status: str = "open",
              categories: tuple[str, ...] = ("delivery",), language: str = "en") -> int:
    """A stored, scored mention of Acme with an open task; returns the task id."""
    now = clock.now()
    with store.write() as session:
        src = session.query(SourceRow).filter_by(name=source).one_or_none()
        if src is None:
            src = SourceRow(name=source, kind="feed", cursor={})
            session.add(src)
            session.flush()
        n = session.query(MentionRow).count() + 1
        mention = MentionRow(source_id=src.id, source_kind="feed", external_id=f"x{n}", url=url, author=author,
                             title=title, text=text, published_at=now, fetched_at=now, reach={"likes": 3},
                             content_hash=f"h{n}")
        mention.brands = [MentionBrand(brand="Acme")]
        session.add(mention)
        session.flush()
        link_row(session, mention, now)  # its author's identity and contact, as a poll links it
        session.add(ScoreRow(mention_id=mention.id, model_version="test", language=language, sentiment="negative",
                             p_negative=0.9, p_neutral=0.05, p_positive=0.05, categories=list(categories),
                             negative_service=bool(categories), urgency=priority, reasons=["negative 90%"],
                             scored_at=now))
        task = TaskRow(mention_id=mention.id, rule="negative", status=status, priority=priority,
                       reasons=["negative 90%", "rule negative"], created_at=now, due_at=now + due_in)
        session.add(task)
        session.flush()
        return task.id


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/queue"})


def alert_links(email: EmailMessage, chats: list[dict[str, Any]], base: str) -> tuple[str, list[str], int]:
    """The task link and the signed acknowledge links of an alert: the e-mail's (text and HTML parts alike) and the
    chat message's about the same task. The two are signed when each is sent, so their tokens may differ by the
    second; returns (task URL, [e-mail's acknowledge URL, chat's], task id)."""
    text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    task_url = re.search(rf"Task:\s+({re.escape(base)}/tasks/(\d+))", text)
    ack_url = re.search(rf"Acknowledge:\s+({re.escape(base)}/ack/\S+)", text)
    assert task_url and ack_url, text
    assert f'href="{task_url.group(1)}"' in html and f'href="{ack_url.group(1)}"' in html
    chat = next((c["text"] for c in chats if f"<{task_url.group(1)}|" in c["text"]), None)
    assert chat is not None, [c["text"] for c in chats]
    chat_ack = re.search(rf"<({re.escape(base)}/ack/[^|>\s]+)\|acknowledge>", chat)
    assert f"<{task_url.group(1)}|open the task>" in chat and chat_ack, chat
    return task_url.group(1), [ack_url.group(1), chat_ack.group(1)], int(task_url.group(2))


def acknowledge_by_link(base: str, name: str, task_url: str, ack_urls: list[str], task_id: int) -> None:
    """Signed in as `name`, each acknowledge link shows the task's confirmation page; the first one's button
    acknowledges the task."""
    with httpx.Client(base_url=base, timeout=20) as client:
        assert sign_in(client, name).status_code == 303
        pages = [client.get(url) for url in ack_urls]
        assert all(p.status_code == 200 and f"Acknowledge task #{task_id}" in p.text for p in pages)
        assert client.post(ack_urls[0], data={"csrf": csrf_of(pages[0].text)}).status_code == 303
        assert "acknowledged" in client.get(task_url).text
