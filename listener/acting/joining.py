"""One conversation per customer: a mention that would open a task joins its contact's open task instead.

Called by `alerts.tasks.act` inside the scoring transaction, before a task would be created. The mention joins when
its contact (any identity, links followed) has an open task (open, acknowledged or responded) that heard from them
— its own mention or a follow-up — within the rule's `task.join` window. The follow-up goes into the task's log;
the task takes the more urgent priority and the earlier first-response deadline of the two; no second alert is
sent (hooks in listener/contacts/hooks.py can add outbox rows). With several such tasks, the most recently active
one takes it.

On PostgreSQL the contact's row is locked first, so two nodes scoring two mentions of one contact at once do not
both open a task; SQLite serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from listener.acting.rules import URGENCY_RANK
from listener.contacts.hooks import FollowUp, run_follow_up_hooks
from listener.contacts.ingest import link_row
from listener.contacts.lookup import live_contact, mention_ids_of
from listener.contacts.models import Contact, TaskFollowUp
from listener.store.models import MentionRow, TaskEvent, TaskRow

SYSTEM_ACTOR = "listener"


def open_tasks_of(session: Session, contact_id: int, open_states: Collection[str]) -> list[tuple[TaskRow, datetime]]:
    """The contact's open tasks, each with when it last heard from the contact, most recent first."""
    mentions = mention_ids_of(contact_id)
    joined = select(TaskFollowUp.task_id).where(TaskFollowUp.mention_id.in_(mentions))
    tasks = list(session.scalars(select(TaskRow).where(TaskRow.status.in_(list(open_states)),
                                                       or_(TaskRow.mention_id.in_(mentions), TaskRow.id.in_(joined)))))
    if not tasks:
        return []
    latest = dict(session.execute(select(TaskFollowUp.task_id, func.max(TaskFollowUp.joined_at))
                                  .where(TaskFollowUp.task_id.in_([t.id for t in tasks]))
                                  .group_by(TaskFollowUp.task_id)).all())
    active = [(t, max(t.created_at, latest[t.id]) if latest.get(t.id) else t.created_at) for t in tasks]
    return sorted(active, key=lambda pair: (pair[1], pair[0].id), reverse=True)


def add_follow_up(session: Session, task: TaskRow, mention: MentionRow, contact_id: int | None, via: str,
                  now: datetime, rule: str | None, priority: str | None, deadline: datetime | None, detail: str,
                  merged_from: int | None = None, actor: str = SYSTEM_ACTOR, log: bool = True) -> FollowUp:
    """Record `mention` as a follow-up of `task`: the stricter priority and deadline, the log entry (unless the
    caller writes its own), the hooks."""
    existing = session.scalar(select(TaskFollowUp).where(TaskFollowUp.mention_id == mention.id))
    if existing is None:
        session.add(TaskFollowUp(task_id=task.id, mention_id=mention.id, joined_at=now, via=via, rule=rule,
                                 priority=priority, merged_from_task_id=merged_from))
    else:  # a follow-up of a task now merged into this one
        existing.task_id, existing.via, existing.merged_from_task_id = task.id, via, merged_from
    raised_from = None
    if priority in URGENCY_RANK and URGENCY_RANK[priority] < URGENCY_RANK.get(task.priority, 9):
        raised_from, task.priority = task.priority, priority
        detail += f"; priority {raised_from} → {priority}"
    if deadline is not None and (task.due_at is None or deadline < task.due_at):
        task.due_at = deadline
    if log:
        session.add(TaskEvent(task_id=task.id, at=now, actor=actor, action="follow_up", detail=detail))
    session.flush()
    follow_up = FollowUp(task, mention, contact_id, via, now, raised_from, merged_from)
    run_follow_up_hooks(session, follow_up)
    return follow_up


def join_open_task(session: Session, mention: MentionRow, rule: str, priority: str, window: timedelta,
                   deadline: datetime, open_states: Collection[str], now: datetime) -> FollowUp | None:
    """Join `mention` to its contact's open task active within `window`; None when it opens a task of its own."""
    if not window:
        return None
    identity = link_row(session, mention, now)
    if identity is None:
        return None
    contact = live_contact(session, identity.contact_id)
    assert contact is not None
    # Serialise concurrent scorers of the same contact (PostgreSQL; a no-op on SQLite, whose writers queue anyway).
    session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update())
    candidates = [(task, last) for task, last in open_tasks_of(session, contact.id, open_states)
                  if task.mention_id != mention.id and last >= now - window]
    if not candidates:
        return None
    task = candidates[0][0]
    detail = f"mention #{mention.id} ({mention.source_kind}, rule {rule}, {priority})"
    return add_follow_up(session, task, mention, contact.id, "join", now, rule, priority, deadline, detail)
