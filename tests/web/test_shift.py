"""A shift in the care inbox over real HTTP: views, sorting and search; bulk actions; a refused stale action and
the notice of someone else's change; reopening; what a closed task offers; a task made by hand from the Mentions
page; German reasons and errors; dates in the browser's own locale."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from listener.acting.activity import assign, perform
from listener.clock import FakeClock
from listener.config import parse_settings
from listener.demo.servers import free_port
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, ScoreRow, TaskRow
from tests.web_support import SECRET_ENV, add_users, csrf_of, seed_task, serving, sign_in

TASKS = re.compile(r'data-task="(\d+)"')


@dataclass
class Shift:
    base: str
    store: Store
    clock: FakeClock

    def signed_in(self, name: str, **headers: str) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=30, headers=headers)
        assert sign_in(client, name).status_code == 303
        return client

    def task(self, task_id: int) -> TaskRow:
        with self.store.read() as session:
            return session.get_one(TaskRow, task_id)

    def act(self, task_id: int, action: str, actor: str) -> None:
        with self.store.write() as session:
            if action.startswith("assign:"):
                assign(session, task_id, action.split(":", 1)[1] or None, actor, self.clock.now())
            else:
                perform(session, task_id, action, actor, self.clock.now())


@pytest.fixture
def shift(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Shift]:
    monkeypatch.setenv(SECRET_ENV, "shift-test-secret")
    store = Store(database_url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, alice="agent", ben="agent", vic="viewer")
    settings = parse_settings({
        "database": {"url": database_url}, "brand": [{"name": "Acme", "terms": ["Acme"]}],
        "rule": [{"name": "negative", "when": {"sentiment": "negative"}, "task": {"first_response": "1h"}}],
        "web": {"listen": f"127.0.0.1:{free_port()}", "refresh": "1s"}})
    with serving(settings, store, clock) as base:
        yield Shift(base, store, clock)
    store.dispose()


def ids(html: str) -> list[int]:
    return [int(i) for i in TASKS.findall(html)]


def test_views_sorting_and_search(shift: Shift) -> None:
    s, clock = shift, shift.clock
    late = seed_task(s.store, clock, text="Acme refund missing for weeks", due_in=timedelta(minutes=-5),
                     priority="P3")
    mine = seed_task(s.store, clock, text="Acme app crashes", due_in=timedelta(minutes=30), priority="P2")
    bens = seed_task(s.store, clock, text="Acme refund again", due_in=timedelta(minutes=20), priority="P1")
    free = seed_task(s.store, clock, text="Acme branch closed", title="Closed branch", due_in=timedelta(hours=2),
                     priority="P1", author="Refund_Rita")
    clock.advance(timedelta(seconds=1))
    s.act(mine, "assign:alice", "lead")
    s.act(bens, "assign:ben", "lead")
    s.act(late, "assign:ben", "lead")
    alice = s.signed_in("alice")
    assert ids(alice.get("/queue/fragment").text) == [late, bens, mine, free]
    assert ids(alice.get("/queue/fragment?view=mine").text) == [mine]
    assert ids(alice.get("/queue/fragment?view=unassigned").text) == [free]
    assert ids(alice.get("/queue/fragment?view=overdue").text) == [late]
    assert ids(alice.get("/queue/fragment?sort=priority").text) == [bens, free, mine, late]
    assert ids(alice.get("/queue/fragment?sort=newest").text) == [free, bens, mine, late]
    # search: text, title and author, case-insensitive; with a view and a facet together
    assert ids(alice.get("/queue/fragment?q=REFUND").text) == [late, bens, free]
    assert ids(alice.get("/queue/fragment?q=refund&view=mine").text) == []
    page = alice.get("/queue?q=refund&sort=priority&priority=P1").text
    assert ids(page) == [bens, free]
    # the view, sort and search travel with every facet link
    assert re.search(r'href="\?[^"]*q=refund[^"]*sort=priority', page) or \
        re.search(r'href="\?[^"]*sort=priority[^"]*q=refund', page)
    assert alice.get("/queue?sort=sideways").status_code == 400 and alice.get("/queue?view=theirs").status_code == 400


def test_bulk_actions_skip_what_changed_meanwhile(shift: Shift) -> None:
    s = shift
    a, b, c, d = (seed_task(s.store, s.clock) for _ in range(4))
    alice = s.signed_in("alice")
    page = alice.get("/queue").text
    token = csrf_of(page)
    boxes = dict(re.findall(r'name="task" value="((\d+):\d+)"', page))
    picked = [v for v, k in boxes.items() if int(k) in (a, b, c)]
    s.clock.advance(timedelta(minutes=1))
    s.act(c, "resolve", "ben")  # while alice's list still shows it open
    assert alice.post("/queue/bulk", data={"action": "ack", "task": picked}).status_code == 403  # no token
    response = alice.post("/queue/bulk", data={"csrf": token, "action": "ack", "task": picked, "next": "/queue"})
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    assert [s.task(t).status for t in (a, b, c, d)] == ["acknowledged", "acknowledged", "resolved", "open"]
    flash = alice.get("/queue").text
    assert "2 tasks acknowledged." in flash and f"#{c}: ben resolved it" in flash
    assert "2 tasks acknowledged." not in alice.get("/queue").text  # said once
    # assign two to ben; one of them is closed, the other open
    response = alice.post("/queue/bulk", data={"csrf": token, "action": "assign", "assignee": "ben",
                                               "task": [str(a), str(d)]})
    assert response.status_code == 303 and (s.task(a).assignee, s.task(d).assignee) == ("ben", "ben")
    german = s.signed_in("alice", **{"Accept-Language": "de"})
    german.post("/queue/bulk", data={"csrf": csrf_of(german.get("/queue").text), "action": "resolve",
                                     "task": [f"{c}:0"]})
    assert "Nicht geändert:" in german.get("/queue").text
    viewer = s.signed_in("vic")
    assert viewer.post("/queue/bulk", data={"csrf": csrf_of(viewer.get("/queue").text), "action": "ack",
                                            "task": [str(d)]}).status_code == 403
    assert 'form="bulk"' not in viewer.get("/queue").text


def test_a_stale_action_is_refused_and_says_what_changed(shift: Shift) -> None:
    s = shift
    task_id = seed_task(s.store, s.clock)
    alice = s.signed_in("alice")
    page = alice.get(f"/tasks/{task_id}").text
    token, version = csrf_of(page), re.search(r'name="version" value="(\d+)"', page)
    assert version and version.group(1) == "0"
    assert alice.get(f"/tasks/{task_id}/changes?since=0").status_code == 204
    s.clock.advance(timedelta(minutes=2))
    s.act(task_id, "resolve", "ben")
    notice = alice.get(f"/tasks/{task_id}/changes?since=0")
    assert notice.status_code == 200 and "ben resolved it" in notice.text and 'role="alert"' in notice.text
    for form in ({"action": "ack"}, {"action": "assign", "assignee": "me"},
                 {"action": "label", "sentiment": "neutral"}):
        refused = alice.post(f"/tasks/{task_id}/act", data={**form, "csrf": token, "version": "0"})
        assert refused.status_code == 409 and "Since you opened this task: ben resolved it" in refused.text, form
    assert s.task(task_id).assignee is None
    # a note changes nothing anyone did: it goes through
    assert alice.post(f"/tasks/{task_id}/act", data={"action": "note", "note": "called her", "csrf": token,
                                                     "version": "0"}).status_code == 303
    assert alice.get(f"/tasks/{task_id}/changes?since=0").text.count("added a note") == 0  # alice's own
    german = s.signed_in("alice", **{"Accept-Language": "de-DE"})
    refused = german.post(f"/tasks/{task_id}/act", data={"action": "reopen", "csrf": csrf_of(
        german.get(f"/tasks/{task_id}").text), "version": "0"})
    assert refused.status_code == 409 and "Seit Sie diese Aufgabe geöffnet haben: ben hat sie erledigt" in refused.text


def test_closed_tasks_offer_only_reopening_and_the_verdict(shift: Shift) -> None:
    s = shift
    task_id = seed_task(s.store, s.clock)
    alice = s.signed_in("alice")
    s.act(task_id, "respond", "alice")
    responded = alice.get(f"/tasks/{task_id}").text
    assert "Mark responded" not in responded and 'value="assign"' in responded and 'value="ack"' not in responded
    s.act(task_id, "resolve", "alice")
    page = alice.get(f"/tasks/{task_id}").text
    assert "This task is closed." in page and 'value="reopen"' in page
    for offered in ('value="respond"', 'value="assign"', 'value="note"', 'value="ack"', 'value="resolve"'):
        assert offered not in page, offered
    assert 'value="label"' in page  # the verdict can still be corrected: that is training data
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    response = alice.post(f"/tasks/{task_id}/act", data={"action": "reopen", "csrf": csrf_of(page),
                                                         "version": version.group(1)})
    assert response.status_code == 303
    task = s.task(task_id)
    assert task.status == "responded" and task.closed_at is None  # it had its first response
    assert "alice</strong>: reopened" in alice.get(f"/tasks/{task_id}").text
    wrong = alice.post(f"/tasks/{task_id}/act", data={"action": "ack", "csrf": csrf_of(page)},
                       headers={"Accept-Language": "de"})
    assert wrong.status_code == 409 and "ist beantwortet; sie lässt sich nicht annehmen" in wrong.text


def test_a_task_by_hand_from_the_mentions_page(shift: Shift) -> None:
    s = shift
    existing = seed_task(s.store, s.clock)
    with s.store.write() as session:  # a post the model called neutral: no task
        mention = session.get_one(TaskRow, existing).mention
        missed = MentionRow(source_id=mention.source_id, source_kind="feed", external_id="missed", author="rita",
                            text="Acme, ich warte seit drei Wochen auf meine Karte", published_at=s.clock.now(),
                            fetched_at=s.clock.now(), content_hash="m", reach={})
        session.add(missed)
        session.flush()
        session.add(ScoreRow(mention_id=missed.id, model_version="t", language="de", sentiment="neutral",
                             p_negative=0.2, p_neutral=0.7, p_positive=0.1, categories=[], negative_service=False,
                             urgency="none", reasons=[], scored_at=s.clock.now()))
        missed_id = missed.id
    alice = s.signed_in("alice")
    page = alice.get("/mentions").text
    assert f'action="/mentions/{missed_id}/task"' in page and f'action="/mentions/{mention.id}/task"' not in page
    response = alice.post(f"/mentions/{missed_id}/task", data={"csrf": csrf_of(page), "priority": "P1",
                                                               "deadline_rule": "negative"})
    assert response.status_code == 303
    task_id = int(response.headers["location"].rsplit("/", 1)[1])
    task = s.task(task_id)
    assert (task.rule, task.priority, task.status, task.assignee) == ("manual", "P1", "open", "alice")
    assert task.due_at == s.clock.now() + timedelta(hours=1)  # the chosen rule's first response
    german = alice.get(f"/tasks/{task_id}", headers={"Accept-Language": "de"}).text
    assert "von alice auf der Seite Erwähnungen angelegt" in german and "Frist nach Regel negative" in german
    again = alice.post(f"/mentions/{missed_id}/task", data={"csrf": csrf_of(page), "priority": "P2"})
    assert again.status_code == 409 and f"has task #{task_id} already" in again.text
    assert alice.post(f"/mentions/{missed_id}/task", data={"csrf": csrf_of(page), "deadline_rule": "nope"}
                      ).status_code == 400
    viewer = s.signed_in("vic")
    assert "/task\"" not in viewer.get("/mentions").text
    assert viewer.post(f"/mentions/{existing}/task", data={"csrf": csrf_of(page)}).status_code in (403, 303)


def test_reasons_in_german_and_dates_in_the_browsers_locale(shift: Shift) -> None:
    s = shift
    task_id = seed_task(s.store, s.clock)
    with s.store.write() as session:
        session.get_one(TaskRow, task_id).reasons = ["negative sentiment (90% confident)", "recent: posted 5 min ago",
                                                     "rule negative"]
    alice = s.signed_in("alice")
    german = alice.get(f"/tasks/{task_id}", headers={"Accept-Language": "de-DE,de;q=0.9"}).text
    assert "<li>negative Stimmung (90 % sicher)</li>" in german and "<li>neu: vor 5 Min. veröffentlicht</li>" in german
    assert "05.01.2026" in german
    british = alice.get(f"/tasks/{task_id}", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    american = alice.get(f"/tasks/{task_id}", headers={"Accept-Language": "en-US,en;q=0.8"}).text
    assert "5 Jan 2026" in british and "Jan 5, 2026" in american
    assert "<li>negative sentiment (90% confident)</li>" in british
