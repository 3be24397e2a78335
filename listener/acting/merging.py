"""An agent merges one open task into another: one conversation, one task.

The merged task closes with status `merged` (and a `task_merges` row naming the task it went into); its mention and
its follow-ups become follow-ups of the other task, which takes the more urgent priority and the earlier deadline of
the two (the merged one's deadline only while it still waited for a first response). Both tasks' activity logs say
who did it. The follow-up hooks run for each mention that moved (listener/contacts/hooks.py). Tasks of different
contacts can be merged too: the agent knows best — linking the contacts is a separate step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.activity import record
from listener.acting.joining import add_follow_up
from listener.acting.tasks import OPEN_STATES, TaskError
from listener.contacts.lookup import contact_of_mention
from listener.contacts.models import TaskFollowUp, TaskMerge
from listener.store.models import MentionRow, TaskRow

MERGED = "merged"
WAITING = ("open", "acknowledged")


def merge_tasks(session: Session, from_id: int, into_id: int, actor: str, now: datetime) -> TaskRow:
    """Close task `from_id` as merged into `into_id`; its mentions follow. Returns the task that remains."""
    if from_id == into_id:
        raise TaskError("a task cannot be merged into itself")
    source, target = session.get(TaskRow, from_id), session.get(TaskRow, into_id)
    for task_id, task in ((from_id, source), (into_id, target)):
        if task is None:
            raise TaskError(f"no task #{task_id}")
        if task.status not in OPEN_STATES:
            raise TaskError(f"task #{task_id} is {task.status}; only open tasks can be merged")
    assert source is not None and target is not None
    moving = [session.get_one(MentionRow, source.mention_id)] + list(session.scalars(
        select(MentionRow).join(TaskFollowUp, TaskFollowUp.mention_id == MentionRow.id)
        .where(TaskFollowUp.task_id == source.id).order_by(TaskFollowUp.joined_at, TaskFollowUp.id)))
    contact = contact_of_mention(session, target.mention_id)
    deadline = source.due_at if source.status in WAITING else None
    before = target.priority
    for n, mention in enumerate(moving):
        add_follow_up(session, target, mention, contact.id if contact else None, "merge", now, source.rule,
                      source.priority, deadline if n == 0 else None, "", merged_from=source.id, actor=actor,
                      log=False)
    source.status, source.closed_at = MERGED, now
    source.acknowledged_at = source.acknowledged_at or now
    session.add(TaskMerge(from_task_id=source.id, into_task_id=target.id, merged_by=actor, merged_at=now))
    raised = f"; priority {before} → {target.priority}" if target.priority != before else ""
    record(session, target.id, actor, "merge", f"task #{source.id} merged into this one "
                                               f"({len(moving)} mention{'s' if len(moving) != 1 else ''}){raised}", now)
    record(session, source.id, actor, "merged", f"merged into task #{target.id}", now)
    session.flush()
    return target


def merged_into(session: Session, task_id: int) -> int | None:
    """The task this one was merged into, if it was."""
    return session.scalar(select(TaskMerge.into_task_id).where(TaskMerge.from_task_id == task_id))


def merged_from(session: Session, task_id: int) -> list[int]:
    """The tasks merged into this one."""
    return list(session.scalars(select(TaskMerge.from_task_id).where(TaskMerge.into_task_id == task_id)
                                .order_by(TaskMerge.merged_at)))
