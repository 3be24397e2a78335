"""Retention and conversations: a follow-up of an open task stays however old it is; a merged task's mention stays
while the task it went into is open; once that task is closed long enough, its mention, its follow-ups and the
merged task go together, and an identity left without mentions goes with its handle and profile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from listener.acting.merging import merge_tasks
from listener.clock import FakeClock
from listener.contacts.models import Contact, Identity, TaskFollowUp
from listener.ops.retention import RetentionSettings, run_retention
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, TaskRow
from tests.contacts.support import complaint, platform, settings


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    upgrade(store)
    yield store
    store.dispose()


def mention_ids(store: Store) -> set[int]:
    with store.read() as session:
        return set(session.scalars(select(MentionRow.id)))


def test_conversations_age_together(db: Store, clock: FakeClock) -> None:
    cfg = settings(join="1000d")  # one long conversation
    forum, reddit = platform("discourse", "forum", clock), platform("reddit", "reddit", clock)
    first, task = complaint(db, cfg, clock, forum, "kundin_77")
    other, other_task = complaint(db, cfg, clock, reddit, "kundin77")
    clock.advance(timedelta(days=450))
    follow_up, joined = complaint(db, cfg, clock, forum, "kundin_77")
    assert joined == task
    with db.write() as session:
        merge_tasks(session, other_task, task, "anna", clock.now())
    keep = RetentionSettings.model_validate({"other": "400d", "neutral": "90d", "closed_tasks": "30d"})
    clock.advance(timedelta(days=100))  # the merged task closed 100 days ago, the first mention is 550 days old
    report = run_retention(db, keep, clock.now())
    assert {first, other, follow_up} <= mention_ids(db), report  # the open task holds its whole conversation

    with db.write() as session:
        closed = session.get_one(TaskRow, task)
        closed.status, closed.closed_at = "resolved", clock.now()
    clock.advance(timedelta(days=29))
    run_retention(db, keep, clock.now())
    assert {first, other, follow_up} <= mention_ids(db)
    clock.advance(timedelta(days=2))
    report = run_retention(db, keep, clock.now())
    assert not {first, other, follow_up} & mention_ids(db)
    assert report.mentions["closed_tasks"] == 3 and report.tasks == 2
    with db.read() as session:
        assert session.scalars(select(TaskRow)).all() == []
        assert session.scalars(select(TaskFollowUp)).all() == []
        assert session.scalars(select(Identity)).all() == []  # handles and profiles go with the last mention
        assert all(c.erased_at is not None for c in session.scalars(select(Contact)))
