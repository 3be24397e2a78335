"""What the care team does to a task, recorded with who and when: one code path for the CLI and the care inbox.

Every workflow step (listener/acting/tasks.py: `transition`), assignment, note and verdict correction writes a
`task_events` row in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.tasks import TaskError, reopen, transition
from listener.acting.tasks import assign as assign_task
from listener.labels import label_mention
from listener.store.models import TaskEvent, TaskRow

NOTE_LIMIT = 10_000


def record(session: Session, task_id: int, actor: str, action: str, detail: str | None, now: datetime) -> TaskEvent:
    event = TaskEvent(task_id=task_id, at=now, actor=actor, action=action, detail=detail)
    session.add(event)
    return event


def _task(session: Session, task_id: int) -> TaskRow:
    task = session.get(TaskRow, task_id)
    if task is None:
        raise TaskError(f"no task #{task_id}")
    return task


def perform(session: Session, task_id: int, action: str, actor: str, now: datetime,
            note: str | None = None) -> TaskRow:
    """ack | respond | resolve | dismiss | reopen, as `listener tasks ACTION` does; the note (for `respond`: the
    reply text or its link) is kept with the task and in the log."""
    note = (note or "").strip()[:NOTE_LIMIT] or None
    task = reopen(session, task_id, now) if action == "reopen" else transition(session, task_id, action, now, note)
    record(session, task_id, actor, action, note, now)
    return task


def assign(session: Session, task_id: int, assignee: str | None, actor: str, now: datetime) -> TaskRow:
    """Give the task to `assignee` (None: nobody), as `listener tasks assign` does."""
    task = assign_task(session, task_id, assignee)
    record(session, task_id, actor, "assign", task.assignee, now)
    return task


def add_note(session: Session, task_id: int, text: str, actor: str, now: datetime) -> None:
    text = text.strip()[:NOTE_LIMIT]
    if not text:
        raise TaskError("the note is empty")
    _task(session, task_id)
    record(session, task_id, actor, "note", text, now)


def correct_verdict(session: Session, task_id: int, sentiment: str, service_categories: Sequence[str], actor: str,
                    now: datetime) -> None:
    """The care team's verdict on the task's mention, stored as the label `listener nlp train` learns from."""
    task = _task(session, task_id)
    label_mention(session, task.mention_id, sentiment, service_categories, actor, now)
    detail = sentiment + (f", service: {', '.join(service_categories)}" if service_categories else "")
    record(session, task_id, actor, "label", detail, now)


def events(session: Session, task_id: int) -> list[TaskEvent]:
    return list(session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                .order_by(TaskEvent.at, TaskEvent.id)))
