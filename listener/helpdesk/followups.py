"""The customer wrote again: a mention joined to a task (issue #24, one conversation per customer) goes into the
task's ticket as a post, through the outbox like every alert.

`enqueue_followups` is called in the transaction that joins the mention; it writes one outbox row of kind
"followup" per helpdesk channel the task was handed to (or is being handed to), keyed by task, mention and
channel so it is written and delivered once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import AlertRow, HandoffRow, MentionRow, TaskRow


def helpdesk_channels_of(session: Session, task_id: int, helpdesks: Iterable[str]) -> list[str]:
    """The helpdesk channels (of those named) this task was announced to or handed to."""
    names = set(helpdesks)
    announced = session.scalars(select(AlertRow.channel).where(AlertRow.task_id == task_id,
                                                               AlertRow.channel.in_(names)))
    handed = session.scalars(select(HandoffRow.channel).where(HandoffRow.task_id == task_id))
    return sorted(set(announced) | (set(handed) & names))


def enqueue_followups(session: Session, task: TaskRow, mention: MentionRow, helpdesks: Iterable[str],
                      now: datetime) -> list[AlertRow]:
    """Outbox rows adding `mention` to `task`'s tickets; `helpdesks`: the names of the helpdesk channels."""
    rows = []
    for channel in helpdesk_channels_of(session, task.id, helpdesks):
        key = f"task-{task.id}-followup-{mention.id}-{channel}"
        if session.scalar(select(AlertRow.id).where(AlertRow.idempotency_key == key)) is None:
            rows.append(AlertRow(idempotency_key=key, task_id=task.id, mention_id=mention.id, channel=channel,
                                 kind="followup", status="pending", attempts=0, created_at=now,
                                 next_attempt_at=now))
    session.add_all(rows)
    return rows
