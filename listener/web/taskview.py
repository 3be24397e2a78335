"""What the task page shows: the mention, why it was flagged, copies, the contact and its history, the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.activity import events
from listener.acting.rules import RuleSettings
from listener.contacts.history import HistoryEntry, contact_history
from listener.domain import WAITING_STATES
from listener.store.models import (
    MentionRow,
    ReplyTemplate,
    TaskEvent,
    TaskRow,
    UserRow,
)
from listener.web.contacts import ContactPanel, contact_panel

HISTORY_LIMIT = 30


@dataclass
class TaskView:
    task: TaskRow
    mention: MentionRow
    assignee: str | None
    copies: list[MentionRow]
    history: list[HistoryEntry]
    log: list[TaskEvent]
    templates: list[ReplyTemplate]
    assignable: list[str]
    contact: ContactPanel


def copies_of(session: Session, mention: MentionRow) -> list[MentionRow]:
    """The near-duplicates linked to this mention, or its canonical copy and that one's other copies."""
    root = mention.canonical_id or mention.id
    query = select(MentionRow).where(MentionRow.canonical_id == root, MentionRow.id != mention.id)
    copies = list(session.scalars(query.order_by(MentionRow.id).limit(50)))
    canonical = session.get(MentionRow, mention.canonical_id) if mention.canonical_id else None
    return ([canonical] if canonical else []) + copies


def task_history(session: Session, panel: ContactPanel, mention: MentionRow) -> list[HistoryEntry]:
    """The contact's history (every identity, links followed; listener/contacts/history.py) without the task's
    own mention, which the page shows above it."""
    if panel.contact is None:
        return []
    return contact_history(session, panel.contact.id, frozenset({mention.id}), HISTORY_LIMIT)


def reply_templates(session: Session, mention: MentionRow) -> list[ReplyTemplate]:
    score = mention.score
    categories = list(score.categories) if score else []
    language = score.language if score else None
    query = select(ReplyTemplate).where(ReplyTemplate.category.in_(["", *categories]))
    if language:
        query = query.where(ReplyTemplate.language == language)
    return sorted(session.scalars(query), key=lambda t: (t.category == "", t.name))


def task_view(session: Session, task_id: int) -> TaskView | None:
    task = session.get(TaskRow, task_id)
    if task is None:
        return None
    mention = task.mention
    assignable = list(session.scalars(select(UserRow.name).where(UserRow.disabled.is_(False),
                                                                 UserRow.role.in_(["agent", "lead"]))
                                      .order_by(UserRow.name)))
    panel = contact_panel(session, task)
    return TaskView(task, mention, task.assignee, copies_of(session, mention), task_history(session, panel, mention),
                    events(session, task_id), reply_templates(session, mention), assignable, panel)


def business_time_left(task: TaskRow, rules: list[RuleSettings], now: datetime) -> float | None:
    """Business time until the deadline when the task's rule counts business hours (None otherwise, or once
    answered/overdue: then the clock time says it all)."""
    rule = next((r for r in rules if r.name == task.rule), None)
    calendar = rule.task.calendar if rule else None
    if calendar is None or task.due_at is None or task.due_at <= now or task.status not in WAITING_STATES:
        return None
    return calendar.between(now, task.due_at).total_seconds()


def time_left(task: TaskRow, now: datetime) -> float | None:
    """Seconds until the first-response deadline (negative: overdue); None once answered or closed."""
    if task.due_at is None or task.status not in WAITING_STATES:
        return None
    return (task.due_at - now).total_seconds()
