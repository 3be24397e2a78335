"""The customer wrote again: a mention joined to a task (listener/contacts/joining.py, one conversation per
customer) goes into the task's ticket, through the outbox like every alert.

`hand_follow_up` is registered as a contacts follow-up hook: in the transaction that joins the mention it writes
one outbox row of kind "followup" per helpdesk channel the task was handed to, keyed by task, mention and channel so
it is written and delivered once. A mention that joined before the task's first hand-off is posted when the ticket
opens (listener/delivery/helpdesk/handoff.py reads `joined_mentions`), under the same key, so never twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.contacts.hooks import FollowUp, on_follow_up
from listener.contacts.models import TaskFollowUp
from listener.store.models import AlertRow, HandoffRow, MentionRow, TaskRow


def followup_key(task_id: int, mention_id: int, channel: str) -> str:
    return f"task-{task_id}-followup-{mention_id}-{channel}"


def enqueue_followups(session: Session, task: TaskRow, mention: MentionRow, channels: Iterable[str],
                      now: datetime) -> list[AlertRow]:
    """Outbox rows adding `mention` to `task`'s tickets on `channels` (helpdesk channel names)."""
    rows = []
    for channel in dict.fromkeys(channels):
        key = followup_key(task.id, mention.id, channel)
        if session.scalar(select(AlertRow.id).where(AlertRow.idempotency_key == key)) is None:
            rows.append(AlertRow(idempotency_key=key, task_id=task.id, mention_id=mention.id, channel=channel,
                                 kind="followup", status="pending", attempts=0, created_at=now,
                                 next_attempt_at=now))
    session.add_all(rows)
    return rows


@on_follow_up
def hand_follow_up(session: Session, follow_up: FollowUp) -> None:
    """Every ticket the task has (or is being opened) hears of the mention."""
    channels = session.scalars(select(HandoffRow.channel).where(HandoffRow.task_id == follow_up.task.id,
                                                                HandoffRow.state.in_(("opening", "open"))))
    enqueue_followups(session, follow_up.task, follow_up.mention, list(channels), follow_up.at)


def joined_mentions(session: Session, task_id: int) -> list[MentionRow]:
    """The mentions that joined the task, oldest first."""
    return list(session.scalars(select(MentionRow).join(TaskFollowUp, TaskFollowUp.mention_id == MentionRow.id)
                                .where(TaskFollowUp.task_id == task_id)
                                .order_by(TaskFollowUp.joined_at, TaskFollowUp.id)))
