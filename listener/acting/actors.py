"""Who answered a task, from its activity log: the agent credited in the response-time figures per agent.

The first `respond`, `resolve` or `dismiss` in a task's log is the answer that ended its wait; whoever did it
(in the care inbox or with `listener tasks … --by NAME`) gets the credit, whoever the task was assigned to. A task
nobody has answered yet belongs to its assignee's backlog.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import TaskEvent, TaskRow

ANSWERS = ("respond", "resolve", "dismiss")
NOBODY = "(unassigned)"


def answered_by(session: Session, until: datetime, since: datetime | None = None) -> dict[int, str]:
    """Task id → the actor of its first answer, for the tasks created in [since, until]."""
    query = (select(TaskEvent.task_id, TaskEvent.actor).join(TaskRow, TaskRow.id == TaskEvent.task_id)
             .where(TaskEvent.action.in_(ANSWERS), TaskRow.created_at <= until)
             .order_by(TaskEvent.at, TaskEvent.id))
    if since is not None:
        query = query.where(TaskRow.created_at >= since)
    first: dict[int, str] = {}
    for task_id, actor in session.execute(query):
        first.setdefault(task_id, actor)
    return first


def credited(task: TaskRow, answers: dict[int, str]) -> str:
    """The agent a task's figures count for: who answered it, else (still waiting) its assignee."""
    return answers.get(task.id) or task.assignee or NOBODY
