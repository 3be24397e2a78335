"""What the care inbox shows and does: queue order and facets, the task page's history, actions and their log
(shared with the CLI), reply templates, the response-time report, German and English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from listener.acting.activity import perform
from listener.cli import cli
from listener.clock import FakeClock
from listener.contacts.linking import link
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, TaskRow
from listener.web.queue import build_queue
from listener.web.taskview import task_view
from tests.web_support import PASSWORD, SECRET_ENV, add_users, csrf_of, seed_task, serving, sign_in, web_settings

TEMPLATE_STRINGS = re.compile(r"""_\((["'])(.+?)\1\)""")


@pytest.fixture
def db(database_url: str) -> Iterator[tuple[Store, FakeClock, str]]:
    """SQLite and, where .ci/run provides one, PostgreSQL."""
    url = database_url
    store = Store(url)
    upgrade(store)
    yield store, FakeClock(), url
    store.dispose()


def test_queue_puts_overdue_first_then_due_time_then_priority_and_counts_facets(db: tuple[Store, FakeClock, str]
                                                                                ) -> None:
    store, clock, _ = db
    later_p1 = seed_task(store, clock, priority="P1", due_in=timedelta(minutes=30), source="reviews")
    soon_p3 = seed_task(store, clock, priority="P3", due_in=timedelta(minutes=10), language="de")
    soon_p2 = seed_task(store, clock, priority="P2", due_in=timedelta(minutes=10), categories=("billing",))
    overdue = seed_task(store, clock, priority="P3", due_in=timedelta(minutes=-5))
    answered = seed_task(store, clock, priority="P2", due_in=timedelta(minutes=-50), status="responded")
    seed_task(store, clock, status="resolved")
    with store.read() as session:
        queue = build_queue(session, clock.now(), {})
        assert [i.task_id for i in queue.items] == [overdue, answered, soon_p2, soon_p3, later_p1]
        assert queue.overdue == 1 and queue.open_total == 5  # answered late is not overdue any more
        counts = {facet: dict(values) for facet, values in queue.counts.items()}
        assert counts["priority"] == {"P1": 1, "P2": 2, "P3": 2}
        assert counts["category"] == {"delivery": 4, "billing": 1}
        assert counts["source"] == {"forum": 4, "reviews": 1}
        assert counts["language"] == {"en": 4, "de": 1}
        filtered = build_queue(session, clock.now(), {"priority": "P3"})
        assert [i.task_id for i in filtered.items] == [overdue, soon_p3]
        # A facet's counts ignore its own filter (so other values stay reachable) but honour the others.
        assert dict(filtered.counts["priority"]) == {"P1": 1, "P2": 2, "P3": 2}
        assert dict(filtered.counts["language"]) == {"en": 1, "de": 1}


def test_task_page_shows_copies_and_the_contacts_history(db: tuple[Store, FakeClock, str]) -> None:
    """The history is the contact's: anna's mentions on this site; her namesake on another site only once an
    agent linked the two (docs/contacts.md)."""
    store, clock, _ = db
    first = seed_task(store, clock, text="Acme parcel lost", author="anna", status="resolved")
    clock.advance(timedelta(days=2))
    elsewhere = seed_task(store, clock, text="Acme on another site", author="anna", source="reviews",
                          url="https://reviews.example/r/7")
    seed_task(store, clock, text="someone else", author="bert")
    current = seed_task(store, clock, text="Acme parcel lost again", author="anna")
    with store.write() as session:
        task = session.get_one(TaskRow, current)
        copy = MentionRow(source_id=task.mention.source_id, source_kind="feed", external_id="copy", text="copy",
                          fetched_at=clock.now(), content_hash="c", canonical_id=task.mention_id, reach={})
        session.add(copy)
    with store.read() as session:
        view = task_view(session, current)
        assert view is not None
        assert [c.text for c in view.copies] == ["copy"]
        assert [(e.text, e.task.id if e.task else None) for e in view.history] == [("Acme parcel lost", first)]
        assert [s.reasons for s in view.contact.suggestions] == [["same name: feed “anna”, feed “anna”"]]
        other = view.contact.suggestions[0].contact.id
        assert view.contact.contact is not None
        here = view.contact.contact.id
    with store.write() as session:
        link(session, here, other, "alice", clock.now(), "same name")
    with store.read() as session:
        view = task_view(session, current)
        assert view is not None
        history = [(e.text, e.task.id if e.task else None, e.platform, e.source) for e in view.history]
        # Newest first, each with its platform; bert is not in anna's history.
        assert history == [("Acme on another site", elsewhere, "feed", "reviews"),
                           ("Acme parcel lost", first, "feed", "forum")]


def test_cli_and_web_actions_share_one_log(db: tuple[Store, FakeClock, str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store, clock, url = db
    monkeypatch.setenv(SECRET_ENV, "inbox-test-secret")
    add_users(store, clock, alice="agent")
    task_id = seed_task(store, clock)
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "tasks", "ack", str(task_id), "--by", "bob"])
    assert result.exit_code == 0, result.output
    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "alice")
        token = csrf_of(client.get(f"/tasks/{task_id}").text)
        act = f"/tasks/{task_id}/act"
        assert client.post(act, data={"csrf": token, "action": "assign", "assignee": "me"}).status_code == 303
        assert client.post(act, data={"csrf": token, "action": "note", "note": "called her"}).status_code == 303
        assert client.post(act, data={"csrf": token, "action": "respond",
                                      "note": "https://forum.example/t/1#reply"}).status_code == 303
        bad = client.post(act, data={"csrf": token, "action": "label", "sentiment": "positive",
                                     "category": "billing"})
        assert bad.status_code == 409 and "negative service experience is negative" in bad.text
        page = client.get(f"/tasks/{task_id}").text
        queue = client.get("/queue/fragment?assignee=alice").text
    log = re.findall(r"<strong>(\w+)</strong>: ([^<]+)", page)  # (the CLI's entry has the real clock's time)
    assert sorted(log) == [("alice", "assigned: alice"), ("alice", "note: called her"),
                           ("alice", "responded: https://forum.example/t/1#reply"), ("bob", "acknowledged")]
    assert f'data-task="{task_id}"' in queue
    with store.read() as session:
        task = session.get_one(TaskRow, task_id)
        assert task.status == "responded" and task.note == "https://forum.example/t/1#reply"
        assert task.mention.label is None  # the refused verdict stored nothing


def test_response_time_page_shows_the_alerting_report(db: tuple[Store, FakeClock, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store, clock, url = db
    monkeypatch.setenv(SECRET_ENV, "inbox-test-secret")
    add_users(store, clock, lea="lead")
    fast, slow, dismissed = (seed_task(store, clock, due_in=timedelta(minutes=15)) for _ in range(3))
    with store.write() as session:
        perform(session, fast, "respond", "a", clock.now() + timedelta(minutes=10), None)
        perform(session, slow, "respond", "a", clock.now() + timedelta(minutes=40), None)
        perform(session, dismissed, "dismiss", "a", clock.now() + timedelta(minutes=1), None)
    clock.advance(timedelta(hours=1))
    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "lea")
        page = client.get("/report?days=7").text
    cells = re.findall(r"<tr><th scope=\"row\">all tasks</th>(.*?)</tr>", page, flags=re.S)[0]
    values = re.findall(r"<td>([^<]*)</td>", cells)
    # created, responded, median/p90 business (no hours configured: calendar), median/p90 calendar, in time,
    # dismissed share, open
    assert values[0:2] == ["3", "2"] and values[4] == "25 min" and values[6] == "50 %" and values[8] == "0"


def test_german_from_the_browser_or_the_users_choice(db: tuple[Store, FakeClock, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    store, clock, url = db
    monkeypatch.setenv(SECRET_ENV, "inbox-test-secret")
    add_users(store, clock, alice="agent")
    task_id = seed_task(store, clock)
    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "alice")
        german = client.get(f"/tasks/{task_id}", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).text
        assert '<html lang="de">' in german and "Kontaktverlauf" in german and "Annehmen" in german
        assert "05.01.2026" in german  # Babel's German date
        english = client.get(f"/tasks/{task_id}", headers={"Accept-Language": "en-US,de;q=0.5"}).text
        assert "Contact history" in english and "Jan 5, 2026" in english
        token = csrf_of(english)
        client.post("/prefs/language", data={"csrf": token, "language": "de", "next": "/queue"})
        chosen = client.get("/queue", headers={"Accept-Language": "en-US"}).text
        assert "Warteschlange" in chosen and "Offene Aufgaben" in chosen


def test_every_template_string_has_a_german_translation() -> None:
    from listener.web.app import ACTION_LABELS
    from listener.web.german import GERMAN

    folder = Path(__file__).parents[2] / "listener" / "web" / "templates"
    strings = {m.group(2) for path in folder.glob("*.html") for m in TEMPLATE_STRINGS.finditer(path.read_text())}
    strings |= set(ACTION_LABELS.values())
    assert len(strings) > 100
    assert sorted(s for s in strings if s not in GERMAN) == []


def test_users_cli(tmp_path: Path) -> None:
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "l.db"}"\n')

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["-c", str(config), "users", *args], input=stdin)
        return result.exit_code, result.output

    assert run("add", "alice", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    assert run("add", "bob", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n")[0] == 0  # prompt, twice
    code, out = run("add", "alice", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n")
    assert code != 0 and "exists already" in out
    code, out = run("add", "carl", "--role", "lead", "--password-stdin", stdin="short\n")
    assert code != 0 and "at least 10 characters" in out
    assert run("add", "proxyuser", "--role", "lead", "--no-password")[0] == 0
    assert run("disable", "bob")[0] == 0
    assert run("passwd", "alice", "--password-stdin", stdin="another long one\n")[0] == 0
    assert run("role", "alice", "lead")[0] == 0
    out = run("list")[1]
    assert re.search(r"alice\s+lead\s+active", out) and re.search(r"bob\s+viewer\s+disabled", out)
    assert re.search(r"proxyuser\s+lead\s+proxy only", out)
    code, out = run("disable", "nobody")
    assert code != 0 and "no user 'nobody'" in out


def test_queue_cache_is_shared_until_tasks_change_or_it_expires(db: tuple[Store, FakeClock, str]) -> None:
    from listener.acting.activity import assign
    from listener.web.queue import SNAPSHOT_TTL, QueueCache

    store, clock, _ = db
    cache = QueueCache()
    first = seed_task(store, clock)

    def get() -> object:
        with store.read() as session:
            return cache.get(session, clock.now(), {"brand": "Acme"})

    built = get()
    assert get() is built  # another agent, same view: the same computation
    for change in (lambda s: perform(s, first, "ack", "anna", clock.now()),
                   lambda s: assign(s, first, "anna", "anna", clock.now())):
        with store.write() as session:
            change(session)
        rebuilt = get()
        assert rebuilt is not built
        built = rebuilt
    seed_task(store, clock)  # a new task
    assert (rebuilt := get()) is not built and rebuilt.open_total == 2  # type: ignore[attr-defined]
    clock.advance(SNAPSHOT_TTL)
    assert get() is not rebuilt


def test_task_page_counts_time_left_in_the_rules_business_hours(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from listener.config import parse_settings
    from listener.demo.servers import free_port

    monkeypatch.setenv(SECRET_ENV, "inbox-test-secret")
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store)
    clock = FakeClock(datetime(2026, 1, 5, 16, 50, tzinfo=UTC))  # Monday 17:50 in Berlin, ten minutes to closing
    add_users(store, clock, alice="agent")
    task_id = seed_task(store, clock, due_in=timedelta(hours=15, minutes=10))  # Tuesday 09:00 Berlin
    settings = parse_settings({
        "database": {"url": url}, "brand": [{"name": "Acme", "terms": ["Acme"]}],
        "hours": [{"name": "care-de", "timezone": "Europe/Berlin",
                   "week": {"mon": "08:00-18:00", "tue": "08:00-18:00"}}],
        "rule": [{"name": "negative", "when": {"sentiment": "negative"},
                  "task": {"priority": "P2", "first_response": "1h10m", "hours": "care-de"}}],
        "web": {"listen": f"127.0.0.1:{free_port()}"}})
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "alice")
        page = client.get(f"/tasks/{task_id}").text
    assert "in 15 hours" in page  # clock time
    assert "business hours left: 70 minutes" in page  # 10 on Monday, 60 on Tuesday morning
    store.dispose()
