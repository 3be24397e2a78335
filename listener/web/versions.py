"""What changed on a task since a page showed it, so that two agents never act on it blind.

A task's version is the id of the last entry in its activity log (0: none yet): every action writes one
(listener/acting/activity.py). A page carries the version it showed; an action sent with an older version, when
someone *else* acted meanwhile, is refused and the page says what happened instead (`stale_message`). An open
task page asks `/tasks/{id}/changes?since=V` every `refresh` and shows a notice when someone else acted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.store.models import TaskEvent
from listener.web.i18n import Formatter

LABELS = {"ack": "acknowledged it", "respond": "marked it responded", "resolve": "resolved it",
          "dismiss": "dismissed it as a false alarm", "assign": "assigned it to {detail}", "note": "added a note",
          "label": "corrected the verdict", "reopen": "reopened it", "create": "created it"}
UNASSIGNED = "assigned it to nobody"


@dataclass(frozen=True)
class Change:
    actor: str
    action: str
    detail: str | None
    at: datetime


def task_version(session: Session, task_id: int) -> int:
    return int(session.scalar(select(func.max(TaskEvent.id)).where(TaskEvent.task_id == task_id)) or 0)


def versions(session: Session, task_ids: Iterable[int]) -> dict[int, int]:
    ids = list(task_ids)
    if not ids:
        return {}
    query = select(TaskEvent.task_id, func.max(TaskEvent.id)).where(TaskEvent.task_id.in_(ids)) \
        .group_by(TaskEvent.task_id)
    found = {task_id: int(version) for task_id, version in session.execute(query)}
    return {task_id: found.get(task_id, 0) for task_id in ids}


def changes_by_others(session: Session, task_id: int, since: int, me: str) -> list[Change]:
    query = (select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.id > since, TaskEvent.actor != me)
             .order_by(TaskEvent.id).limit(20))
    return [Change(e.actor, e.action, e.detail, e.at) for e in session.scalars(query)]


def describe(changes: list[Change], fmt: Formatter) -> str:
    """"anna acknowledged it (5 minutes ago); ben resolved it (just now)" in the reader's language."""
    parts = []
    for change in changes:
        label = UNASSIGNED if change.action == "assign" and not change.detail else \
            LABELS.get(change.action, change.action)
        what = fmt.gettext(label).format(detail=change.detail or "")
        parts.append(f"{change.actor} {what} ({fmt.when(change.at)})")
    return "; ".join(parts)


def stale_message(changes: list[Change], fmt: Formatter) -> str:
    return fmt.gettext("Since you opened this task: {changes}. Nothing was changed; check the task and try again."
                       ).format(changes=describe(changes, fmt))
