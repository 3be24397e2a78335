"""One conversation per customer: a new complaint from a contact with an open task joins it as a follow-up
(within `task.join`), raising its priority and keeping the stricter deadline; after the window, after the task
closed, or with `join = "off"`, a new task opens. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from listener.clock import FakeClock
from listener.config import ConfigError
from listener.contacts.hooks import FollowUp, on_follow_up, remove_follow_up_hook
from listener.contacts.models import TaskFollowUp
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, TaskEvent, TaskRow
from tests.contacts.support import act_on, complaint, platform, say, score_and_act, settings


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    upgrade(store)
    yield store
    store.dispose()


def tasks(store: Store) -> list[TaskRow]:
    with store.read() as session:
        return list(session.scalars(select(TaskRow).order_by(TaskRow.id)))


def test_a_second_complaint_joins_the_open_task(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum = platform("discourse", "forum", clock)
    first_mention, task_id = complaint(db, cfg, clock, forum, "kundin_77")
    created = clock.now()
    clock.advance(timedelta(hours=5))
    seen: list[FollowUp] = []
    hook = on_follow_up(lambda session, follow_up: seen.append(follow_up))
    try:
        second_mention, joined = complaint(db, cfg, clock, forum, "Kundin_77", urgency="P1", text="Acme, still waiting")
    finally:
        remove_follow_up_hook(hook)
    assert joined == task_id
    assert len(seen) == 1 and seen[0].mention.id == second_mention and seen[0].priority_raised_from == "P2"
    [task] = tasks(db)
    assert task.priority == "P1"  # the follow-up was more urgent
    assert task.due_at == created + timedelta(hours=1)  # the original deadline was already stricter …
    with db.read() as session:
        follow_up = session.scalars(select(TaskFollowUp)).one()
        assert (follow_up.task_id, follow_up.mention_id, follow_up.via, follow_up.rule) == (
            task_id, second_mention, "join", "urgent")
        event = session.scalars(select(TaskEvent).where(TaskEvent.action == "follow_up")).one()
        assert event.actor == "listener" and f"mention #{second_mention}" in (event.detail or "")
        assert "P2 → P1" in (event.detail or "")
    assert first_mention != second_mention


def test_the_deadline_becomes_the_stricter_one(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum = platform("discourse", "forum", clock)
    _, task_id = complaint(db, cfg, clock, forum, "kundin_77")  # P2, first response within 1 h
    clock.advance(timedelta(minutes=10))
    complaint(db, cfg, clock, forum, "kundin_77", urgency="P1")  # P1: within 15 min, i.e. 25 min after the first
    [task] = tasks(db)
    assert task.due_at == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=5))
    complaint(db, cfg, clock, forum, "kundin_77")  # a later, laxer deadline changes nothing
    [task] = tasks(db)
    assert task.due_at == clock.now() + timedelta(minutes=10) and task.priority == "P1"


def test_after_the_window_a_new_task_opens(db: Store, clock: FakeClock) -> None:
    cfg = settings(join="72h")
    forum = platform("discourse", "forum", clock)
    _, first = complaint(db, cfg, clock, forum, "kundin_77")
    clock.advance(timedelta(hours=48))
    _, joined = complaint(db, cfg, clock, forum, "kundin_77")  # within 72 h
    clock.advance(timedelta(hours=71))  # 119 h after the task opened, 71 h after the customer's last word
    _, still = complaint(db, cfg, clock, forum, "kundin_77")
    clock.advance(timedelta(hours=73))  # silence longer than the window
    _, second = complaint(db, cfg, clock, forum, "kundin_77")
    assert first == joined == still != second
    assert [t.id for t in tasks(db)] == [first, second]


def test_join_off_opens_a_task_per_complaint(db: Store, clock: FakeClock) -> None:
    cfg = settings(join="off")
    cfg.rule = [r for r in cfg.rule if r.name == "negative"]
    forum = platform("discourse", "forum", clock)
    _, a = complaint(db, cfg, clock, forum, "kundin_77")
    _, b = complaint(db, cfg, clock, forum, "kundin_77")
    assert a != b


def test_a_closed_task_takes_no_follow_ups_and_other_people_do_not_join(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum, reddit = platform("discourse", "forum", clock), platform("reddit", "reddit", clock)
    _, first = complaint(db, cfg, clock, forum, "kundin_77")
    _, other_person = complaint(db, cfg, clock, forum, "someone_else")
    _, same_name_elsewhere = complaint(db, cfg, clock, reddit, "kundin_77")  # not linked: not the same contact
    assert len({first, other_person, same_name_elsewhere}) == 3
    with db.write() as session:
        session.get_one(TaskRow, first).status = "resolved"
    _, again = complaint(db, cfg, clock, forum, "kundin_77")
    assert again not in (first, other_person, same_name_elsewhere)


def test_a_responded_task_still_hears_from_the_customer(db: Store, clock: FakeClock) -> None:
    """'responded' is open: the customer's answer to our reply belongs to the same conversation."""
    cfg = settings()
    forum = platform("discourse", "forum", clock)
    _, first = complaint(db, cfg, clock, forum, "kundin_77")
    with db.write() as session:
        session.get_one(TaskRow, first).status = "responded"
    _, reply = complaint(db, cfg, clock, forum, "kundin_77")
    assert reply == first


def test_a_mention_no_rule_matches_joins_nothing(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum = platform("discourse", "forum", clock)
    complaint(db, cfg, clock, forum, "kundin_77")
    cfg.rule = []
    mention = say(db, forum, clock, "kundin_77", "Thanks Acme, all sorted")
    assert score_and_act(db, cfg, clock, mention) is None
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(TaskFollowUp)) == 0


def test_join_settings() -> None:
    assert settings(join="off").rule[0].task.join == timedelta(0)
    assert settings(join="0").rule[0].task.join == timedelta(0)
    assert settings(join=None).rule[0].task.join == timedelta(hours=72)  # on by default
    assert settings(join="1d").rule[0].task.join == timedelta(days=1)
    with pytest.raises(ConfigError, match=r"rule\[0\]\.task\.join"):
        settings(join="sometimes")


@pytest.mark.postgres
def test_two_nodes_acting_on_one_contact_at_once_open_one_task(postgres_url: str, clock: FakeClock) -> None:
    """Node A acts on a complaint and has not committed yet; node B acts on the same customer's next complaint. B
    waits on the contact's row lock (checked in pg_locks, not by timing), then sees A's task and joins it."""
    store = Store(postgres_url)
    upgrade(store)
    cfg = settings()
    forum = platform("discourse", "forum", clock)
    first, second = (say(store, forum, clock, "kundin_77", f"Acme complaint number {n} about my account {n}")
                     for n in (1, 2))
    acted, results = threading.Event(), dict[str, object]()

    def node_b() -> None:
        acted.wait(10)
        action = score_and_act(store, cfg, clock, second)
        results["b"] = (action.task.id, action.follow_up is not None) if action else None

    b = threading.Thread(target=node_b)
    b.start()
    with store.write() as session:  # node A, one transaction
        mention = session.get_one(MentionRow, first)
        action = act_on(session, cfg, mention, clock)
        assert action is not None and action.follow_up is None
        results["a"] = action.task.id
        acted.set()
        for _ in range(500):  # until B waits for the lock A holds (asked on another connection: A's own
            with store.engine.connect() as watcher:  # transaction would see one cached snapshot of the activity)
                waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                                               "'Lock' AND datname = current_database()")).scalar()
            if waiting:
                break
            time.sleep(0.02)
        assert waiting, "node B never waited for the contact's lock"
    b.join(20)
    assert results["b"] == (results["a"], True)
    assert len(tasks(store)) == 1
    store.dispose()
