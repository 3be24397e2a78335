"""The response-time figures per agent credit whoever answered, resolved or dismissed a task (its activity log),
not whoever it was assigned to (listener/acting/actors.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from listener.acting.activity import assign, perform
from listener.acting.report import response_report
from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from tests.web_support import SECRET_ENV, add_users, seed_task, serving, sign_in, web_settings


def test_anna_gets_the_credit_for_answering_bens_tasks(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(database_url)
    upgrade(store)
    clock = FakeClock()
    answered, resolved, dismissed, waiting = (seed_task(store, clock, due_in=timedelta(minutes=15))
                                              for _ in range(4))
    with store.write() as session:
        for task_id in (answered, resolved, dismissed, waiting):
            assign(session, task_id, "ben", "lead", clock.now())
        perform(session, answered, "respond", "anna", clock.now() + timedelta(minutes=10), "sorry, on it")
        perform(session, answered, "resolve", "ben", clock.now() + timedelta(minutes=50))  # later: not the answer
        perform(session, resolved, "resolve", "ben", clock.now() + timedelta(minutes=30))
        perform(session, dismissed, "dismiss", "anna", clock.now() + timedelta(minutes=2))
    clock.advance(timedelta(hours=1))
    with store.read() as session:
        report = response_report(session, [], clock.now())
    figures = {name: (f.created, f.responded, f.dismissed, f.open, f.met_deadline, f.missed_deadline)
               for name, f in report.per_agent.items()}
    # anna: answered one in 10 minutes (in time) and dismissed one; ben: resolved one late, one still waits
    assert figures == {"anna": (2, 1, 1, 0, 1, 0), "ben": (2, 1, 0, 1, 0, 2)}
    assert report.per_agent["anna"].first_response_calendar.median == 600

    monkeypatch.setenv(SECRET_ENV, "actors-test-secret")
    add_users(store, clock, lea="lead")
    with serving(web_settings(database_url), store, clock) as base, httpx.Client(base_url=base) as client:
        sign_in(client, "lea")
        page = client.get("/report?days=7").text
    rows = re.findall(r'<tr><th scope="row">agent (\w+)</th><td>(\d+)</td><td>(\d+)</td>', page)
    assert rows == [("anna", "2", "1"), ("ben", "2", "1")]  # tasks, responded
    store.dispose()
